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


class JobStateV2(models.TextChoices):
    """Virtool 36.x's second jobs API (`/api/jobs/v2`): five states, each standing for one or more v1 states."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# Virtool's mapping from v1 to v2 states (preparing is running; error, terminated and timeout are failed).
V2_STATE = {
    JobState.WAITING: JobStateV2.PENDING,
    JobState.PREPARING: JobStateV2.RUNNING,
    JobState.RUNNING: JobStateV2.RUNNING,
    JobState.COMPLETE: JobStateV2.SUCCEEDED,
    JobState.CANCELLED: JobStateV2.CANCELLED,
    JobState.ERROR: JobStateV2.FAILED,
    JobState.TERMINATED: JobStateV2.FAILED,
    JobState.TIMEOUT: JobStateV2.FAILED,
}


def v1_states(v2_states: list[str]) -> list[str]:
    """The v1 states that the v2 states `v2_states` stand for."""
    return [str(v1) for v1, v2 in V2_STATE.items() if v2 in v2_states]


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
