"""The documents Virtool's own web client (7.12.0) validates: exact shapes, from its zod schemas and components."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analyses.models import Analysis
from jobs.constants import JobState
from jobs.models import Job
from samples.models import Sample
from subtractions.models import Subtraction
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def make_job(user, workflow: str, state: str = JobState.RUNNING, progress: int = 40) -> Job:
    return Job.objects.create(workflow=workflow, size="small", proc=1, mem=1, state=state, progress=progress, user=user)


def job_document(job: Job) -> dict:
    """The client's nested job schema (`types-*.js`): v1 state names, `user: {id, handle}` required."""
    return {
        "id": job.pk,
        "created_at": job.created_at.isoformat().replace("+00:00", "Z"),
        "progress": job.progress,
        "state": job.state,
        "user": {"id": job.user.pk, "handle": job.user.handle},
        "workflow": job.workflow,
    }


def test_analyses_carry_the_full_job_summary(make_user):
    ada = make_user("ada", permissions=["create_sample"])
    sample = Sample.objects.create(name="Leaf", user=ada, ready=True, all_read=True, all_write=True)
    jobs = [make_job(ada, "pathoscope_bowtie", progress=10 * n) for n in range(3)]
    analyses = [Analysis.objects.create(sample=sample, user=ada, job=job, workflow=job.workflow) for job in jobs]
    client = client_for(ada)
    detail = client.get(f"/api/analyses/{analyses[0].pk}").json()
    assert detail["job"] == job_document(jobs[0])
    with CaptureQueriesContext(connection) as few:
        client.get(f"/api/samples/{sample.pk}/analyses")
    Analysis.objects.create(sample=sample, user=ada, job=make_job(make_user("bo"), "nuvs"), workflow="nuvs")
    with CaptureQueriesContext(connection) as more:
        listed = client.get(f"/api/samples/{sample.pk}/analyses").json()["documents"]
    # The job's user comes with the list's one query, not one query per analysis.
    assert len(more) == len(few)
    assert {a["id"]: a["job"] for a in listed}[analyses[1].pk] == job_document(jobs[1])
    assert all(set(a["job"]) == {"id", "created_at", "progress", "state", "user", "workflow"} for a in listed)


def test_subtractions_carry_the_full_job_summary(make_user):
    ada = make_user("ada")
    job = make_job(ada, "create_subtraction", state=JobState.WAITING, progress=3)
    subtraction = Subtraction.objects.create(name="Grapevine", user=ada, job=job)
    Subtraction.objects.create(name="Arabidopsis", user=ada, job=make_job(ada, "create_subtraction"))
    client = client_for(ada)
    assert client.get(f"/api/subtractions/{subtraction.pk}").json()["job"] == job_document(job)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/subtractions")
    Subtraction.objects.create(name="Tomato", user=ada, job=make_job(make_user("bo"), "create_subtraction"))
    with CaptureQueriesContext(connection) as more:
        listed = client.get("/api/subtractions").json()["documents"]
    assert len(more) == len(few)
    assert {s["name"]: s["job"] for s in listed}["Grapevine"] == job_document(job)
