"""Job states, sizes, queues and timing."""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class JobState(models.TextChoices):
    """Virtool's job states (36.x, v1)."""

    WAITING = "waiting", "Waiting"
    PREPARING = "preparing", "Preparing"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    CANCELLED = "cancelled", "Cancelled"
    ERROR = "error", "Error"
    TERMINATED = "terminated", "Terminated"
    TIMEOUT = "timeout", "Timed out"


ACTIVE_STATES = frozenset({JobState.WAITING, JobState.PREPARING, JobState.RUNNING})
FINISHED_STATES = frozenset(
    {JobState.COMPLETE, JobState.CANCELLED, JobState.ERROR, JobState.TERMINATED, JobState.TIMEOUT}
)
FAILED_STATES = frozenset({JobState.ERROR, JobState.TERMINATED, JobState.TIMEOUT, JobState.CANCELLED})

# `DELETE /api/jobs?filter=` (Virtool 2019): which finished jobs to clear.
CLEAR_FILTERS = {
    "complete": frozenset({JobState.COMPLETE}),
    "failed": FAILED_STATES,
    "finished": FINISHED_STATES,
}


class JobSize(models.TextChoices):
    """Virtool's two job sizes; each reserves the instance's `sm_*` or `lg_*` limits and has its own queue."""

    SMALL = "small", "Small"
    LARGE = "large", "Large"


# Progress shown while waiting for a worker and once a worker has claimed the job (Virtool: preparing at 3).
PREPARING_PROGRESS = 3


class Queue(StrEnum):
    """Celery queues: Virtool's small and large job sizes, plus default for short periodic work."""

    DEFAULT = "default"
    SMALL = "small"
    LARGE = "large"
