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


USER_KEYS = {
    "id",
    "handle",
    "active",
    "administrator_role",
    "force_reset",
    "groups",
    "primary_group",
    "permissions",
    "last_password_change",
}


@pytest.mark.parametrize("path", ["/api/users", "/api/admin/users"])
def test_user_lists_answer_items_and_documents_with_the_clients_filters(admin_client, make_user, path):
    from django.contrib.auth.models import Group

    lab = Group.objects.create(name="lab")
    make_user("fred", role="users", primary_group=lab)
    make_user("freda").groups.add(lab)
    make_user("gone", is_active=False)
    # The users page: `?page=1&per_page=25&term=&active=true`; it reads items, page and page_count.
    body = admin_client.get(f"{path}?page=1&per_page=25&term=&active=true").json()
    assert set(body) == {"items", "documents", "found_count", "total_count", "page", "page_count", "per_page"}
    assert body["items"] == body["documents"]
    assert [u["handle"] for u in body["items"]] == ["admin", "fred", "freda"]
    assert (body["found_count"], body["total_count"], body["page"], body["page_count"], body["per_page"]) == (
        3,
        4,
        1,
        1,
        25,
    )
    assert all(set(u) == USER_KEYS for u in body["items"])
    fred = body["items"][1]
    assert fred["administrator_role"] == "users"
    assert fred["primary_group"] == {"id": lab.pk, "name": "lab"}
    assert body["items"][2]["groups"] == [{"id": lab.pk, "name": "lab"}]
    assert body["items"][2]["primary_group"] is None
    # `term` filters like `find`; deactivated users are their own tab.
    assert [u["handle"] for u in admin_client.get(f"{path}?term=fre").json()["items"]] == ["fred", "freda"]
    assert [u["handle"] for u in admin_client.get(f"{path}?active=false").json()["items"]] == ["gone"]
    # The administrators page lists `administrator=true`; its grant dialog picks among `administrator=false`.
    admins = admin_client.get(f"{path}?page=1&per_page=25&term=&administrator=true").json()
    assert [u["handle"] for u in admins["items"]] == ["admin", "fred"]
    assert admins["found_count"] == 2
    others = admin_client.get(f"{path}?page=1&per_page=25&term=fre&administrator=false").json()
    assert [u["handle"] for u in others["items"]] == ["freda"]
    bad = admin_client.get(f"{path}?administrator=maybe")
    assert bad.status_code == 400
    assert "administrator" in str(bad.json())
