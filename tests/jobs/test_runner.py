"""The job runner in this process, with the real database and Redis."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from jobs.constants import JobState
from jobs.models import Job
from jobs.resources import HostResources, Request
from jobs.runner import job_execute
from jobs.services import job_cancel, job_create, jobs_reap
from tests.jobs.workflows import journal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def enqueue(mocker):
    """These tests run jobs in-process: nothing is sent to a worker."""
    return mocker.patch("jobs.services.job_enqueue")


def test_job_runs_steps_in_order_to_complete(admin_user):
    job = job_create(workflow="test_three_steps", args={}, user=admin_user)
    assert job_execute(job_id=job.pk, worker="w1") == JobState.COMPLETE
    job.refresh_from_db()
    assert [e["event"] for e in journal(job.pk)] == ["prepare", "count", "finish"]
    assert [(r["state"], r["stage"]) for r in job.status] == [
        ("waiting", None),
        ("preparing", None),
        ("running", "prepare"),
        ("running", "count"),
        ("running", "finish"),
        ("complete", "finish"),
    ]
    # Steps start at (100 // 3) * index; "Count" reported 1/10 within its step (later reports came within the
    # same second and were held back by the rate limit).
    assert [r["progress"] for r in job.status] == [0, 3, 0, 36, 66, 100]
    assert job.status[2]["step_name"] == "Prepare"
    assert job.status[2]["step_description"] == "Make the work folder."
    assert job.progress == 100
    assert not (settings.DATA_PATH / "jobs" / job.pk).exists()  # the work folder goes with the job


def test_executing_twice_runs_once(admin_user):
    job = job_create(workflow="test_three_steps", args={}, user=admin_user)
    job_execute(job_id=job.pk)
    assert job_execute(job_id=job.pk) is None
    assert [e["event"] for e in journal(job.pk)].count("prepare") == 1


def test_reserved_resources_reach_the_workflow(admin_user, settings):
    settings.VIRTOOL_PROC, settings.VIRTOOL_SM_PROC, settings.VIRTOOL_SM_MEM = 4, 3, 2
    job = job_create(workflow="test_threads", args={}, user=admin_user)
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert (job.proc, job.mem) == (3, 2)
    assert journal(job.pk)[0]["proc"] == 3


def test_reservation_is_clamped_to_the_host(admin_user, settings):
    settings.VIRTOOL_PROC, settings.VIRTOOL_MEM = 2, 4
    resources = HostResources()
    from jobs.constants import JobSize

    assert resources.request_for(JobSize.LARGE) == Request(2, 4)


def test_failing_tool_ends_in_error_with_its_stderr(admin_user):
    job = job_create(workflow="test_failing_tool", args={}, user=admin_user)
    assert job_execute(job_id=job.pk) == JobState.ERROR
    job.refresh_from_db()
    error = job.status[-1]["error"]
    assert error["type"] == "ToolError"
    assert error["details"][0] == "The program sh failed during step 'Map reads' (exit status 3)."
    assert error["details"][-1] == "Error: reference.1.bt2 is truncated"
    assert error["traceback"]
    assert job.status[-1]["step_name"] == "Map reads"
    assert [e["event"] for e in journal(job.pk)] == ["cleanup"]


def test_exception_ends_in_error_with_a_readable_sentence(admin_user):
    job = job_create(workflow="test_raising", args={}, user=admin_user)
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == JobState.ERROR
    assert job.status[-1]["error"]["details"] == ["The job failed during step 'Parse': the file has no header line"]
    assert job.status[-1]["error"]["type"] == "ValueError"
    assert [e["event"] for e in journal(job.pk)] == ["cleanup"]


def test_cancel_waiting_job_is_immediate_and_never_runs(admin_user, mocker):
    revoke = mocker.patch("virtool_site.celery.app.control.revoke")
    job = job_create(workflow="test_three_steps", args={}, user=admin_user)
    job_cancel(job=job)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert job.status[-1]["state"] == "cancelled"
    revoke.assert_called_once_with(job.task_id)
    assert job_execute(job_id=job.pk) is None
    assert [e["event"] for e in journal(job.pk)] == ["cleanup"]


def test_job_is_enqueued_only_after_commit(admin_user, enqueue, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        job = job_create(workflow="test_three_steps", args={}, user=admin_user)
        assert not enqueue.called
    enqueue.assert_called_once()
    assert enqueue.call_args.kwargs["job"].pk == job.pk


def test_unknown_workflow_is_refused():
    from core.errors import BadRequest

    with pytest.raises(BadRequest):
        job_create(workflow="no_such_workflow", args={})


def test_reaper_terminates_silent_jobs_and_frees_them(admin_user, settings):
    job = job_create(workflow="test_three_steps", args={}, user=admin_user)
    resources = HostResources()
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING,
        host=resources.host,
        worker="gone@host",
        pinged_at=timezone.now() - timedelta(seconds=settings.VIRTOOL_JOB_STALE_SECONDS + 5),
        status=[
            *job.status,
            {
                "state": "running",
                "stage": "count",
                "step_name": "Count",
                "step_description": "",
                "error": None,
                "progress": 33,
                "timestamp": "",
            },
        ],
    )
    assert resources.try_acquire(job.pk, Request(1, 1), 0)
    fresh = job_create(workflow="test_three_steps", args={}, user=admin_user)
    Job.objects.filter(pk=fresh.pk).update(state=JobState.RUNNING, pinged_at=timezone.now())
    assert jobs_reap() == [job.pk]
    job.refresh_from_db()
    assert job.state == JobState.TERMINATED
    assert "stopped responding during step 'Count'" in job.status[-1]["error"]["details"][0]
    assert job.pk not in resources.reserved()
    assert [e["event"] for e in journal(job.pk)] == ["cleanup"]
    assert Job.objects.get(pk=fresh.pk).state == JobState.RUNNING


def test_worker_start_resolves_jobs_of_its_previous_life(admin_user):
    job = job_create(workflow="test_three_steps", args={}, user=admin_user)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, worker="small@vm", pinged_at=timezone.now())
    assert jobs_reap(worker="other@vm") == []
    assert jobs_reap(worker="small@vm") == [job.pk]


# --- The per-host limiter -------------------------------------------------------------------------------------


@pytest.fixture
def host(settings):
    settings.VIRTOOL_PROC, settings.VIRTOOL_MEM = 2, 8
    resources = HostResources(host="test-host")
    resources.redis.delete(*resources.keys)
    return resources


def test_limiter_never_exceeds_the_host(host):
    assert host.try_acquire("a", Request(2, 1), created=1)
    assert not host.try_acquire("b", Request(2, 1), created=2)
    host.release("a")
    assert host.try_acquire("b", Request(2, 1), created=2)


def test_limiter_serves_waiters_in_creation_order(host):
    assert host.try_acquire("small-1", Request(1, 1), created=1)
    assert not host.try_acquire("large", Request(2, 1), created=2)  # waits for room
    # A later small job would fit in the free core, but the large job was first: it must wait its turn.
    assert not host.try_acquire("small-2", Request(1, 1), created=3)
    host.release("small-1")
    assert not host.try_acquire("small-2", Request(1, 1), created=3)
    assert host.try_acquire("large", Request(2, 1), created=2)
    host.release("large")
    assert host.try_acquire("small-2", Request(1, 1), created=3)


def test_limiter_forgets_reservations_of_dead_workers(host, settings):
    settings.VIRTOOL_JOB_STALE_SECONDS = 1
    assert host.try_acquire("crashed", Request(2, 1), created=1)
    with mock.patch("jobs.resources.time.time", return_value=__import__("time").time() + 5):
        assert host.try_acquire("next", Request(2, 1), created=2)
