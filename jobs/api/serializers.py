"""Jobs API documents in Virtool's shapes."""

from __future__ import annotations

from rest_framework import serializers

from jobs.models import Job


def _user(job: Job) -> dict | None:
    return None if job.user is None else {"id": job.user.pk, "handle": job.user.handle}


def _last(job: Job) -> dict:
    return job.status[-1] if job.status else {}


class JobMinimalSerializer(serializers.Serializer):
    """A job in lists and in documents that embed it (e.g. a sample's `job`)."""

    id = serializers.CharField()
    workflow = serializers.CharField()
    state = serializers.CharField()
    stage = serializers.SerializerMethodField()
    step_name = serializers.SerializerMethodField()
    progress = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    user = serializers.SerializerMethodField()
    ping = serializers.SerializerMethodField()

    def get_stage(self, job: Job) -> str | None:
        return _last(job).get("stage")

    def get_step_name(self, job: Job) -> str | None:
        return _last(job).get("step_name")

    def get_user(self, job: Job) -> dict | None:
        return _user(job)

    def get_ping(self, job: Job) -> dict | None:
        return (
            None
            if job.pinged_at is None
            else {"pinged_at": serializers.DateTimeField().to_representation(job.pinged_at)}
        )


class JobSerializer(JobMinimalSerializer):
    """A job with its arguments, reservation and status history."""

    args = serializers.DictField()
    size = serializers.CharField()
    proc = serializers.IntegerField()
    mem = serializers.IntegerField()
    status = serializers.ListField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField()
    cancel_requested = serializers.BooleanField()
