"""Reads for jobs."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from core.errors import NotFound
from jobs.constants import ACTIVE_STATES, JobState
from jobs.models import Job


def job_queryset() -> QuerySet[Job]:
    """Jobs with their user."""
    return Job.objects.select_related("user")


def job_list(*, states: list[str] | None = None, user_ids: list[int] | None = None) -> QuerySet[Job]:
    """Jobs, newest first, optionally only in some states or of some users."""
    queryset = job_queryset().order_by("-created_at", "pk")
    if states:
        queryset = queryset.filter(state__in=states)
    if user_ids:
        queryset = queryset.filter(user_id__in=user_ids)
    return queryset


def job_get(*, job_id: str) -> Job:
    """One job, or 404."""
    job = job_queryset().filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job


def job_counts() -> dict[str, dict[str, int]]:
    """Virtool's `counts[state][workflow]`, with every state present."""
    counts: dict[str, dict[str, int]] = {state: {} for state in JobState.values}
    for row in Job.objects.values("state", "workflow").annotate(count=Count("pk")).order_by():
        counts[row["state"]][row["workflow"]] = row["count"]
    return counts


def jobs_active_using(*, name: str, value: str) -> list[Job]:
    """Waiting or running jobs whose args name `value` under `name` (or list it there): what a delete must wait for.

    Active jobs are few, so their args are read here rather than queried with JSON lookups that differ by database.
    """
    active = Job.objects.filter(state__in=ACTIVE_STATES).only("id", "workflow", "args", "state")
    return [
        job
        for job in active
        if job.args.get(name) == value or (isinstance(job.args.get(name), list) and value in job.args[name])
    ]
