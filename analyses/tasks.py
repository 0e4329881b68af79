"""Celery tasks of analyses: the steps of an NCBI BLAST search of a NuVs contig."""

from __future__ import annotations

from celery import shared_task


# Routed to the `default` queue (settings.CELERY_TASK_ROUTES): a check waits for NCBI, never in a job slot.
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300)
def nuvs_blast_task(blast_id: int, checks: int = 0, failures: int = 0) -> None:
    """Take one step of the BLAST search `blast_id` and queue the next one after its interval."""
    from analyses.nuvs.blast import nuvs_blast_check

    step = nuvs_blast_check(blast_id=blast_id, checks=checks, failures=failures)
    if step is not None:
        nuvs_blast_task.apply_async((blast_id, step.checks, step.failures), countdown=step.delay)
