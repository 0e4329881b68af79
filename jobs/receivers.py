"""Registers jobs for websocket dispatch: every signed-in user may follow jobs, as in Virtool.

A job Virtool calls a task (`Workflow.task`) is also sent as Virtool's `tasks` interface, with its integer task id:
each save of the job re-sends its task; the task row's own insert and delete are its `insert` and `delete`.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from core import events
from jobs.models import Job, Task
from jobs.selectors import job_queryset, task_queryset
from jobs.subjects import job_audience


def _serialize_job(job: Job) -> dict[str, Any]:
    from jobs.api.serializers import JobSerializer

    return JobSerializer(job).data


def _serialize_task(task: Task) -> dict[str, Any]:
    from jobs.api.serializers import TaskSerializer

    return TaskSerializer(task).data


def task_dispatch(job: Job) -> None:
    """Send the task of `job` (if it is one) as a `tasks` update once the transaction commits."""
    task_ids = list(Task.objects.filter(job_id=job.pk).values_list("pk", flat=True))
    if task_ids:
        events.dispatch(interface="tasks", operation="update", ids=task_ids)


def _on_job_save(sender: type[Job], instance: Job, created: bool, raw: bool = False, **_: Any) -> None:
    if not raw and not created:  # a new job's task row is created after it, and sends the insert
        task_dispatch(instance)


events.register(Job, interface="jobs", serialize=_serialize_job, audience=job_audience, queryset=job_queryset)
events.register(
    Task,
    interface="tasks",
    serialize=_serialize_task,
    audience=lambda task: job_audience(task.job),
    queryset=task_queryset,
)
post_save.connect(_on_job_save, sender=Job, dispatch_uid="jobs_task_job_saved")
