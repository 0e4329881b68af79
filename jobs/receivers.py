"""Registers jobs for websocket dispatch: every signed-in user may follow jobs, as in Virtool."""

from __future__ import annotations

from typing import Any

from core import events
from jobs.models import Job
from jobs.selectors import job_queryset
from jobs.subjects import job_audience


def _serialize_job(job: Job) -> dict[str, Any]:
    from jobs.api.serializers import JobSerializer

    return JobSerializer(job).data


events.register(Job, interface="jobs", serialize=_serialize_job, audience=job_audience, queryset=job_queryset)
