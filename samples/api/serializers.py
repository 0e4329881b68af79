"""Samples and labels API documents (Virtool's shapes) and input serializers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.schema import described
from core.api.serializers import IdField, JobSummarySerializer, StrictSerializer, UserBriefSerializer, job_summary
from samples.constants import (
    LABEL_DESCRIPTION_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    QUALITY_KEYS,
    LibraryType,
    WorkflowState,
)
from samples.models import Label, Sample
from samples.selectors import sample_latest_calls, sample_workflow_tag, sample_workflows

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class LabelSerializer(serializers.Serializer):
    """A label with its sample count."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField()
    description = serializers.CharField()
    count = serializers.SerializerMethodField()

    def get_count(self, label: Label) -> int:
        return label.count if hasattr(label, "count") else label.samples.count()


class LabelMinimalSerializer(serializers.Serializer):
    """A label as a sample carries it."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField()
    description = serializers.CharField()


class SampleWorkflowsSerializer(serializers.Serializer):
    """Where the sample stands with each workflow."""

    aodp = serializers.ChoiceField(choices=WorkflowState.choices)
    iimi = serializers.ChoiceField(choices=WorkflowState.choices)
    nuvs = serializers.ChoiceField(choices=WorkflowState.choices)
    pathoscope = serializers.ChoiceField(choices=WorkflowState.choices)


# Virtool's legacy workflow tags: false (none), "ip" (in progress) or true (complete).
LEGACY_TAG = {
    "oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["ip"]}],
    "description": 'false: no analysis; "ip": one is running; true: one is ready (Virtool\'s legacy tag).',
}


class GroupBriefSerializer(serializers.Serializer):
    """`{id, name}` of a group."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class QualitySerializer(serializers.Serializer):
    """The quality report (FastQC's numbers in Virtool's shape)."""

    bases = described(
        {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        help_text="Per cycle: mean, median, lower and upper quartile, 10th and 90th percentile.",
    )
    composition = described(
        {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        help_text="Per cycle: % G, A, T, C.",
    )
    count = serializers.IntegerField()
    encoding = serializers.CharField()
    gc = serializers.FloatField()
    length = serializers.ListField(child=serializers.IntegerField(), help_text="Shortest and longest read.")
    sequences = serializers.ListField(child=serializers.IntegerField(), help_text="Reads by mean quality score.")
    gc_distribution = serializers.ListField(
        child=serializers.FloatField(),
        required=False,
        help_text="Reads by GC % (0-100), FastQC's per-sequence GC content (its model spreads each read over the "
        "percentages its length can round to).",
    )
    gc_theoretical = serializers.ListField(
        child=serializers.FloatField(),
        required=False,
        help_text="FastQC's theoretical GC curve: a normal distribution around the observed mode.",
    )


class ReadsFileSerializer(serializers.Serializer):
    """One of a sample's reads files."""

    name = serializers.CharField()
    name_on_disk = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()
    download_url = serializers.CharField()


class LegacyFileSerializer(serializers.Serializer):
    """One of a legacy sample's read files as an older Virtool release stored it (2019's `files`)."""

    name = serializers.CharField(help_text="As stored, e.g. reads_1.fastq.")
    size = serializers.IntegerField(allow_null=True)


class LatestCallsSerializer(serializers.Serializer):
    """Ours: the calls of the sample's newest ready PathoScope analysis, under its reference's rules in force."""

    analysis_id = serializers.CharField()
    detected = serializers.ListField(child=serializers.CharField(), help_text="OTUs called detected, heaviest first.")
    indeterminate = serializers.ListField(child=serializers.CharField())


class SampleMinimalSerializer(serializers.Serializer):
    """A sample in lists."""

    id = serializers.CharField()
    name = serializers.CharField()
    host = serializers.CharField()
    isolate = serializers.CharField()
    library_type = serializers.ChoiceField(choices=LibraryType.values)
    paired = serializers.BooleanField()
    ready = serializers.BooleanField()
    is_legacy = serializers.BooleanField(
        help_text="The reads are in an older release's form (uncompressed, old names, no or an old quality "
        "report, a 2019 srna flag) until an update_sample job converts them (PUT /samples/{id}/update_job)."
    )
    created_at = serializers.DateTimeField()
    labels = serializers.SerializerMethodField()
    user = serializers.SerializerMethodField()
    job = serializers.SerializerMethodField()
    workflows = serializers.SerializerMethodField()
    nuvs = serializers.SerializerMethodField()
    pathoscope = serializers.SerializerMethodField()
    latest_calls = serializers.SerializerMethodField()

    @extend_schema_field(LatestCallsSerializer(allow_null=True))
    def get_latest_calls(self, sample: Sample) -> dict | None:
        return sample_latest_calls(sample=sample)

    @extend_schema_field(SampleWorkflowsSerializer)
    def get_workflows(self, sample: Sample) -> dict[str, str]:
        return sample_workflows(sample=sample)

    @extend_schema_field(LEGACY_TAG)
    def get_nuvs(self, sample: Sample) -> bool | str:
        return sample_workflow_tag(state=sample_workflows(sample=sample)["nuvs"])

    @extend_schema_field(LEGACY_TAG)
    def get_pathoscope(self, sample: Sample) -> bool | str:
        return sample_workflow_tag(state=sample_workflows(sample=sample)["pathoscope"])

    @extend_schema_field(LabelMinimalSerializer(many=True))
    def get_labels(self, sample: Sample) -> list[dict]:
        return [
            {"id": label.pk, "name": label.name, "color": label.color, "description": label.description}
            for label in sample.labels.all()
        ]

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_user(self, sample: Sample) -> dict | None:
        return {"id": sample.user.pk, "handle": sample.user.handle} if sample.user else None

    @extend_schema_field(JobSummarySerializer(allow_null=True))
    def get_job(self, sample: Sample) -> dict | None:
        return job_summary(sample.job)


class SampleSerializer(SampleMinimalSerializer):
    """A sample with its rights, quality and read files."""

    locale = serializers.CharField()
    notes = serializers.CharField()
    subtractions = serializers.SerializerMethodField()
    group = serializers.SerializerMethodField()
    group_read = serializers.BooleanField()
    group_write = serializers.BooleanField()
    all_read = serializers.BooleanField()
    all_write = serializers.BooleanField()
    quality = serializers.SerializerMethodField()
    format = serializers.SerializerMethodField()
    reads = serializers.SerializerMethodField()
    files = LegacyFileSerializer(
        many=True, help_text="A legacy sample's read files in their old form (Virtool 2019's `files`); empty otherwise."
    )

    def get_subtractions(self, sample: Sample) -> list[str]:
        return [subtraction.pk for subtraction in sample.subtractions.all()]

    @extend_schema_field(GroupBriefSerializer(allow_null=True))
    def get_group(self, sample: Sample) -> dict | None:
        return {"id": sample.group.pk, "name": sample.group.name} if sample.group else None

    @extend_schema_field(QualitySerializer(allow_null=True))
    def get_quality(self, sample: Sample) -> dict | None:
        # PostgreSQL's jsonb reorders keys; the document keeps Virtool's order.
        if sample.quality is None:
            return None
        return {key: sample.quality[key] for key in QUALITY_KEYS if key in sample.quality}

    @extend_schema_field(serializers.ChoiceField(choices=["fastq"]))
    def get_format(self, sample: Sample) -> str:
        return "fastq"

    @extend_schema_field(ReadsFileSerializer(many=True))
    def get_reads(self, sample: Sample) -> list[dict]:
        from samples.workflows import reads_files

        return reads_files(sample)


class SampleCreateSerializer(StrictSerializer):
    """POST /samples."""

    name = serializers.CharField(min_length=1, max_length=200)
    host = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    isolate = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    locale = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=NOTES_MAX_LENGTH, default="")
    library_type = serializers.ChoiceField(choices=LibraryType.values, required=False, default=LibraryType.NORMAL)
    subtractions = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    labels = serializers.ListField(child=IdField(), required=False, default=list)
    group = IdField(required=False, allow_null=True, default=None)
    files = serializers.ListField(child=IdField(), min_length=1, max_length=2)


class SampleUpdateSerializer(StrictSerializer):
    """PATCH /samples/{id}."""

    name = serializers.CharField(min_length=1, max_length=200, required=False)
    host = serializers.CharField(required=False, allow_blank=True, max_length=200)
    isolate = serializers.CharField(required=False, allow_blank=True, max_length=200)
    locale = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=NOTES_MAX_LENGTH)
    labels = serializers.ListField(child=IdField(), required=False)
    subtractions = serializers.ListField(child=serializers.CharField(), required=False)


class SampleRightsSerializer(StrictSerializer):
    """PATCH /samples/{id}/rights."""

    group = IdField(required=False, allow_null=True)
    group_read = serializers.BooleanField(required=False)
    group_write = serializers.BooleanField(required=False)
    all_read = serializers.BooleanField(required=False)
    all_write = serializers.BooleanField(required=False)


COLOR = r"^#[0-9a-fA-F]{6}$"
COLOR_ERRORS: dict[str, StrOrPromise] = {"invalid": "Enter a colour as # and six hex digits, such as #A0AEC0."}


class LabelCreateSerializer(StrictSerializer):
    """POST /labels."""

    name = serializers.CharField(min_length=1, max_length=100)
    color = serializers.RegexField(COLOR, required=False, default="#A0AEC0", error_messages=COLOR_ERRORS)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=LABEL_DESCRIPTION_MAX_LENGTH, default=""
    )


class LabelUpdateSerializer(StrictSerializer):
    """PATCH /labels/{id}."""

    name = serializers.CharField(min_length=1, max_length=100, required=False)
    color = serializers.RegexField(COLOR, required=False, error_messages=COLOR_ERRORS)
    description = serializers.CharField(required=False, allow_blank=True, max_length=LABEL_DESCRIPTION_MAX_LENGTH)
