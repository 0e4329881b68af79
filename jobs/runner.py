"""Run one job in a worker: claim it, wait for resources, run its steps, and always end it cleanly.

The runner records each step as it starts, reports progress (at most about once a second), pings a heartbeat,
watches for cancellation (every 0.5 s), and on failure, cancellation, time-out or a crash runs the workflow's
cleanup and releases the job's reservation.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, connection

from core import events
from jobs import services
from jobs.constants import JobState
from jobs.models import Job
from jobs.receivers import task_dispatch
from jobs.resources import HostResources, host_name
from jobs.tools import (
    Piped,
    ToolCancelled,
    ToolError,
    ToolResult,
    ToolTimeout,
    kill_process_group,
    piped,
    run_tool,
)
from jobs.workflow import Step, Workflow, get_workflow

log = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 0.5
PROGRESS_INTERVAL = 1.0  # seconds between progress messages of one job


class JobCancelled(Exception):
    """The job was cancelled by a user."""


class JobContext:
    """What a step sees: the job, its arguments, its reservation, a work folder, progress and tools."""

    def __init__(self, job: Job, workflow: Workflow, watcher: Watcher | None = None) -> None:
        self.job = job
        self.workflow = workflow
        self.watcher = watcher
        self.args = job.args
        self.step: Step | None = None
        self.step_index = 0
        self.step_count = len(workflow.steps())
        self._last_progress_write = 0.0
        self._process_groups: list[int] = []

    @property
    def proc(self) -> int:
        """Cores reserved for this job: pass them to tools (`-p`, `--threads`)."""
        return self.job.proc

    @property
    def mem(self) -> int:
        """Memory reserved for this job in GB: pass it to tools (`-m`)."""
        return self.job.mem

    @property
    def work_path(self) -> Path:
        """A scratch folder for this job, removed when the job ends."""
        path = Path(settings.DATA_PATH) / "jobs" / self.job.pk
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def cancelled(self) -> bool:
        """Whether the job was asked to stop."""
        return self.watcher is not None and self.watcher.cancel.is_set()

    def check(self) -> None:
        """Raise JobCancelled when the job was cancelled; long pure-Python loops call it now and then."""
        if self.cancelled:
            raise JobCancelled()

    def progress(self, done: float, total: float = 1.0) -> None:
        """Report progress within the current step (e.g. reads processed of reads expected)."""
        self.check()
        fraction = 0.0 if total <= 0 else max(0.0, min(1.0, done / total))
        span = 100 // max(1, self.step_count)
        value = min(99, span * self.step_index + int(span * fraction))
        now = time.monotonic()
        if value != self.job.progress and now - self._last_progress_write >= PROGRESS_INTERVAL:
            self._last_progress_write = now
            services.job_set_progress(job=self.job, progress=value)

    def run(self, command: Sequence[str], **kwargs) -> ToolResult:
        """Run an external program under supervision (see `jobs.tools.run_tool`); cancellation stops it."""

        def started(pgid: int) -> None:
            self._process_groups.append(pgid)
            services.job_set_process_groups(job_id=self.job.pk, process_groups=self._process_groups)

        try:
            return run_tool(command, should_stop=lambda: self.cancelled, on_start=started, **kwargs)
        finally:
            if self._process_groups:
                self._process_groups.pop()
                services.job_set_process_groups(job_id=self.job.pk, process_groups=self._process_groups)

    @contextlib.contextmanager
    def pipe(self, command: Sequence[str], *, stdin: bool = False, **kwargs) -> Iterator[Piped]:
        """Run an external program whose stdout (and stdin) the `with` body streams (`jobs.tools.piped`)."""

        def started(pgid: int) -> None:
            self._process_groups.append(pgid)
            services.job_set_process_groups(job_id=self.job.pk, process_groups=self._process_groups)

        try:
            with piped(command, stdin=stdin, should_stop=lambda: self.cancelled, on_start=started, **kwargs) as handle:
                yield handle
        finally:
            if self._process_groups:
                self._process_groups.pop()
                services.job_set_process_groups(job_id=self.job.pk, process_groups=self._process_groups)


class Watcher(threading.Thread):
    """Pings the job's heartbeat and its reservation, and notices cancellation, in the background."""

    def __init__(self, job_id: str, resources: HostResources) -> None:
        super().__init__(daemon=True, name=f"job-{job_id}-watcher")
        self.job_id = job_id
        self.resources = resources
        self.cancel = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        last_ping = 0.0
        try:
            while not self.done.wait(CANCEL_POLL_SECONDS):
                try:
                    if time.monotonic() - last_ping >= settings.VIRTOOL_JOB_HEARTBEAT_SECONDS:
                        last_ping = time.monotonic()
                        self.resources.refresh(self.job_id)
                        cancel = services.job_ping(job_id=self.job_id)
                    else:
                        cancel = services.job_cancel_requested(job_id=self.job_id)
                    if cancel:
                        self.cancel.set()
                except Exception:  # a database or Redis hiccup must not kill the job; try again shortly
                    log.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
                    close_old_connections()
        finally:
            connection.close()


def describe_error(exc: BaseException, step: Step | None) -> services.JobError:
    """Virtool's `{type, traceback, details}` with a sentence a scientist can act on."""
    where = f"during step '{step.display_name}'" if step else "while starting"
    if isinstance(exc, ToolError):
        details = [f"The program {exc.program} failed {where} (exit status {exc.returncode})."]
        if exc.stderr_tail:
            details.append("Its last messages were:")
            details.extend(exc.stderr_tail)
    else:
        message = str(exc) or exc.__class__.__name__
        details = [f"The job failed {where}: {message}"]
    return {
        "type": exc.__class__.__name__,
        "traceback": traceback.format_exception(type(exc), exc, exc.__traceback__),
        "details": details,
    }


def job_cleanup(*, job: Job) -> str | None:
    """Run the workflow's cleanup for a job and remove its work folder; returns an error message, if any."""
    try:
        workflow = get_workflow(job.workflow)()
    except KeyError:
        return f"unknown workflow {job.workflow}"
    error = None
    try:
        workflow.cleanup(JobContext(job, workflow))
    except Exception as exc:
        log.exception("cleanup of job %s failed", job.pk)
        error = f"Cleanup failed: {exc}"
    shutil.rmtree(Path(settings.DATA_PATH) / "jobs" / job.pk, ignore_errors=True)
    return error


def _finish(job: Job, state: str, error: services.JobError | None, ctx: JobContext, cleanup: bool) -> None:
    if cleanup:
        cleanup_error = job_cleanup(job=job)
        if cleanup_error and error is not None:
            error["details"].append(cleanup_error)
    else:
        shutil.rmtree(Path(settings.DATA_PATH) / "jobs" / job.pk, ignore_errors=True)
    step = ctx.step
    record = services.status_record(
        state=state,
        progress=100 if state == JobState.COMPLETE else job.progress,
        stage=step.name if step else None,
        step_name=step.display_name if step else None,
        step_description=step.description if step else None,
        error=error,
    )
    job.refresh_from_db(fields=["status"])
    services.job_push_status(job=job, record=record)


def job_execute(*, job_id: str, worker: str = "") -> str | None:
    """Run a job if it is still waiting; safe to call twice with the same id (the second call does nothing)."""
    resources = HostResources()
    job = services.job_claim(job_id=job_id, worker=worker, host=resources.host)
    if job is None:
        log.info("job %s is not waiting (already claimed, cancelled or removed); skipped", job_id)
        return None
    try:
        workflow = get_workflow(job.workflow)()
    except KeyError:
        error: services.JobError = {
            "type": "UnknownWorkflow",
            "traceback": [],
            "details": [f"This worker does not know the workflow '{job.workflow}'; it may be out of date."],
        }
        services.job_push_status(job=job, record=services.status_record(state=JobState.ERROR, progress=0, error=error))
        return job.state
    watcher = Watcher(job.pk, resources)
    ctx = JobContext(job, workflow, watcher)
    watcher.start()
    created = job.created_at.timestamp()
    try:
        request = resources.request_for(job.size)
        while not resources.try_acquire(job.pk, request, created):
            ctx.check()
            time.sleep(0.25)
        job.proc, job.mem = request.proc, request.mem
        steps = workflow.steps()
        for index, step in enumerate(steps):
            ctx.check()
            ctx.step, ctx.step_index = step, index
            record = services.status_record(
                state=JobState.RUNNING,
                progress=(100 // len(steps)) * index,
                stage=step.name,
                step_name=step.display_name,
                step_description=step.description,
            )
            services.job_push_status(job=job, record=record, fields=("proc", "mem"))
            step.function(workflow, ctx)
        _finish(job, JobState.COMPLETE, None, ctx, cleanup=False)
    except (JobCancelled, ToolCancelled):
        _finish(job, JobState.CANCELLED, None, ctx, cleanup=True)
    except (SoftTimeLimitExceeded, ToolTimeout) as exc:
        error = describe_error(exc, ctx.step)
        error["details"] = [f"The job ran longer than its time limit {_where(ctx)} and was stopped."]
        _finish(job, JobState.TIMEOUT, error, ctx, cleanup=True)
    except Exception as exc:
        log.exception("job %s failed", job.pk)
        _finish(job, JobState.ERROR, describe_error(exc, ctx.step), ctx, cleanup=True)
    finally:
        watcher.done.set()
        watcher.join(timeout=5)
        resources.release(job.pk)
    return job.state


def _where(ctx: JobContext) -> str:
    return f"during step '{ctx.step.display_name}'" if ctx.step else "while starting"


def job_terminate(*, job: Job, stale_only: bool) -> bool:
    """End a job whose worker died: mark it `terminated`, kill its tools, free its reservation, clean up."""
    from datetime import timedelta

    from django.utils import timezone

    job.refresh_from_db()
    last = job.status[-1] if job.status else {}
    step = f"during step '{last['step_name']}'" if last.get("step_name") else "before it started its first step"
    error: services.JobError = {
        "type": "WorkerLost",
        "traceback": [],
        "details": [
            f"The worker running this job ({job.worker or 'unknown'}) stopped responding {step}: it was killed "
            "or its machine restarted. The job was stopped and its partial results removed; start it again."
        ],
    }
    record = services.status_record(
        state=JobState.TERMINATED,
        progress=job.progress,
        stage=last.get("stage"),
        step_name=last.get("step_name"),
        step_description=last.get("step_description"),
        error=error,
    )
    queryset = Job.objects.filter(pk=job.pk, state__in=(JobState.PREPARING, JobState.RUNNING))
    if stale_only:
        stale = timezone.now() - timedelta(seconds=settings.VIRTOOL_JOB_STALE_SECONDS)
        queryset = queryset.filter(pinged_at__lt=stale)
    # One conditional UPDATE both claims the termination (two reapers never both do it; a job that pinged in
    # the meantime is left alone) and records it.
    if not queryset.update(
        state=JobState.TERMINATED, status=[*job.status, record], finished_at=timezone.now(), process_groups=[]
    ):
        return False
    process_groups = list(job.process_groups)
    job.refresh_from_db()
    events.dispatch_instance(job)
    task_dispatch(job)
    if job.host == host_name():
        for pgid in process_groups:
            kill_process_group(pgid)
    HostResources(job.host or None).release(job.pk)
    cleanup_error = job_cleanup(job=job)
    if cleanup_error:
        error["details"].append(cleanup_error)
        job.status[-1]["error"] = error
        job.save(update_fields=["status"])
    return True
