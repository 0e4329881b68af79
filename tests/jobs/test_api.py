"""The jobs API: permissions, filters and counts, cancel, remove and clear."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jobs.constants import JobState
from jobs.models import Job
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def make_job(state: str = JobState.WAITING, workflow: str = "test_three_steps", user=None) -> Job:
    return Job.objects.create(
        workflow=workflow,
        size="small",
        proc=2,
        mem=4,
        user=user,
        state=state,
        status=[
            {
                "state": state,
                "stage": None,
                "step_name": None,
                "step_description": None,
                "error": None,
                "progress": 0,
                "timestamp": timezone.now().isoformat(),
            }
        ],
    )


@pytest.fixture
def job(admin_user):
    return make_job(user=admin_user)


@pytest.fixture
def finished_job(admin_user):
    return make_job(JobState.COMPLETE, user=admin_user)


MATRIX = [
    ("get", "/api/jobs", None),
    ("get", "/api/jobs/counts", None),
    ("get", "/api/jobs/{job}", None),
    ("put", "/api/jobs/{job}/cancel", "cancel_job"),
    ("delete", "/api/jobs/{finished}", "remove_job"),
    ("delete", "/api/jobs?filter=complete", "remove_job"),
]


@pytest.mark.parametrize(("method", "path", "permission"), MATRIX)
def test_jobs_permission_matrix(anon_client, make_user, job, finished_job, method, path, permission, mocker):
    mocker.patch("jobs.services._revoke_and_clean")
    path = path.format(job=job.pk, finished=finished_job.pk)
    assert getattr(anon_client, method)(path).status_code == 401
    if permission:
        assert getattr(client_for(make_user("nobody")), method)(path).status_code == 403
    allowed = client_for(make_user("allowed", permissions=[permission] if permission else []))
    response = getattr(allowed, method)(path)
    assert 200 <= response.status_code < 300, response.content


def test_list_filters_counts_and_shape(admin_client, admin_user, make_user):
    other = make_user("other")
    make_job(JobState.RUNNING, user=admin_user)
    make_job(JobState.COMPLETE, workflow="build_index", user=other)
    make_job(JobState.ERROR, user=other)
    body = admin_client.get("/api/jobs?state=running&state=error").json()
    assert body["found_count"] == 2
    assert body["total_count"] == 3
    assert {doc["state"] for doc in body["documents"]} == {"running", "error"}
    assert body["counts"]["complete"] == {"build_index": 1}
    assert body["counts"]["waiting"] == {}
    assert set(body["documents"][0]) == {
        "id",
        "workflow",
        "state",
        "stage",
        "step_name",
        "progress",
        "created_at",
        "user",
        "ping",
        "subjects",  # ours: what the job works on, by name
    }
    by_user = admin_client.get(f"/api/jobs?user={other.pk}").json()
    assert by_user["found_count"] == 2
    assert by_user["documents"][0]["user"] == {"id": other.pk, "handle": "other"}


def test_list_bad_state_is_400_in_query_string(admin_client):
    response = admin_client.get("/api/jobs?state=bad")
    assert response.status_code == 400
    assert response.json()[0]["in"] == "query string"
    assert response.json()[0]["loc"] == ["state"]


def test_get_has_status_and_no_secret(admin_client, job):
    body = admin_client.get(f"/api/jobs/{job.pk}").json()
    assert body["status"][0]["state"] == "waiting"
    assert body["args"] == {}
    assert (body["proc"], body["mem"]) == (2, 4)
    assert "key" not in body
    assert admin_client.get("/api/jobs/nosuchjb").status_code == 404


def test_cancel_finished_job_is_409(admin_client, finished_job):
    response = admin_client.put(f"/api/jobs/{finished_job.pk}/cancel")
    assert response.status_code == 409
    assert response.json() == {"id": "conflict", "message": "Job is not running"}


def test_cancel_running_job_requests_it(admin_client, admin_user):
    running = make_job(JobState.RUNNING, user=admin_user)
    body = admin_client.put(f"/api/jobs/{running.pk}/cancel").json()
    assert body["state"] == "running"
    assert body["cancel_requested"] is True


def test_remove_active_job_is_409(admin_client, job):
    assert admin_client.delete(f"/api/jobs/{job.pk}").status_code == 409
    assert Job.objects.filter(pk=job.pk).exists()


def test_clear_removes_only_the_chosen_finished_jobs(admin_client, admin_user):
    complete = make_job(JobState.COMPLETE, user=admin_user)
    failed = make_job(JobState.ERROR, user=admin_user)
    running = make_job(JobState.RUNNING, user=admin_user)
    assert admin_client.delete("/api/jobs?filter=failed").json() == {"removed": [failed.pk]}
    assert admin_client.delete("/api/jobs?filter=finished").json() == {"removed": [complete.pk]}
    assert list(Job.objects.values_list("pk", flat=True)) == [running.pk]
    assert admin_client.delete("/api/jobs?filter=everything").status_code == 400


def test_jobs_name_what_they_work_on_with_links(admin_client, admin_user):
    """A job's `subjects`: the objects its args name, by name with their page; one query per kind for a list."""
    from references.models import Reference
    from samples.models import Sample

    sample = Sample.objects.create(name="RpRSV field 4", user=admin_user, ready=True)
    reference = Reference.objects.create(name="Plant Viruses", user=admin_user)
    job = Job.objects.create(
        workflow="pathoscope_bowtie",
        size="large",
        proc=1,
        mem=1,
        state=JobState.WAITING,
        user=admin_user,
        args={"sample_id": sample.pk, "ref_id": reference.pk, "index_id": "gone", "sample_name": "x"},
    )
    detail = admin_client.get(f"/api/jobs/{job.pk}").json()
    assert detail["subjects"] == [
        {
            "arg": "sample_id",
            "kind": "sample",
            "id": sample.pk,
            "name": "RpRSV field 4",
            "url": f"/samples/{sample.pk}",
        },
        {
            "arg": "ref_id",
            "kind": "reference",
            "id": reference.pk,
            "name": "Plant Viruses",
            "url": f"/refs/{reference.pk}",
        },
    ]
    listed = admin_client.get("/api/jobs").json()["documents"]
    assert [d["subjects"] for d in listed if d["id"] == job.pk] == [detail["subjects"]]
    sample.delete()  # a subject deleted since is left out
    assert [s["kind"] for s in admin_client.get(f"/api/jobs/{job.pk}").json()["subjects"]] == ["reference"]
