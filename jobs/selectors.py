"""Reads for jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet

from core.errors import NotFound
from jobs.constants import ACTIVE_STATES, V2_STATE, JobState, JobStateV2, v1_states
from jobs.models import Job, Task
from jobs.subjects import jobs_visible
from jobs.workflow import task_workflow_names

if TYPE_CHECKING:
    from users.models import User


def job_queryset() -> QuerySet[Job]:
    """Jobs with their user."""
    return Job.objects.select_related("user")


def job_list(
    *,
    viewer: User | None = None,
    states: list[str] | None = None,
    user_ids: list[int] | None = None,
    tasks: bool = False,
) -> QuerySet[Job]:
    """Jobs `viewer` may see (`jobs.subjects`; all of them without a viewer), newest first, optionally only in some
    states or of some users; the work Virtool calls tasks only with `tasks`."""
    queryset = job_queryset().order_by("-created_at", "pk")
    if not tasks:
        queryset = queryset.exclude(workflow__in=task_workflow_names())
    if viewer is not None:
        queryset = jobs_visible(queryset, user=viewer)
    if states:
        queryset = queryset.filter(state__in=states)
    if user_ids:
        queryset = queryset.filter(user_id__in=user_ids)
    return queryset


def job_get(*, job_id: str, viewer: User | None = None) -> Job:
    """One job, or 404 (also when `viewer` may not see it)."""
    queryset = job_queryset() if viewer is None else jobs_visible(job_queryset(), user=viewer)
    job = queryset.filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job


def job_counts(*, viewer: User | None = None, tasks: bool = False) -> dict[str, dict[str, int]]:
    """Virtool's `counts[state][workflow]` of the jobs `viewer` may see, every state present (tasks too with
    `tasks`)."""
    counts: dict[str, dict[str, int]] = {state: {} for state in JobState.values}
    jobs = Job.objects.all() if viewer is None else jobs_visible(Job.objects.all(), user=viewer)
    if not tasks:
        jobs = jobs.exclude(workflow__in=task_workflow_names())
    for row in jobs.values("state", "workflow").annotate(count=Count("pk")).order_by():
        counts[row["state"]][row["workflow"]] = row["count"]
    return counts


def job_list_v2(*, viewer: User, states: list[str] | None = None) -> QuerySet[Job]:
    """Jobs `viewer` may see through `/api/jobs/v2`, newest first, optionally only in some v2 states.

    Virtool's v2 jobs always have a user and its client requires one: a job whose user is gone is left out.
    """
    queryset = job_list(viewer=viewer, states=v1_states(states) if states else None)
    return queryset.filter(user__isnull=False)


def job_get_v2(*, job_id: str, viewer: User) -> Job:
    """One job as `/api/jobs/v2/{id}` shows it, or 404 (also for a task: `/api/tasks` shows those)."""
    job = job_get(job_id=job_id, viewer=viewer)
    if job.user is None or job.workflow in task_workflow_names():
        raise NotFound()
    return job


def job_counts_v2(*, viewer: User) -> dict[str, dict[str, int]]:
    """`counts[v2 state][workflow]` of the jobs `viewer` sees through `/api/jobs/v2`, with every v2 state present."""
    counts: dict[str, dict[str, int]] = {state: {} for state in JobStateV2.values}
    for row in job_list_v2(viewer=viewer).values("state", "workflow").annotate(count=Count("pk")).order_by():
        bucket = counts[V2_STATE[JobState(row["state"])]]
        bucket[row["workflow"]] = bucket.get(row["workflow"], 0) + row["count"]
    return counts


# Task ids are the database's 32-bit integers.
TASK_ID_MAX = 2**31 - 1


def task_queryset() -> QuerySet[Task]:
    """Tasks with their job."""
    return Task.objects.select_related("job", "job__user")


def task_list(*, viewer: User) -> QuerySet[Task]:
    """The tasks `viewer` may see (those of the jobs they may see), newest first."""
    return task_queryset().filter(job__in=jobs_visible(Job.objects.all(), user=viewer)).order_by("-job__created_at")


def task_get(*, task_id: int, viewer: User) -> Task:
    """One task, or 404."""
    if not 0 < task_id <= TASK_ID_MAX:
        raise NotFound()
    task = task_list(viewer=viewer).filter(pk=task_id).first()
    if task is None:
        raise NotFound()
    return task


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
