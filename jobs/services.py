"""Writes for jobs: create (alone or for a row) and enqueue, record status, cancel, remove, guard deletes, and
resolve jobs whose worker died."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from core.errors import BadRequest, Conflict
from jobs.constants import ACTIVE_STATES, CLEAR_FILTERS, FINISHED_STATES, PREPARING_PROGRESS, JobSize, JobState
from jobs.models import Job
from jobs.selectors import jobs_active_using
from jobs.workflow import get_workflow

if TYPE_CHECKING:
    from users.models import User

log = logging.getLogger(__name__)


class JobError(TypedDict):
    """Virtool's error of a job: the exception's class, its traceback, and sentences a scientist can act on."""

    type: str
    traceback: list[str]
    details: list[str]


class StatusRecord(TypedDict):
    """One entry of a job's `status` list, in Virtool's shape."""

    state: str
    stage: str | None
    step_name: str | None
    step_description: str | None
    error: JobError | None
    progress: int
    timestamp: str


class MadeByJob(Protocol):
    """A row that a job makes or fills (a sample, reference, index, ...): it names that job."""

    job: Job | None

    def save(self, *, update_fields: list[str]) -> None: ...


def status_record(
    *,
    state: str,
    progress: int,
    stage: str | None = None,
    step_name: str | None = None,
    step_description: str | None = None,
    error: JobError | None = None,
) -> StatusRecord:
    """One entry of a job's `status` list, in Virtool's shape."""
    return {
        "state": state,
        "stage": stage,
        "step_name": step_name,
        "step_description": step_description,
        "error": error,
        "progress": progress,
        "timestamp": timezone.now().isoformat().replace("+00:00", "Z"),
    }


def size_limits(size: str) -> tuple[int, int]:
    """The instance's `proc`/`mem` reservation for a job size."""
    if size == JobSize.LARGE:
        return settings.VIRTOOL_LG_PROC, settings.VIRTOOL_LG_MEM
    return settings.VIRTOOL_SM_PROC, settings.VIRTOOL_SM_MEM


@transaction.atomic
def job_create(*, workflow: str, args: dict[str, Any], user: User | None = None) -> Job:
    """Create a waiting job and queue it on its size's queue once the transaction commits."""
    try:
        workflow_class = get_workflow(workflow)
    except KeyError:
        raise BadRequest(f"Unknown workflow: {workflow}") from None
    proc, mem = size_limits(workflow_class.size)
    job = Job.objects.create(
        workflow=workflow,
        args=args,
        size=workflow_class.size,
        proc=proc,
        mem=mem,
        user=user,
        task_id=str(uuid.uuid4()),
        status=[status_record(state=JobState.WAITING, progress=0)],
    )
    transaction.on_commit(lambda: job_enqueue(job=job, time_limit=workflow_class.time_limit))
    return job


def job_attach(*, instance: MadeByJob, workflow: str, args: dict[str, Any], user: User | None = None) -> Job:
    """Create the job that makes or fills `instance` (a sample, reference, index, ...) and link it as `instance.job`.

    Call it in the transaction that created `instance`: the row, its job and the enqueue commit together.
    """
    job = job_create(workflow=workflow, args=args, user=user)
    instance.job = job
    instance.save(update_fields=["job"])
    return job


def job_refuse_delete(*, instance: Model, busy: str, arg: str | None = None, used: str = "") -> None:
    """Refuse (409) to delete `instance` while its own job is active (`busy`), or while an active job names it in
    its args under `arg` (`used`): a delete must never pull a row or its files from under a running job."""
    job_id = getattr(instance, "job_id", None)
    if job_id and Job.objects.filter(pk=job_id, state__in=ACTIVE_STATES).exists():
        raise Conflict(busy)
    if arg and jobs_active_using(name=arg, value=instance.pk):
        raise Conflict(used)


def job_enqueue(*, job: Job, time_limit: int | None = None) -> None:
    """Send the job's id to its queue (the message carries nothing else)."""
    from jobs.tasks import job_run_task

    soft = time_limit or settings.VIRTOOL_JOB_TIME_LIMIT
    job_run_task.apply_async(
        args=[job.pk], task_id=job.task_id or None, queue=job.size, soft_time_limit=soft, time_limit=soft + 120
    )


def job_claim(*, job_id: str, worker: str, host: str) -> Job | None:
    """Take a waiting job for this worker with one conditional UPDATE; None if it is not waiting any more."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=JobState.WAITING, cancel_requested=False).update(
        state=JobState.PREPARING,
        worker=worker,
        host=host,
        started_at=now,
        pinged_at=now,
        progress=PREPARING_PROGRESS,
    )
    if not claimed:
        return None
    job = Job.objects.get(pk=job_id)
    job_push_status(job=job, record=status_record(state=JobState.PREPARING, progress=PREPARING_PROGRESS))
    return job


def job_push_status(*, job: Job, record: StatusRecord, fields: tuple[str, ...] = ()) -> Job:
    """Append a status record; the job's `state` and `progress` mirror it. Dispatched to the browser."""
    job.status = [*job.status, record]
    job.state = record["state"]
    job.progress = record["progress"]
    update = {"status", "state", "progress", *fields}
    if record["state"] in FINISHED_STATES:
        job.finished_at = timezone.now()
        job.process_groups = []
        update |= {"finished_at", "process_groups"}
    job.save(update_fields=sorted(update))
    return job


def job_set_progress(*, job: Job, progress: int) -> None:
    """Change the progress shown within the current step (the last status record follows it)."""
    progress = max(0, min(100, int(progress)))
    job.progress = progress
    if job.status:
        job.status[-1] = {**job.status[-1], "progress": progress}
    job.save(update_fields=["progress", "status"])


def job_ping(*, job_id: str) -> bool:
    """Record that the job's process is alive; returns whether the job was asked to cancel."""
    Job.objects.filter(pk=job_id, state__in=(JobState.PREPARING, JobState.RUNNING)).update(pinged_at=timezone.now())
    return job_cancel_requested(job_id=job_id)


def job_cancel_requested(*, job_id: str) -> bool:
    """Whether someone asked to cancel this job."""
    return Job.objects.filter(pk=job_id, cancel_requested=True).exists()


def job_set_process_groups(*, job_id: str, process_groups: list[int]) -> None:
    """Remember the process groups of the tools the job runs now (so a reaper can kill them after a crash)."""
    Job.objects.filter(pk=job_id).update(process_groups=process_groups)


def job_cancel(*, job: Job) -> Job:
    """Cancel a job: a waiting one at once, a running one by asking its worker (it stops within seconds)."""
    with transaction.atomic():
        if job.state in FINISHED_STATES:
            raise Conflict("Job is not running")
        cancelled_while_waiting = Job.objects.filter(pk=job.pk, state=JobState.WAITING).update(cancel_requested=True)
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        job.refresh_from_db()
        if cancelled_while_waiting:
            job_push_status(job=job, record=status_record(state=JobState.CANCELLED, progress=job.progress))
            transaction.on_commit(lambda: _revoke_and_clean(job.pk))
        else:
            # The worker sees the request on its next poll (0.5 s) and stops the job; the state follows.
            from core import events

            events.dispatch_instance(job)
    return job


def _revoke_and_clean(job_id: str) -> None:
    from celery import current_app

    from jobs.runner import job_cleanup

    job = Job.objects.get(pk=job_id)
    if job.task_id:
        try:
            current_app.control.revoke(job.task_id)
        except Exception:  # the claim refuses a cancelled job anyway; revoking only saves a worker the trip
            log.warning("could not revoke task of job %s", job_id, exc_info=True)
    job_cleanup(job=job)


@transaction.atomic
def job_remove(*, job: Job) -> None:
    """Delete a finished job."""
    if job.state in ACTIVE_STATES:
        raise Conflict("Job is still running; cancel it first")
    job.delete()


@transaction.atomic
def jobs_clear(*, which: str, user: User | None = None) -> list[str]:
    """Delete finished jobs: `complete`, `failed` (error, terminated, timeout, cancelled) or all `finished`."""
    from core import events

    states = CLEAR_FILTERS[which]
    queryset = Job.objects.filter(state__in=states)
    if user is not None:
        queryset = queryset.filter(user=user)
    ids = list(queryset.values_list("pk", flat=True))
    if ids:
        Job.objects.filter(pk__in=ids).delete()
        events.dispatch(interface="jobs", operation="delete", ids=ids, audience=[events.GROUP_ALL])
    return ids


def jobs_reap(*, worker: str | None = None) -> list[str]:
    """Resolve jobs whose worker died: `terminated`, reservation released, tools killed, cleanup run.

    Without `worker`: every preparing or running job whose heartbeat is older than VIRTOOL_JOB_STALE_SECONDS.
    With `worker` (a Celery node starting up): every preparing or running job that node had claimed, since the
    node's previous life cannot still be running it.
    """
    from jobs.runner import job_terminate

    active = Q(state__in=(JobState.PREPARING, JobState.RUNNING))
    if worker is None:
        stale = timezone.now() - timedelta(seconds=settings.VIRTOOL_JOB_STALE_SECONDS)
        candidates = Job.objects.filter(active, pinged_at__lt=stale)
    else:
        candidates = Job.objects.filter(active, worker=worker)
    reaped: list[str] = []
    for job in candidates:
        if job_terminate(job=job, stale_only=worker is None):
            reaped.append(job.pk)
    return reaped
