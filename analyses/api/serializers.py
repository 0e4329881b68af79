"""Analysis documents (Virtool's shapes) and input serializers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from analyses.models import Analysis
from analyses.pathoscope.calls import RESULTS
from core.api.schema import described
from core.api.serializers import (
    JobSummarySerializer,
    NamedSerializer,
    StrictSerializer,
    UserBriefSerializer,
    job_summary,
)


class AnalysisSampleSerializer(serializers.Serializer):
    """The analysed sample."""

    id = serializers.CharField()
    name = serializers.CharField()


class AnalysisReferenceSerializer(serializers.Serializer):
    """The reference analysed against (`id` null once the reference is deleted; the name stays)."""

    id = serializers.CharField(allow_null=True)
    name = serializers.CharField()


class AnalysisIndexSerializer(serializers.Serializer):
    """The index build used."""

    id = serializers.CharField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)


class AnalysisMinimalSerializer(serializers.Serializer):
    """An analysis in lists and websocket messages (no results)."""

    id = serializers.CharField()
    workflow = serializers.CharField()
    ready = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    sample = serializers.SerializerMethodField()
    reference = serializers.SerializerMethodField()
    index = serializers.SerializerMethodField()
    subtractions = serializers.SerializerMethodField()
    job = serializers.SerializerMethodField()
    user = serializers.SerializerMethodField()

    @extend_schema_field(AnalysisSampleSerializer)
    def get_sample(self, analysis: Analysis) -> dict:
        return {"id": analysis.sample_id, "name": analysis.sample.name}

    @extend_schema_field(AnalysisReferenceSerializer)
    def get_reference(self, analysis: Analysis) -> dict:
        return {"id": analysis.reference_id, "name": analysis.reference_name}

    @extend_schema_field(AnalysisIndexSerializer)
    def get_index(self, analysis: Analysis) -> dict:
        return {"id": analysis.index_id, "version": analysis.index_version}

    @extend_schema_field(NamedSerializer(many=True))
    def get_subtractions(self, analysis: Analysis) -> list[dict]:
        return [{"id": s.pk, "name": s.name} for s in analysis.subtractions.all()]

    @extend_schema_field(JobSummarySerializer(allow_null=True))
    def get_job(self, analysis: Analysis) -> dict | None:
        return job_summary(analysis.job)

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_user(self, analysis: Analysis) -> dict | None:
        user = analysis.user  # no query when there is none
        return {"id": user.pk, "handle": user.handle} if user is not None else None


class HeadlineControlSerializer(serializers.Serializer):
    """The reference's internal control in a headline."""

    id = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    detected = serializers.BooleanField()


class HeadlineSerializer(serializers.Serializer):
    """The headline result of a ready analysis: for PathoScope the OTUs called `detected` and `indeterminate`
    under the reference's rules in force (heaviest first; both empty: nothing detected) and the internal control;
    for NuVs the contigs assembled and those with an HMM hit."""

    detected = serializers.ListField(child=serializers.CharField(), required=False)
    indeterminate = serializers.ListField(child=serializers.CharField(), required=False)
    control = HeadlineControlSerializer(allow_null=True, required=False)
    contigs = serializers.IntegerField(required=False)
    hmm_contigs = serializers.IntegerField(required=False, help_text="Contigs with at least one ORF with an HMM hit.")


class AnalysisOverviewSerializer(AnalysisMinimalSerializer):
    """An analysis in the overview (ours): its document in lists, plus its state, how long it ran and its
    headline."""

    state = serializers.SerializerMethodField()
    duration = serializers.SerializerMethodField()
    headline = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=["ready", "running", "failed"]))
    def get_state(self, analysis: Analysis) -> str:
        from analyses.selectors import analysis_state

        return analysis_state(analysis)

    @extend_schema_field(
        serializers.FloatField(
            allow_null=True, help_text="Seconds from its job's creation to its end; null while it runs."
        )
    )
    def get_duration(self, analysis: Analysis) -> float | None:
        duration = getattr(analysis, "duration", None)
        return round(duration.total_seconds(), 3) if duration is not None else None

    @extend_schema_field(HeadlineSerializer(allow_null=True))
    def get_headline(self, analysis: Analysis) -> dict | None:
        from analyses.summary import headline_current

        return headline_current(analysis)


# --- PathoScope results as analyses.formatting builds them, described for the schema ------------------------


class HitSequenceSerializer(serializers.Serializer):
    """A detected sequence: its weight, reads, coverage and drawable coverage line."""

    id = serializers.CharField()
    accession = serializers.CharField()
    definition = serializers.CharField()
    segment = serializers.CharField(allow_null=True)
    length = serializers.IntegerField()
    pi = serializers.FloatField(help_text="Weight: the share of reads PathoScope gives this sequence.")
    best = serializers.FloatField()
    reads = serializers.IntegerField()
    coverage = serializers.FloatField()
    depth = serializers.FloatField()
    median_depth = serializers.IntegerField()
    align = described(
        {"type": "array", "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}},
        help_text="Coverage line: [position, depth] at each change point, simplified past 100 points.",
    )


class HitIsolateSerializer(serializers.Serializer):
    """An isolate with detected sequences, and their sums."""

    id = serializers.CharField(allow_null=True)
    source_type = serializers.CharField()
    source_name = serializers.CharField()
    name = serializers.CharField()
    default = serializers.BooleanField()
    pi = serializers.FloatField()
    best = serializers.FloatField()
    reads = serializers.IntegerField()
    coverage = serializers.FloatField()
    depth = serializers.FloatField()
    sequences = HitSequenceSerializer(many=True)


class CallSerializer(serializers.Serializer):
    """A computed call of an OTU (ours; Virtool has none), from the reference's call rules at read time."""

    result = serializers.ChoiceField(choices=RESULTS)
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why, in words: the thresholds missed, or for `detected` the thresholds met.",
    )


class ControlSerializer(serializers.Serializer):
    """The reference's internal control, checked in every analysis."""

    id = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    detected = serializers.BooleanField()
    call = CallSerializer()


class CallRulesUsedSerializer(serializers.Serializer):
    """The call rules the calls were made with (the reference's now, the defaults once it is gone)."""

    min_reads = serializers.IntegerField()
    min_coverage = serializers.FloatField()
    min_median_depth = serializers.FloatField()
    min_weight = serializers.FloatField()


class HitOTUSerializer(serializers.Serializer):
    """A detected OTU at the version the index holds (`id` null when it cannot be found any more)."""

    id = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    abbreviation = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    schema = described({"type": "array", "items": {"type": "object"}})
    pi = serializers.FloatField()
    best = serializers.FloatField()
    reads = serializers.IntegerField()
    coverage = serializers.FloatField()
    depth = serializers.FloatField()
    max_depth = serializers.IntegerField()
    isolates = HitIsolateSerializer(many=True)
    call = CallSerializer()


class PathoscopeResultsSerializer(serializers.Serializer):
    """PathoScope results grouped by OTU, heaviest first."""

    read_count = serializers.IntegerField()
    subtracted_count = serializers.IntegerField()
    hits = HitOTUSerializer(many=True)
    call_rules = CallRulesUsedSerializer()
    internal_control = ControlSerializer(
        allow_null=True, help_text="The reference's internal control and whether it was detected; null when none."
    )
    sample_read_count = serializers.IntegerField(
        allow_null=True, help_text="Reads of the sample (every file), for reads as a share of them."
    )
    evidence = described(
        {
            "type": "object",
            "nullable": True,
            "description": (
                "What the analysis kept behind each hit OTU, downloadable from /analyses/{id}/otus/{otu_id}/"
                "reads.fq.gz and .../consensus.fa; null for an analysis made before. `min_depth`: the consensus calls "
                "no base where fewer reads cover the position. `otus`: per OTU id, `reads` assigned to it by the EM "
                "(reads whose final best hit, or one of their tied best hits, is one of its sequences) and `shared`, "
                "how many of those are tied with another OTU's sequence. `depth_cap`: the evidence BAM (and the "
                "consensus made from it) keeps the first `per_window` alignments starting in each `window` bases of a "
                "sequence, as genome browsers downsample; `capped` alignments were left out (0 below the cap); absent "
                "for an analysis made before the cap."
            ),
            "properties": {
                "min_depth": {"type": "integer"},
                "depth_cap": {
                    "type": "object",
                    "properties": {
                        "window": {"type": "integer"},
                        "per_window": {"type": "integer"},
                        "capped": {"type": "integer"},
                    },
                },
                "otus": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {"reads": {"type": "integer"}, "shared": {"type": "integer"}},
                    },
                },
            },
        }
    )


# --- NuVs results as analyses.nuvs.results builds them ------------------------------------------------------


class NuvsHmmHitSerializer(serializers.Serializer):
    """An HMM hit of an ORF, with the annotation of its HMM (empty when that HMM is no longer installed)."""

    hit = serializers.CharField(help_text="Id of the HMM annotation (`GET /api/hmms/{id}`).")
    full_e = serializers.FloatField()
    full_score = serializers.FloatField()
    full_bias = serializers.FloatField()
    best_e = serializers.FloatField()
    best_score = serializers.FloatField()
    best_bias = serializers.FloatField()
    cluster = serializers.IntegerField(allow_null=True, help_text="vFam cluster; null when the HMM was purged.")
    families = described({"type": "object", "additionalProperties": {"type": "integer"}})
    names = serializers.ListField(child=serializers.CharField())


class NuvsOrfSerializer(serializers.Serializer):
    """An open reading frame of a contig, translated, with its HMM hits."""

    index = serializers.IntegerField()
    frame = serializers.IntegerField()
    strand = serializers.IntegerField()
    pos = serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2)
    pro = serializers.CharField(allow_blank=True)
    hits = NuvsHmmHitSerializer(many=True)


class BlastHitSerializer(serializers.Serializer):
    """A sequence NCBI found, with its best alignment."""

    accession = serializers.CharField(allow_blank=True)
    name = serializers.CharField(allow_blank=True, help_text="Scientific name of the organism.")
    title = serializers.CharField(allow_blank=True)
    taxid = described({"oneOf": [{"type": "integer"}, {"type": "string"}]})
    evalue = serializers.FloatField()
    score = serializers.FloatField()
    bit_score = serializers.FloatField()
    identity = serializers.IntegerField()
    align_len = serializers.IntegerField()
    gaps = serializers.IntegerField()
    len = serializers.IntegerField()


class BlastResultSerializer(serializers.Serializer):
    """A finished BLAST search: the hits and NCBI's description of the search."""

    rid = serializers.CharField()
    program = serializers.CharField()
    version = serializers.CharField()
    params = described({"type": "object"})
    target = described({"type": "object"})
    stat = described({"type": "object"})
    masking = described({"type": "array", "items": {"type": "object"}, "nullable": True})
    hits = BlastHitSerializer(many=True)


class NuvsBlastSerializer(serializers.Serializer):
    """The NCBI BLAST search of one contig (Virtool's `nuvs_blast`)."""

    id = serializers.IntegerField()
    analysis_id = serializers.CharField()
    sequence_index = serializers.IntegerField()
    rid = serializers.CharField(allow_null=True, help_text="NCBI's request id, once NCBI accepted the search.")
    ready = serializers.BooleanField()
    result = BlastResultSerializer(allow_null=True)
    error = serializers.CharField(allow_null=True)
    interval = serializers.IntegerField(help_text="Seconds from `last_checked_at` to the next check of NCBI.")
    last_checked_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class NuvsContigSerializer(serializers.Serializer):
    """An assembled contig with its ORFs and Virtool's figures."""

    id = serializers.IntegerField(help_text="The contig's index.")
    index = serializers.IntegerField()
    sequence = serializers.CharField()
    orfs = NuvsOrfSerializer(many=True)
    depth = serializers.FloatField(
        required=False,
        help_text=(
            "Mean depth of the contig (one decimal): the reads given to SPAdes mapped back to the contigs with "
            "bowtie2 --local, primary alignments (samtools coverage). Absent from analyses made before it was measured."
        ),
    )
    annotatedOrfCount = serializers.IntegerField(help_text="ORFs with at least one HMM hit.")
    e = serializers.FloatField(
        allow_null=True, help_text="Least full E-value over the ORFs; an ORF without hits counts 0."
    )
    families = serializers.ListField(child=serializers.CharField())
    names = serializers.ListField(child=serializers.CharField())
    blast = NuvsBlastSerializer(allow_null=True)


class NuvsResultsSerializer(serializers.Serializer):
    """NuVs results: the contigs in their stored order."""

    hits = NuvsContigSerializer(many=True)


class AnalysisFileSerializer(serializers.Serializer):
    """A result file kept with an analysis (Virtool's `analysis_files`)."""

    id = serializers.IntegerField()
    analysis = serializers.CharField(source="analysis_id")
    name = serializers.CharField()
    name_on_disk = serializers.CharField()
    format = serializers.CharField()
    size = serializers.IntegerField(allow_null=True)
    uploaded_at = serializers.DateTimeField()
    description = serializers.CharField(allow_blank=True)


class AnalysisSerializer(AnalysisMinimalSerializer):
    """An analysis with its files and formatted results (null until the analysis is ready)."""

    results = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()

    def get_results(self, analysis: Analysis) -> dict | None:
        from analyses.formatting import format_results

        return format_results(analysis)

    @extend_schema_field(AnalysisFileSerializer(many=True))
    def get_files(self, analysis: Analysis) -> list[dict]:
        return list(AnalysisFileSerializer(analysis.files.all(), many=True).data)


class PathoscopeAnalysisSerializer(AnalysisSerializer):
    """A PathoScope analysis (the schema's description of `AnalysisSerializer` for this workflow)."""

    workflow = serializers.ChoiceField(choices=["pathoscope_bowtie"])  # type: ignore[assignment]

    @extend_schema_field(PathoscopeResultsSerializer(allow_null=True))
    def get_results(self, analysis: Analysis) -> dict | None:
        return super().get_results(analysis)


class NuvsAnalysisSerializer(AnalysisSerializer):
    """A NuVs analysis (the schema's description of `AnalysisSerializer` for this workflow)."""

    workflow = serializers.ChoiceField(choices=["nuvs"])  # type: ignore[assignment]

    @extend_schema_field(NuvsResultsSerializer(allow_null=True))
    def get_results(self, analysis: Analysis) -> dict | None:
        return super().get_results(analysis)


def analysis_document_schema() -> PolymorphicProxySerializer:
    """`GET /api/analyses/{id}`: the analysis document of its workflow."""
    return PolymorphicProxySerializer(
        component_name="AnalysisDocument",
        serializers={"pathoscope_bowtie": PathoscopeAnalysisSerializer, "nuvs": NuvsAnalysisSerializer},
        resource_type_field_name="workflow",
    )


def analysis_minimal(analysis: Analysis) -> dict[str, Any]:
    """An analysis in lists and websocket messages (no results)."""
    return AnalysisMinimalSerializer(analysis).data


def analysis_document(analysis: Analysis) -> dict[str, Any]:
    """An analysis with its formatted results."""
    return AnalysisSerializer(analysis).data


class AnalysisCreateSerializer(StrictSerializer):
    """POST /samples/{id}/analyses."""

    workflow = serializers.CharField(required=False, default="pathoscope_bowtie")
    ref_id = serializers.CharField()
    subtractions = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    ml = serializers.CharField(required=False, allow_null=True)


class AnalysesCreateSerializer(AnalysisCreateSerializer):
    """POST /analyses: the same analysis on several samples."""

    sample_ids = serializers.ListField(child=serializers.CharField(), min_length=1, max_length=500)
    # Omitted: each sample with its own default subtractions.
    subtractions = serializers.ListField(child=serializers.CharField(), required=False)


# --- The cross-sample matrix (ours; Virtool has none) ------------------------------------------------------------


MATRIX_MAX_IDS = 250
MATRIX_IDS_LENGTH = MATRIX_MAX_IDS * 9 - 1


def _comma_list(value: str, name: str, *, pattern: str = r"[A-Za-z0-9_-]{1,64}") -> list[str]:
    import re

    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        if not re.fullmatch(pattern, item):
            raise serializers.ValidationError(f"{item!r} is not a valid {name}")
    return items


class MatrixQuerySerializer(StrictSerializer):
    """The query of GET /analyses/matrix (and its .csv and .xlsx): which analyses, the reference, columns, order."""

    # At most MATRIX_MAX_IDS ids of 8 characters with their commas: a query string stays well under the 16 kB a
    # request line may have (a longer selection is chosen by label).
    ids = serializers.RegexField(
        r"^[A-Za-z0-9_,-]*$",
        required=False,
        max_length=MATRIX_IDS_LENGTH,
        help_text=f"Analysis ids, comma-separated (at most {MATRIX_MAX_IDS}).",
    )
    sample_ids = serializers.RegexField(
        r"^[A-Za-z0-9_,-]*$",
        required=False,
        max_length=MATRIX_IDS_LENGTH,
        help_text=f"Sample ids, comma-separated (at most {MATRIX_MAX_IDS}): the latest ready PathoScope analysis of "
        "each.",
    )
    # Named as the samples list's parameter, though it hides DRF's `Field.label` in the type checker's eyes.
    label = serializers.CharField(  # type: ignore[assignment]
        required=False,
        max_length=200,
        help_text="Label ids, comma-separated: the samples carrying every one (alone, the selection; with ids or "
        "sample_ids, a filter).",
    )
    ref_id = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The reference (needed when the samples' latest analyses are of several).",
    )
    all = serializers.BooleanField(
        required=False, default=False, help_text="Every OTU of the reference as a column, not only those found."
    )
    sort = serializers.CharField(
        required=False,
        default="sample",
        max_length=80,
        help_text="'sample' (by name) or an OTU id (by call, then reads); '-' before it reverses.",
    )

    def validate_ids(self, value: str) -> list[str]:
        return _comma_list(value, "analysis id")

    def validate_sample_ids(self, value: str) -> list[str]:
        return _comma_list(value, "sample id")

    def validate_label(self, value: str) -> list[int]:
        return [int(item) for item in _comma_list(value, "label id", pattern=r"[0-9]{1,18}")]

    def validate_sort(self, value: str) -> str:
        return _comma_list(value, "sort key", pattern=r"-?[A-Za-z0-9_]{1,64}")[0] if value.strip() else "sample"


class MatrixCellSerializer(serializers.Serializer):
    """One sample by OTU: the call and its numbers (zeros when the analysis did not find the OTU)."""

    call = serializers.ChoiceField(choices=RESULTS)
    reads = serializers.IntegerField()
    coverage = serializers.FloatField()
    depth = serializers.IntegerField(help_text="Median depth.")
    weight = serializers.FloatField()
    reasons = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Only on cells with reads."
    )


class MatrixOTUSerializer(serializers.Serializer):
    """A column: an OTU, with how many rows call it detected and how many found it."""

    id = serializers.CharField()
    name = serializers.CharField()
    abbreviation = serializers.CharField()
    detected = serializers.IntegerField()
    found = serializers.IntegerField()


class MatrixSampleSerializer(serializers.Serializer):
    """A row: a sample, its analysis and one cell per column."""

    sample_id = serializers.CharField()
    sample_name = serializers.CharField()
    labels = serializers.ListField(child=serializers.DictField())
    analysis_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    reference = AnalysisReferenceSerializer()
    index_version = serializers.IntegerField(allow_null=True)
    subtractions = serializers.ListField(child=serializers.DictField())
    internal_control = serializers.DictField(allow_null=True, help_text="{detected}; null without a control.")
    cells = MatrixCellSerializer(many=True)


class MatrixSerializer(serializers.Serializer):
    """Samples by OTUs of PathoScope analyses (documentation only: the matrix is rendered as built)."""

    reference = AnalysisReferenceSerializer(allow_null=True)
    call_rules = CallRulesUsedSerializer()
    internal_control = serializers.DictField(allow_null=True)
    otus = MatrixOTUSerializer(many=True)
    samples = MatrixSampleSerializer(many=True)
    missing = serializers.ListField(
        child=serializers.DictField(), help_text="Chosen samples without a ready PathoScope analysis (of ref_id)."
    )
    sort = serializers.CharField()
