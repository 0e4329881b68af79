"""Jobs API documents in Virtool's shapes."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.schema import described
from core.api.serializers import UserBriefSerializer
from jobs.constants import JobSize, JobState
from jobs.models import Job


def _user(job: Job) -> dict | None:
    return None if job.user is None else {"id": job.user.pk, "handle": job.user.handle}


def _last(job: Job) -> dict:
    return job.status[-1] if job.status else {}


class JobErrorSerializer(serializers.Serializer):
    """Why a job failed: the exception's type and traceback, and sentences a scientist can act on."""

    type = serializers.CharField()
    traceback = serializers.ListField(child=serializers.CharField())
    details = serializers.ListField(child=serializers.CharField())


class JobStatusSerializer(serializers.Serializer):
    """One record of a job's status history (Virtool's shape)."""

    state = serializers.ChoiceField(choices=JobState.values)
    stage = serializers.CharField(allow_null=True)
    step_name = serializers.CharField(allow_null=True)
    step_description = serializers.CharField(allow_null=True)
    error = JobErrorSerializer(allow_null=True)
    progress = serializers.IntegerField()
    timestamp = serializers.DateTimeField()


class JobPingSerializer(serializers.Serializer):
    """When the job's worker last said it was alive."""

    pinged_at = serializers.DateTimeField()


class JobMinimalSerializer(serializers.Serializer):
    """A job in lists and in documents that embed it (e.g. a sample's `job`)."""

    id = serializers.CharField()
    workflow = serializers.CharField()
    state = serializers.ChoiceField(choices=JobState.values)
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

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_user(self, job: Job) -> dict | None:
        return _user(job)

    @extend_schema_field(JobPingSerializer(allow_null=True))
    def get_ping(self, job: Job) -> dict | None:
        return (
            None
            if job.pinged_at is None
            else {"pinged_at": serializers.DateTimeField().to_representation(job.pinged_at)}
        )


class JobSerializer(JobMinimalSerializer):
    """A job with its arguments, reservation and status history."""

    args = serializers.DictField(help_text="The workflow's arguments (ids of the objects it works on).")
    size = serializers.ChoiceField(choices=JobSize.values)
    proc = serializers.IntegerField()
    mem = serializers.IntegerField()
    # Stored records, sent as they are.
    status = described(JobStatusSerializer(many=True))
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    cancel_requested = serializers.BooleanField()


# Virtool's `counts[state][workflow]`, every state present.
JobCountsSerializer = type(
    "JobCountsSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "How many jobs of each workflow are in each state.",
        **{state: serializers.DictField(child=serializers.IntegerField()) for state in JobState.values},
    },
)


class JobsClearedSerializer(serializers.Serializer):
    """DELETE /jobs: the ids of the jobs removed."""

    removed = serializers.ListField(child=serializers.CharField())
