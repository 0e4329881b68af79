"""Writes for jobs: create (alone or for a row) and enqueue, record status, cancel, remove, guard deletes, and
resolve jobs whose worker died."""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, cast

import kombu.exceptions
import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from core.errors import BadRequest, Conflict, ServiceUnavailable
from jobs.constants import ACTIVE_STATES, CLEAR_FILTERS, FINISHED_STATES, PREPARING_PROGRESS, JobSize, JobState
from jobs.models import Job, Task
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
    if workflow_class.task:
        Task.objects.create(job=job)  # Virtool's integer task id
    # The row is the outbox: the message goes once the row is committed, and `jobs_resend` sends it again if it
    # never reached the broker. Raising here (broker down) makes the request a 503; the job stays waiting.
    transaction.on_commit(lambda: job_enqueue(job=job))
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


# What a broker that cannot be reached raises (kombu wraps redis-py's errors; a socket may fail underneath).
BROKER_ERRORS: tuple[type[Exception], ...] = (kombu.exceptions.OperationalError, redis.exceptions.RedisError, OSError)


def job_enqueue(*, job: Job) -> None:
    """Send the job's id to its queue (the message carries nothing else) and record when it was sent.

    Raises ServiceUnavailable (503) when the broker cannot be reached: the job stays waiting, and beat or the
    next worker to start sends it once the broker is back (`jobs_resend`).
    """
    from jobs.tasks import job_run_task

    try:
        time_limit = get_workflow(job.workflow).time_limit
    except KeyError:
        time_limit = None
    soft = time_limit or settings.VIRTOOL_JOB_TIME_LIMIT
    try:
        job_run_task.apply_async(
            args=[job.pk], task_id=job.task_id or None, queue=job.size, soft_time_limit=soft, time_limit=soft + 120
        )
    except BROKER_ERRORS as exc:
        log.warning("could not send job %s to the broker (it stays waiting and is sent later): %s", job.pk, exc)
        raise ServiceUnavailable(
            "The job queue (Redis) cannot be reached right now. Everything was saved, and the job "
            f"{job.pk} ({job.workflow}) starts by itself once the queue is back."
        ) from exc
    Job.objects.filter(pk=job.pk).update(sent_at=timezone.now())


def _in_broker(grace: float) -> set[str]:
    """Task ids with a message in the broker: waiting in a job queue, or taken by a worker less than `grace`
    seconds ago (kombu's Redis transport keeps each queue as a list and taken, unacknowledged messages in the
    `unacked` hash, indexed by the time they were taken).

    A message a worker took longer ago while its job is still waiting belongs to a worker that died before it
    claimed the job: with acks_late, Redis would only give it back after the visibility timeout (hours).
    """
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    ids: set[str] = set()

    def add(raw: bytes | str) -> None:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            ids.add(json.loads(raw)["headers"]["id"])

    # kombu puts a message of priority N > 0 in "<queue>\x06\x16N"; ours have none, but look there too.
    for queue in JobSize.values:
        for key in [queue, *(f"{queue}\x06\x16{priority}" for priority in (3, 6, 9))]:
            for raw in cast("list[bytes]", client.lrange(key, 0, -1)):
                add(raw)
    recent = time.time() - grace
    tags = cast("list[bytes]", client.zrangebyscore("unacked_index", recent, "+inf"))
    if tags:
        for entry in cast("list[bytes | None]", client.hmget("unacked", tags)):
            # Each entry is [message, exchange, routing key].
            with contextlib.suppress(ValueError, IndexError, KeyError, TypeError):
                ids.add(json.loads(entry or b"null")[0]["headers"]["id"])
    return ids


def jobs_resend(*, grace: float | None = None) -> list[str]:
    """Send again every waiting job whose message is not in the broker, once it is `grace` seconds old.

    Run by beat every VIRTOOL_JOB_RESEND_INTERVAL and by each worker at start. A job created or sent less than
    `grace` (VIRTOOL_JOB_RESEND_GRACE) seconds ago is left alone: its request may still be sending it. Sending a
    job twice is harmless (the claim is conditional), and each resend is itself claimed with a conditional
    UPDATE, so two workers starting together send it once. Raises a BROKER_ERRORS exception when the broker is
    still down.
    """
    grace = settings.VIRTOOL_JOB_RESEND_GRACE if grace is None else grace
    cutoff = timezone.now() - timedelta(seconds=grace)
    candidates = list(
        Job.objects.filter(state=JobState.WAITING, cancel_requested=False, created_at__lt=cutoff)
        .filter(Q(sent_at__isnull=True) | Q(sent_at__lt=cutoff))
        .order_by("created_at")
    )
    if not candidates:
        return []
    in_broker = _in_broker(grace)
    sent: list[str] = []
    for job in candidates:
        if job.task_id and job.task_id in in_broker:
            continue
        # Claim this resend: only the process whose UPDATE sees the same `sent_at` sends it.
        if not Job.objects.filter(pk=job.pk, state=JobState.WAITING, sent_at=job.sent_at).update(
            sent_at=timezone.now()
        ):
            continue
        try:
            job_enqueue(job=job)
        except ServiceUnavailable as exc:
            raise cast("Exception", exc.__cause__) from exc
        sent.append(job.pk)
    return sent


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
            from jobs.receivers import task_dispatch

            events.dispatch_instance(job)
            task_dispatch(job)
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
