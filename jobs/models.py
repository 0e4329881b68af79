"""The job row: one per long piece of work, followed live by the browser."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.ids import new_id
from jobs.constants import JobSize, JobState


class Job(models.Model):
    """A workflow run: what to do (`workflow`, `args`), its reservation, its state and status history."""

    id = models.CharField(primary_key=True, max_length=8, default=new_id, editable=False)
    workflow = models.CharField(max_length=64, db_index=True)
    args = models.JSONField(default=dict, blank=True)
    size = models.CharField(max_length=8, choices=JobSize.choices)
    proc = models.PositiveIntegerField(help_text="Cores reserved (set when a worker starts the job).")
    mem = models.PositiveIntegerField(help_text="Memory reserved in GB (set when a worker starts the job).")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.WAITING, db_index=True)
    status = models.JSONField(default=list, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pinged_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    task_id = models.CharField(max_length=64, blank=True, default="")
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When its message was last handed to the broker (empty: never)."
    )
    worker = models.CharField(max_length=200, blank=True, default="", help_text="Celery node that claimed it.")
    host = models.CharField(max_length=200, blank=True, default="")
    process_groups = models.JSONField(default=list, blank=True, help_text="Tool process groups running now.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "pinged_at"])]

    def __str__(self) -> str:
        return f"{self.workflow} {self.id} ({self.state})"


class Task(models.Model):
    """The integer id Virtool's API gives engine work it runs as a task (`/api/tasks/{id}`): one per task job.

    Its own table, so the id comes from the database's sequence: stable, unique, never reused.
    """

    id = models.AutoField(primary_key=True)
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="virtool_task")

    def __str__(self) -> str:
        return f"task {self.pk} (job {self.job_id})"
