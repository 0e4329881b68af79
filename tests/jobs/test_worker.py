"""The job engine on real Celery worker processes: completion, cancellation, errors, crashes, limits."""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings

from jobs.constants import JobState
from jobs.models import Job
from jobs.services import job_cancel, job_create
from jobs.tasks import job_run_task
from tests.jobs.conftest import wait_for
from tests.jobs.workflows import journal

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


def state(job: Job) -> str:
    return Job.objects.values_list("state", flat=True).get(pk=job.pk)


def finished(job: Job) -> bool:
    return state(job) in (JobState.COMPLETE, JobState.CANCELLED, JobState.ERROR, JobState.TERMINATED, JobState.TIMEOUT)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def tool_pids(job: Job) -> list[int]:
    path = Path(settings.DATA_PATH) / "journal" / f"{job.pk}.pids"
    return [int(pid) for pid in path.read_text().split()] if path.exists() and path.read_text().strip() else []


def test_job_runs_to_complete_on_a_worker(start_worker, admin_user):
    start_worker()
    job = job_create(workflow="test_three_steps", args={}, user=admin_user)
    wait_for(lambda: finished(job))
    job.refresh_from_db()
    assert job.state == JobState.COMPLETE
    assert [record["stage"] for record in job.status if record["state"] == "running"] == ["prepare", "count", "finish"]
    assert job.worker.startswith("test0@")


def test_message_delivered_twice_runs_the_job_once(start_worker, admin_user):
    start_worker(concurrency=2)
    job = job_create(workflow="test_three_steps", args={}, user=admin_user)
    job_run_task.apply_async(args=[job.pk], queue="small")  # a second delivery of the same job
    wait_for(lambda: finished(job))
    time.sleep(1)  # let the duplicate message be handled too
    assert [event["event"] for event in journal(job.pk)] == ["prepare", "count", "finish"]


def test_cancel_running_job_kills_its_process_tree_and_cleans_up(start_worker, admin_user, tmp_path):
    start_worker()
    output = tmp_path / "partial.out"
    job = job_create(workflow="test_long_tool", args={"output": str(output)}, user=admin_user)
    pids = wait_for(lambda: tool_pids(job))
    assert all(alive(pid) for pid in pids)
    assert output.exists()
    job_cancel(job=Job.objects.get(pk=job.pk))
    cancelled_at = time.monotonic()
    wait_for(lambda: not any(alive(pid) for pid in pids), timeout=5)
    assert time.monotonic() - cancelled_at < 5
    wait_for(lambda: state(job) == JobState.CANCELLED, timeout=10)
    job.refresh_from_db()
    assert job.status[-1]["state"] == "cancelled"
    assert not output.exists()  # the workflow's cleanup removed the partial file
    assert [event["event"] for event in journal(job.pk)] == ["partial", "cleanup"]


def test_failing_tool_on_a_worker_reports_its_stderr(start_worker, admin_user):
    start_worker()
    job = job_create(workflow="test_failing_tool", args={}, user=admin_user)
    wait_for(lambda: finished(job))
    job.refresh_from_db()
    assert job.state == JobState.ERROR
    assert "Error: reference.1.bt2 is truncated" in job.status[-1]["error"]["details"]


def test_worker_killed_mid_job_leaves_it_terminated(start_worker, admin_user, tmp_path):
    worker = start_worker(
        beat=True, queues="small,large,default", VIRTOOL_JOB_STALE_SECONDS="3", VIRTOOL_JOB_REAP_INTERVAL="1"
    )
    job = job_create(workflow="test_long_tool", args={"output": str(tmp_path / "out")}, user=admin_user)
    pids = wait_for(lambda: tool_pids(job))
    # The runner records the tool's process group right after starting it; kill the worker after that moment.
    wait_for(lambda: Job.objects.get(pk=job.pk).process_groups)
    # The tool's parent shell is a child of the worker process running the job: kill that process.
    shell = pids[0]
    worker_child = int(Path(f"/proc/{shell}/stat").read_text().split()[3])
    assert worker_child != worker.pid
    os.kill(worker_child, signal.SIGKILL)
    wait_for(lambda: state(job) == JobState.TERMINATED, timeout=30)
    job.refresh_from_db()
    assert job.status[-1]["error"]["type"] == "WorkerLost"
    wait_for(lambda: not any(alive(pid) for pid in pids), timeout=15)  # the reaper killed the orphaned tools
    wait_for(lambda: not (tmp_path / "out").exists(), timeout=15)  # and ran the cleanup
    time.sleep(2)
    assert state(job) == JobState.TERMINATED  # the redelivered message did not run it again
    assert [event["event"] for event in journal(job.pk)].count("partial") == 1


def test_two_jobs_that_fill_the_host_never_overlap_and_large_gets_its_turn(start_worker, admin_user):
    start_worker(
        concurrency=4,
        VIRTOOL_PROC="2",
        VIRTOOL_MEM="8",
        VIRTOOL_SM_PROC="2",
        VIRTOOL_SM_MEM="1",
        VIRTOOL_LG_PROC="2",
        VIRTOOL_LG_MEM="1",
    )
    jobs = [job_create(workflow="test_hold_small", args={"seconds": 0.6}, user=admin_user) for _ in range(2)]
    large = job_create(workflow="test_hold_large", args={"seconds": 0.6}, user=admin_user)
    jobs.append(large)
    # Small jobs keep arriving while the large one waits.
    for _ in range(3):
        time.sleep(0.3)
        jobs.append(job_create(workflow="test_hold_small", args={"seconds": 0.6}, user=admin_user))
    wait_for(lambda: all(finished(job) for job in jobs), timeout=60)
    spans = []
    for job in jobs:
        events = {event["event"]: event["time"] for event in journal(job.pk)}
        spans.append((events["start"], events["end"], job))
    spans.sort(key=lambda span: span[0])
    for (_, end, _), (start, _, _) in itertools.pairwise(spans):
        assert start >= end, "two jobs reserving the whole host ran at the same time"
    order = [span[2].pk for span in spans]
    # Not starved: the large job runs before every small job created after it (the two created just before it
    # may go first or not, depending on which queue the worker reads first).
    assert order.index(large.pk) <= 2
    assert all(order.index(large.pk) < order.index(job.pk) for job in jobs[3:])
    assert all(job.proc == 2 for job in Job.objects.filter(pk__in=[job.pk for job in jobs]))


def test_job_past_its_time_limit_ends_in_timeout(start_worker, admin_user):
    start_worker()
    job = job_create(workflow="test_time_limit", args={}, user=admin_user)
    pids = wait_for(lambda: tool_pids(job))
    wait_for(lambda: finished(job), timeout=20)
    job.refresh_from_db()
    assert job.state == JobState.TIMEOUT
    assert job.status[-1]["error"]["details"] == [
        "The job ran longer than its time limit during step 'Wait' and was stopped."
    ]
    assert not any(alive(pid) for pid in pids)
    assert [event["event"] for event in journal(job.pk)] == ["cleanup"]
