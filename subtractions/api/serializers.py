"""Subtraction documents (Virtool's shape) and input serializers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api.serializers import StrictSerializer
from subtractions.models import Subtraction
from subtractions.selectors import subtraction_files


def subtraction_document(subtraction: Subtraction, *, detail: bool = True) -> dict[str, Any]:
    """A subtraction with its linked samples and, in detail, its files."""
    document: dict[str, Any] = {
        "id": subtraction.pk,
        "name": subtraction.name,
        "nickname": subtraction.nickname,
        "ready": subtraction.ready,
        "count": subtraction.count,
        "gc": subtraction.gc,
        "file": subtraction.file,
        "created_at": subtraction.created_at,
        "user": {"id": subtraction.user_id, "handle": subtraction.user.handle} if subtraction.user_id else None,
        "job": {"id": subtraction.job_id, "state": subtraction.job.state, "progress": subtraction.job.progress}
        if subtraction.job_id
        else None,
        "linked_samples": [{"id": pk, "name": name} for pk, name in subtraction.samples.values_list("id", "name")],
    }
    if detail:
        document["files"] = subtraction_files(subtraction)
    return document


class SubtractionCreateSerializer(StrictSerializer):
    """POST /subtractions."""

    name = serializers.CharField(max_length=200)
    nickname = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    upload_id = serializers.IntegerField()


class SubtractionUpdateSerializer(StrictSerializer):
    """PATCH /subtractions/{id}."""

    name = serializers.CharField(max_length=200, required=False)
    nickname = serializers.CharField(max_length=200, allow_blank=True, required=False)
