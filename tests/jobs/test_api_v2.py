"""Virtool 36.x's second jobs API (`/api/jobs/v2`): v2 state names, `items`, `counts`, claim and steps."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jobs.constants import JobState
from jobs.models import Job
from tests.conftest import client_for
from tests.jobs.test_api import make_job

pytestmark = pytest.mark.django_db


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_v2_list_maps_states_filters_repeated_states_and_counts_by_v2_state(admin_client, admin_user, make_user):
    other = make_user("other")
    waiting = make_job(JobState.WAITING, workflow="build_index", user=admin_user)
    preparing = make_job(JobState.PREPARING, workflow="create_sample", user=other)
    make_job(JobState.COMPLETE, workflow="build_index", user=admin_user)
    make_job(JobState.ERROR, workflow="nuvs", user=admin_user)
    make_job(JobState.TIMEOUT, workflow="nuvs", user=admin_user)
    make_job(JobState.TERMINATED, workflow="pathoscope_bowtie", user=admin_user)
    make_job(JobState.CANCELLED, workflow="create_subtraction", user=admin_user)

    response = admin_client.get("/api/jobs/v2?state=pending&state=running")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "counts", "found_count", "total_count", "page", "page_count", "per_page"}
    assert body["found_count"] == 2
    assert body["total_count"] == 7
    assert (body["page"], body["page_count"], body["per_page"]) == (1, 1, 25)
    assert body["counts"] == {
        "pending": {"build_index": 1},
        "running": {"create_sample": 1},
        "succeeded": {"build_index": 1},
        "failed": {"nuvs": 2, "pathoscope_bowtie": 1},
        "cancelled": {"create_subtraction": 1},
    }
    by_id = {item["id"]: item for item in body["items"]}
    assert by_id[preparing.pk] == {
        "id": preparing.pk,
        "workflow": "create_sample",
        "state": "running",
        "progress": 0,
        "created_at": _iso(preparing.created_at),
        "user": {"id": other.pk, "handle": "other"},
    }
    assert by_id[waiting.pk]["state"] == "pending"

    failed = admin_client.get("/api/jobs/v2?state=failed&per_page=2&page=2").json()
    assert (failed["found_count"], failed["page_count"], failed["page"]) == (3, 2, 2)
    assert len(failed["items"]) == 1
    assert failed["items"][0]["state"] == "failed"

    everything = admin_client.get("/api/jobs/v2").json()
    assert everything["found_count"] == 7


def test_v2_list_rejects_v1_state_names_in_the_query_string(admin_client):
    response = admin_client.get("/api/jobs/v2?state=waiting")
    assert response.status_code == 400
    assert response.json()[0]["in"] == "query string"
    assert response.json()[0]["loc"] == ["state"]


def test_v2_list_leaves_out_jobs_without_a_user(admin_client, admin_user):
    make_job(JobState.WAITING, workflow="build_index", user=None)
    kept = make_job(JobState.WAITING, workflow="build_index", user=admin_user)
    body = admin_client.get("/api/jobs/v2").json()
    assert [item["id"] for item in body["items"]] == [kept.pk]
    assert body["total_count"] == 1
    assert body["counts"]["pending"] == {"build_index": 1}


def test_v2_get_has_args_claim_and_steps_with_their_start_times(admin_client, admin_user):
    started = timezone.now()
    job = make_job(JobState.RUNNING, workflow="build_index", user=admin_user)
    stamp = _iso(started)
    job.status = [
        *job.status,
        {
            "state": "running",
            "stage": "write_fasta",
            "step_name": "Write FASTA",
            "step_description": "",
            "error": None,
            "progress": 10,
            "timestamp": stamp,
        },
    ]
    job.args = {"ref_id": "r1", "index_id": "i1"}
    job.worker = "celery@host1"
    job.started_at = started
    job.progress = 10
    job.save()
    body = admin_client.get(f"/api/jobs/v2/{job.pk}").json()
    assert body == {
        "id": job.pk,
        "workflow": "build_index",
        "state": "running",
        "progress": 10,
        "created_at": _iso(job.created_at),
        "user": {"id": admin_user.pk, "handle": admin_user.handle},
        "args": {"ref_id": "r1", "index_id": "i1"},
        "claim": {
            "cpu": 2,
            "mem": 4,
            "runner_id": "celery@host1",
            "image": "",
            "runtime_version": body["claim"]["runtime_version"],
            "workflow_version": body["claim"]["runtime_version"],
        },
        "claimed_at": stamp,
        "finished_at": None,
        "steps": [
            {
                "id": "write_fasta",
                "name": "Write FASTA",
                "description": "Write the default isolates' sequences at the manifest's OTU versions.",
                "started_at": stamp,
            },
            {
                "id": "bowtie_build",
                "name": "Build index",
                "description": "Run bowtie2-build on the FASTA.",
                "started_at": None,
            },
            {
                "id": "finalize",
                "name": "Finalize",
                "description": "Compress the FASTA, check the files and mark the index ready.",
                "started_at": None,
            },
        ],
    }
    from core.version import get_version

    assert body["claim"]["runtime_version"] == get_version()


def test_v2_get_of_a_waiting_job_has_no_claim(admin_client, admin_user):
    job = make_job(JobState.WAITING, workflow="create_sample", user=admin_user)
    body = admin_client.get(f"/api/jobs/v2/{job.pk}").json()
    assert (body["state"], body["claim"], body["claimed_at"]) == ("pending", None, None)
    assert all(step["started_at"] is None for step in body["steps"])


def test_v2_hides_a_job_from_those_who_may_not_read_its_sample(make_user, admin_client):
    from samples.models import Sample

    alice = make_user("alice")
    sample = Sample.objects.create(name="Private", user=alice, all_read=False, group_read=False)
    job = Job.objects.create(
        workflow="create_sample", args={"sample_id": sample.pk}, size="small", proc=1, mem=1, user=alice
    )
    carol = client_for(make_user("carol"))
    assert carol.get(f"/api/jobs/v2/{job.pk}").status_code == 404
    listed = carol.get("/api/jobs/v2").json()
    assert listed["items"] == []
    assert listed["found_count"] == listed["total_count"] == 0
    assert listed["counts"]["pending"] == {}
    for client in (client_for(alice), admin_client):
        assert client.get(f"/api/jobs/v2/{job.pk}").json()["args"] == {"sample_id": sample.pk}
        assert [item["id"] for item in client.get("/api/jobs/v2").json()["items"]] == [job.pk]


def test_v2_needs_a_session_and_unknown_ids_are_404(anon_client, admin_client):
    assert anon_client.get("/api/jobs/v2").status_code == 401
    response = admin_client.get("/api/jobs/v2/nothere")
    assert response.status_code == 404
    assert response.json()["id"] == "not_found"


def test_job_lists_leave_out_what_virtool_calls_tasks_unless_our_pages_ask(admin_client, admin_user):
    from jobs.workflow import task_workflow_names

    assert task_workflow_names() == [
        "clone_reference",
        "import_reference",
        "install_hmms",
        "remote_reference",
        "update_remote_reference",
    ]
    index_job = make_job(JobState.WAITING, workflow="build_index", user=admin_user)
    tasks = [make_job(JobState.WAITING, workflow=name, user=admin_user) for name in task_workflow_names()]

    v2 = admin_client.get("/api/jobs/v2").json()
    assert [item["id"] for item in v2["items"]] == [index_job.pk]
    assert (v2["found_count"], v2["total_count"], v2["counts"]["pending"]) == (1, 1, {"build_index": 1})
    assert admin_client.get(f"/api/jobs/v2/{tasks[0].pk}").status_code == 404

    v1 = admin_client.get("/api/jobs").json()
    assert [document["id"] for document in v1["documents"]] == [index_job.pk]
    assert (v1["found_count"], v1["total_count"], v1["counts"]["waiting"]) == (1, 1, {"build_index": 1})
    assert admin_client.get("/api/jobs/counts").json()["waiting"] == {"build_index": 1}

    ours = admin_client.get("/api/jobs?include_tasks=true").json()
    assert {document["id"] for document in ours["documents"]} == {index_job.pk, *(job.pk for job in tasks)}
    assert ours["counts"]["waiting"] == {
        "build_index": 1,
        "clone_reference": 1,
        "import_reference": 1,
        "install_hmms": 1,
        "remote_reference": 1,
        "update_remote_reference": 1,
    }
    assert admin_client.get("/api/jobs/counts?include_tasks=true").json() == ours["counts"]
    # Our job page still opens a task's job.
    assert admin_client.get(f"/api/jobs/{tasks[0].pk}").json()["workflow"] == "clone_reference"
    assert admin_client.get("/api/jobs?include_tasks=maybe").status_code == 400
