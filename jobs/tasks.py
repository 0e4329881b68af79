"""Celery tasks of the job engine: run one job, and resolve jobs whose worker died."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def job_run_task(self, job_id: str) -> None:
    """Run the job `job_id`; delivering the message twice runs the job once."""
    from jobs.runner import job_execute

    job_execute(job_id=job_id, worker=self.request.hostname or "")


@shared_task(ignore_result=True)
def jobs_reap_task() -> list[str]:
    """Mark jobs whose heartbeat stopped as terminated (scheduled by beat)."""
    from jobs.services import jobs_reap

    reaped = jobs_reap()
    if reaped:
        log.warning("terminated jobs whose worker stopped responding: %s", ", ".join(reaped))
    return reaped


@shared_task(ignore_result=True)
def jobs_resend_task() -> list[str]:
    """Send again the waiting jobs whose message never reached the broker or was lost (scheduled by beat)."""
    from jobs.services import jobs_resend

    sent = jobs_resend()
    if sent:
        log.warning("sent again jobs that had no message in the broker: %s", ", ".join(sent))
    return sent


@worker_ready.connect
def _resolve_jobs_of_previous_life(sender, **kwargs) -> None:
    """A worker starting up resolves the jobs its previous incarnation left preparing or running, then sends
    again the waiting jobs that have no message in the broker (made while it was down, say)."""
    from jobs.services import jobs_reap, jobs_resend

    try:
        reaped = jobs_reap(worker=sender.hostname)
    except Exception:
        log.exception("could not resolve jobs left by %s", sender.hostname)
    else:
        if reaped:
            log.warning("terminated jobs left running by the previous %s: %s", sender.hostname, ", ".join(reaped))
    try:
        sent = jobs_resend()
    except Exception:
        log.exception("could not send again the waiting jobs")
        return
    if sent:
        log.warning("sent again jobs that had no message in the broker: %s", ", ".join(sent))
