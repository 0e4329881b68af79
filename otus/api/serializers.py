"""OTUs, isolates, sequences and history API: input serializers and output documents."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api.serializers import StrictSerializer
from otus import documents
from otus.models import OTU, Change, Sequence
from references.constants import MOLECULES


def otu_minimal(otu: OTU) -> dict[str, Any]:
    """An OTU in lists."""
    return {
        "id": otu.pk,
        "name": otu.name,
        "abbreviation": otu.abbreviation,
        "verified": otu.verified,
        "version": otu.version,
        "reference": {"id": otu.reference_id},
    }


def sequence_out(sequence: dict[str, Any]) -> dict[str, Any]:
    """A sequence document for clients (`id` instead of `_id`, no parent ids)."""
    out = {key: value for key, value in sequence.items() if key not in ("_id", "otu_id", "isolate_id")}
    return {"id": sequence["_id"], **out}


def isolate_out(isolate: dict[str, Any]) -> dict[str, Any]:
    """An isolate with its sequences."""
    return {**isolate, "sequences": [sequence_out(s) for s in isolate.get("sequences", [])]}


def otu_out(joined: dict[str, Any], *, most_recent_change: Change | None = None) -> dict[str, Any]:
    """A joined OTU formatted as Virtool's API does (`issues` from verification, `most_recent_change`)."""
    out = {key: value for key, value in joined.items() if key not in ("_id", "lower_name", "isolates")}
    return {
        "id": joined["_id"],
        **out,
        "isolates": [isolate_out(isolate) for isolate in joined["isolates"]],
        "issues": documents.verify(joined) or False,
        "most_recent_change": change_out(most_recent_change, with_diff=False) if most_recent_change else None,
    }


def sequence_row_out(sequence: Sequence) -> dict[str, Any]:
    """A sequence row for clients."""
    return sequence_out(documents.sequence_document(sequence))


def change_out(change: Change, *, with_diff: bool = True) -> dict[str, Any]:
    """A history change as Virtool returns it."""
    out: dict[str, Any] = {
        "id": change.change_id,
        "method_name": change.method_name,
        "description": change.description,
        "created_at": change.created_at,
        "otu": {
            "id": change.otu_id,
            "name": change.otu_name,
            "version": "removed" if change.otu_version is None else change.otu_version,
        },
        "reference": {"id": change.reference_id},
        "index": {"id": change.index_id, "version": change.index.version}
        if change.index_id
        else {"id": "unbuilt", "version": "unbuilt"},
        "user": {"id": change.user_id, "handle": change.user.handle} if change.user_id else None,
    }
    if with_diff:
        out["diff"] = change.diff
    return out


class SchemaSegmentSerializer(StrictSerializer):
    """One segment of an OTU schema."""

    name = serializers.CharField(max_length=100)
    molecule = serializers.ChoiceField(choices=MOLECULES, allow_null=True, required=False, default=None)
    required = serializers.BooleanField(required=False, default=True)

    def validate_name(self, value: str) -> str:
        return value.strip()


class _SchemaMixin:
    def validate_schema(self, value: list) -> list:
        names = [segment["name"] for segment in value]
        if len(set(names)) != len(names):
            raise serializers.ValidationError("Segment names must be unique")
        return [dict(segment) for segment in value]


class OTUCreateSerializer(_SchemaMixin, StrictSerializer):
    """POST /refs/{id}/otus."""

    name = serializers.CharField(max_length=300)
    abbreviation = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")
    schema = SchemaSegmentSerializer(many=True, required=False, default=list)


class OTUUpdateSerializer(_SchemaMixin, StrictSerializer):
    """PATCH /otus/{id}."""

    name = serializers.CharField(max_length=300, required=False)
    abbreviation = serializers.CharField(max_length=100, allow_blank=True, required=False)
    schema = SchemaSegmentSerializer(many=True, required=False)


class IsolateCreateSerializer(StrictSerializer):
    """POST /otus/{id}/isolates."""

    source_type = serializers.CharField(max_length=50, allow_blank=True, required=False, default="")
    source_name = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    default = serializers.BooleanField(required=False, default=False)


class IsolateUpdateSerializer(StrictSerializer):
    """PATCH /otus/{id}/isolates/{iid}."""

    source_type = serializers.CharField(max_length=50, allow_blank=True, required=False)
    source_name = serializers.CharField(max_length=200, allow_blank=True, required=False)


class SequenceCreateSerializer(StrictSerializer):
    """POST /otus/{id}/isolates/{iid}/sequences."""

    accession = serializers.CharField(max_length=100)
    definition = serializers.CharField()
    host = serializers.CharField(allow_blank=True, required=False, default="")
    segment = serializers.CharField(allow_null=True, allow_blank=True, required=False, default=None)
    sequence = serializers.CharField()
    target = serializers.CharField(allow_null=True, allow_blank=True, required=False, default=None)


class SequenceUpdateSerializer(StrictSerializer):
    """PATCH /otus/{id}/isolates/{iid}/sequences/{sid}."""

    accession = serializers.CharField(max_length=100, required=False)
    definition = serializers.CharField(required=False)
    host = serializers.CharField(allow_blank=True, required=False)
    segment = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    sequence = serializers.CharField(required=False)
    target = serializers.CharField(allow_null=True, allow_blank=True, required=False)
