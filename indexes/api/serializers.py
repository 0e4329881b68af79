"""Index documents (Virtool's shape)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.schema import described
from core.api.serializers import FileDocumentSerializer, JobSummarySerializer, UserBriefSerializer, job_summary
from files.storage import FileDocument
from indexes.models import Index
from indexes.selectors import IndexOTUSummary, index_files, index_otus
from otus.api.serializers import ContributorSerializer
from references.constants import DataType

if TYPE_CHECKING:
    from otus.selectors import Contributor


class IndexReferenceSerializer(serializers.Serializer):
    """The reference an index is built from."""

    id = serializers.CharField()
    name = serializers.CharField()
    data_type = serializers.ChoiceField(choices=DataType.values)


class IndexOTUSerializer(serializers.Serializer):
    """An OTU changed in a build."""

    id = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    change_count = serializers.IntegerField()


class IndexMinimalSerializer(serializers.Serializer):
    """An index with its change counts (lists and websocket messages)."""

    id = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    ready = serializers.BooleanField()
    has_files = serializers.BooleanField()
    has_json = serializers.BooleanField()
    job = serializers.SerializerMethodField()
    reference = serializers.SerializerMethodField()
    user = serializers.SerializerMethodField()
    change_count = serializers.SerializerMethodField()
    modified_otu_count = serializers.SerializerMethodField()

    @extend_schema_field(JobSummarySerializer(allow_null=True))
    def get_job(self, index: Index) -> dict | None:
        return job_summary(index.job)

    @extend_schema_field(IndexReferenceSerializer)
    def get_reference(self, index: Index) -> dict:
        return {"id": index.reference_id, "name": index.reference.name, "data_type": index.reference.data_type}

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_user(self, index: Index) -> dict | None:
        user = index.user  # no query when there is none
        return {"id": user.pk, "handle": user.handle} if user is not None else None

    # Annotated by indexes.selectors.index_queryset, which every caller reads indexes through.
    def get_change_count(self, index: Index) -> int | None:
        return getattr(index, "change_count", None)

    def get_modified_otu_count(self, index: Index) -> int | None:
        return getattr(index, "modified_otu_count", None)


class IndexSerializer(IndexMinimalSerializer):
    """An index with its contributors, changed OTUs, files and manifest."""

    contributors = serializers.SerializerMethodField()
    otus = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()
    manifest = described(
        {"type": "object", "additionalProperties": {"type": "integer"}}, help_text="The version of each OTU, by id."
    )

    @extend_schema_field(ContributorSerializer(many=True))
    def get_contributors(self, index: Index) -> list[Contributor]:
        from otus.selectors import contributors, history_list

        return contributors(queryset=history_list(index_id=index.pk))

    @extend_schema_field(IndexOTUSerializer(many=True))
    def get_otus(self, index: Index) -> list[IndexOTUSummary]:
        return index_otus(index=index)

    @extend_schema_field(FileDocumentSerializer(many=True))
    def get_files(self, index: Index) -> list[FileDocument]:
        return index_files(index=index)


def index_document(index: Index, *, detail: bool = True) -> dict[str, Any]:
    """An index with its change counts; the detail adds contributors, OTUs, files and the manifest."""
    return (IndexSerializer if detail else IndexMinimalSerializer)(index).data
