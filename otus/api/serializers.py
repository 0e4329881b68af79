"""OTUs, isolates, sequences and history API: input serializers and output documents."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.schema import described
from core.api.serializers import StrictSerializer, UserBriefSerializer
from otus import documents
from otus.models import OTU, Change, Sequence
from references.constants import MOLECULES


class IdOnlySerializer(serializers.Serializer):
    """`{id}` of a related document."""

    id = serializers.CharField()


class UserIdSerializer(serializers.Serializer):
    """`{id}` of a user (imported OTUs name who imported them)."""

    id = serializers.IntegerField()


class OTUMinimalSerializer(serializers.Serializer):
    """An OTU in lists and websocket messages."""

    id = serializers.CharField()
    name = serializers.CharField()
    abbreviation = serializers.CharField()
    verified = serializers.BooleanField()
    version = serializers.IntegerField()
    reference = serializers.SerializerMethodField()

    @extend_schema_field(IdOnlySerializer)
    def get_reference(self, otu: OTU) -> dict:
        return {"id": otu.reference_id}


def otu_minimal(otu: OTU) -> dict[str, Any]:
    """An OTU in lists."""
    return OTUMinimalSerializer(otu).data


VERSION_OR_REMOVED = {"oneOf": [{"type": "integer"}, {"type": "string", "enum": ["removed"]}]}
VERSION_OR_UNBUILT = {"oneOf": [{"type": "integer"}, {"type": "string", "enum": ["unbuilt"]}]}


class ChangeOTUSerializer(serializers.Serializer):
    """The OTU a change is about; `version` is "removed" for a removal."""

    id = serializers.CharField()
    name = serializers.CharField()
    version = described(VERSION_OR_REMOVED)


class ChangeIndexSerializer(serializers.Serializer):
    """The index a change is built into, or `{id: "unbuilt", version: "unbuilt"}`."""

    id = serializers.CharField()
    version = described(VERSION_OR_UNBUILT)


class ChangeMinimalSerializer(serializers.Serializer):
    """A history change as Virtool lists it (no diff)."""

    id = serializers.CharField(source="change_id")
    method_name = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    otu = serializers.SerializerMethodField()
    reference = serializers.SerializerMethodField()
    index = serializers.SerializerMethodField()
    user = serializers.SerializerMethodField()

    @extend_schema_field(ChangeOTUSerializer)
    def get_otu(self, change: Change) -> dict:
        version = "removed" if change.otu_version is None else change.otu_version
        return {"id": change.otu_id, "name": change.otu_name, "version": version}

    @extend_schema_field(IdOnlySerializer)
    def get_reference(self, change: Change) -> dict:
        return {"id": change.reference_id}

    @extend_schema_field(ChangeIndexSerializer)
    def get_index(self, change: Change) -> dict:
        index = change.index  # no query when the change is unbuilt
        if index is not None:
            return {"id": index.pk, "version": index.version}
        return {"id": "unbuilt", "version": "unbuilt"}

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_user(self, change: Change) -> dict | None:
        user = change.user  # no query when there is none
        return {"id": user.pk, "handle": user.handle} if user is not None else None


class ChangeSerializer(ChangeMinimalSerializer):
    """A history change with its diff: the whole OTU for create and remove, else dictdiffer's list of edits."""

    diff = described(
        {"oneOf": [{"type": "object", "additionalProperties": True}, {"type": "array", "items": {}}]}, allow_null=True
    )


def change_out(change: Change, *, with_diff: bool = True) -> dict[str, Any]:
    """A history change as Virtool returns it."""
    return (ChangeSerializer if with_diff else ChangeMinimalSerializer)(change).data


class ContributorSerializer(serializers.Serializer):
    """Who made changes, and how many."""

    id = serializers.IntegerField(allow_null=True)
    handle = serializers.CharField()
    count = serializers.IntegerField()


# --- Documents built from the joined OTU (otus.documents), sent as they are and described here -------------


class SchemaSegmentDocumentSerializer(serializers.Serializer):
    """A segment of an OTU's schema."""

    name = serializers.CharField()
    # Imported files carry "" as well as Virtool's molecules.
    molecule = serializers.CharField(allow_null=True, help_text=f"One of {', '.join(MOLECULES)}, or empty.")
    # A field named like Field.required: DRF moves declared fields off the class, the stubs cannot tell.
    required = serializers.BooleanField()  # type: ignore[assignment]


class SequenceDocumentSerializer(serializers.Serializer):
    """A sequence for clients."""

    id = serializers.CharField()
    accession = serializers.CharField()
    definition = serializers.CharField()
    host = serializers.CharField(allow_null=True)
    reference = IdOnlySerializer()
    segment = serializers.CharField(allow_null=True)
    sequence = serializers.CharField()
    target = serializers.CharField(allow_null=True)
    remote = IdOnlySerializer(required=False, help_text="The id in the file it was imported from.")


class GenBankRecordSerializer(serializers.Serializer):
    """GET /genbank/{accession}: an NCBI record as the sequence form is filled with it."""

    accession = serializers.CharField(help_text="The versioned accession, e.g. `NC_005267.1`.")
    definition = serializers.CharField()
    host = serializers.CharField(allow_blank=True, help_text="The source feature's `/host`, or empty.")
    sequence = serializers.CharField(help_text="Upper case.")


class IsolateDocumentSerializer(serializers.Serializer):
    """An isolate with its sequences."""

    id = serializers.CharField()
    default = serializers.BooleanField()
    source_type = serializers.CharField()
    source_name = serializers.CharField()
    sequences = SequenceDocumentSerializer(many=True)


FALSE = {"type": "boolean", "enum": [False]}
VERIFICATION = {
    "type": "object",
    "description": "Why the OTU cannot be built into an index; each entry is false when it does not apply.",
    "properties": {
        "empty_otu": {"type": "boolean"},
        "empty_isolate": {"oneOf": [FALSE, {"type": "array", "items": {"type": "string"}}]},
        "empty_sequence": {"oneOf": [FALSE, {"type": "array", "items": {"type": "object"}}]},
        "isolate_inconsistency": {"type": "boolean"},
    },
    "required": ["empty_otu", "empty_isolate", "empty_sequence", "isolate_inconsistency"],
}


class OTUSerializer(serializers.Serializer):
    """A joined OTU as Virtool's API sends it; imported OTUs also carry `created_at`, `imported`, `remote`, `user`."""

    id = serializers.CharField()
    abbreviation = serializers.CharField()
    last_indexed_version = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    reference = IdOnlySerializer()
    schema = SchemaSegmentDocumentSerializer(many=True)
    verified = serializers.BooleanField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField(required=False)
    imported = serializers.BooleanField(required=False)
    remote = IdOnlySerializer(required=False, allow_null=True)
    user = UserIdSerializer(required=False)
    isolates = IsolateDocumentSerializer(many=True)
    issues = described({"oneOf": [FALSE, VERIFICATION]}, help_text="false, or why the OTU cannot be built.")
    most_recent_change = ChangeMinimalSerializer(allow_null=True)


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


class SchemaSegmentSerializer(StrictSerializer):
    """One segment of an OTU schema."""

    name = serializers.CharField(max_length=100)
    molecule = serializers.ChoiceField(choices=MOLECULES, allow_null=True, required=False, default=None)
    # A field named like Field.required: DRF moves declared fields off the class, the stubs cannot tell.
    required = serializers.BooleanField(required=False, default=True)  # type: ignore[assignment]

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


# Plant-virus genomes are tens of kilobases; a megabase leaves room for anything a reference holds.
SEQUENCE_MAX_LENGTH = 1_000_000


class SequenceCreateSerializer(StrictSerializer):
    """POST /otus/{id}/isolates/{iid}/sequences."""

    accession = serializers.CharField(max_length=100)
    definition = serializers.CharField()
    host = serializers.CharField(allow_blank=True, required=False, default="")
    segment = serializers.CharField(allow_null=True, allow_blank=True, required=False, default=None)
    sequence = serializers.CharField(max_length=SEQUENCE_MAX_LENGTH)
    target = serializers.CharField(allow_null=True, allow_blank=True, required=False, default=None)


class SequenceUpdateSerializer(StrictSerializer):
    """PATCH /otus/{id}/isolates/{iid}/sequences/{sid}."""

    accession = serializers.CharField(max_length=100, required=False)
    definition = serializers.CharField(required=False)
    host = serializers.CharField(allow_blank=True, required=False)
    segment = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    sequence = serializers.CharField(max_length=SEQUENCE_MAX_LENGTH, required=False)
    target = serializers.CharField(allow_null=True, allow_blank=True, required=False)
