"""Subtraction documents (Virtool's shape) and input serializers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.schema import described
from core.api.serializers import (
    FileDocumentSerializer,
    IdField,
    JobSummarySerializer,
    NamedSerializer,
    StrictSerializer,
    UserBriefSerializer,
    job_summary,
)
from files.storage import FileDocument
from subtractions.models import Subtraction
from subtractions.selectors import subtraction_files


class GcSerializer(serializers.Serializer):
    """Proportions of each nucleotide letter, 3 decimals."""

    a = serializers.FloatField()
    c = serializers.FloatField()
    g = serializers.FloatField()
    t = serializers.FloatField()
    n = serializers.FloatField()


class UploadBriefSerializer(serializers.Serializer):
    """The upload a subtraction was made from."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class SubtractionMinimalSerializer(serializers.Serializer):
    """A subtraction in lists and websocket messages, with the samples that use it by default."""

    id = serializers.CharField()
    name = serializers.CharField()
    nickname = serializers.CharField()
    ready = serializers.BooleanField()
    count = serializers.IntegerField(allow_null=True)
    # Stored JSON, sent as it is.
    gc = described(GcSerializer(allow_null=True))
    file = described(UploadBriefSerializer(allow_null=True))
    created_at = serializers.DateTimeField()
    user = serializers.SerializerMethodField()
    job = serializers.SerializerMethodField()
    linked_samples = serializers.SerializerMethodField()

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_user(self, subtraction: Subtraction) -> dict | None:
        user = subtraction.user  # no query when there is none
        return {"id": user.pk, "handle": user.handle} if user is not None else None

    @extend_schema_field(JobSummarySerializer(allow_null=True))
    def get_job(self, subtraction: Subtraction) -> dict | None:
        return job_summary(subtraction.job)

    @extend_schema_field(NamedSerializer(many=True))
    def get_linked_samples(self, subtraction: Subtraction) -> list[dict]:
        return [{"id": sample.pk, "name": sample.name} for sample in subtraction.samples.all()]


class SubtractionSerializer(SubtractionMinimalSerializer):
    """A subtraction with its files."""

    files = serializers.SerializerMethodField()

    @extend_schema_field(FileDocumentSerializer(many=True))
    def get_files(self, subtraction: Subtraction) -> list[FileDocument]:
        return subtraction_files(subtraction=subtraction)


class SubtractionShortSerializer(serializers.Serializer):
    """GET /subtractions?short=true: `{id, name, ready}`."""

    id = serializers.CharField()
    name = serializers.CharField()
    ready = serializers.BooleanField()


def subtraction_document(subtraction: Subtraction, *, detail: bool = True) -> dict[str, Any]:
    """A subtraction with its linked samples and, in detail, its files."""
    return (SubtractionSerializer if detail else SubtractionMinimalSerializer)(subtraction).data


class SubtractionCreateSerializer(StrictSerializer):
    """POST /subtractions."""

    name = serializers.CharField(max_length=200)
    nickname = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    upload_id = IdField()


class SubtractionUpdateSerializer(StrictSerializer):
    """PATCH /subtractions/{id}."""

    name = serializers.CharField(max_length=200, required=False)
    nickname = serializers.CharField(max_length=200, allow_blank=True, required=False)
