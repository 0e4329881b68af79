"""Analyses of samples (PathoScope detection of known viruses), with their results."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.ids import new_id


class Analysis(models.Model):
    """One workflow run on one sample against one reference build."""

    id = models.CharField(primary_key=True, max_length=8, default=new_id, editable=False)
    workflow = models.CharField(max_length=32, default="pathoscope_bowtie")
    sample = models.ForeignKey("samples.Sample", on_delete=models.CASCADE, related_name="analyses")
    reference = models.ForeignKey(
        "references.Reference", null=True, blank=True, on_delete=models.SET_NULL, related_name="analyses"
    )
    reference_name = models.CharField(max_length=200, blank=True, default="")
    index = models.ForeignKey("indexes.Index", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    index_version = models.IntegerField(null=True, blank=True)
    subtractions = models.ManyToManyField("subtractions.Subtraction", blank=True, related_name="analyses")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ready = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    results = models.JSONField(null=True, blank=True)
    # Drawable coverage line of each hit sequence ({sequence id: [[x, depth], ...]}), simplified once when the
    # results are first formatted (at the end of the workflow) instead of on every read: it is most of a read's cost.
    coverage_lines = models.JSONField(null=True, blank=True, editable=False)
    # Each hit OTU's numbers as the cross-sample matrix reads them (`analyses.matrix`), computed once from the
    # results: a matrix of 500 analyses then reads a few kilobytes each instead of every depth array.
    otu_numbers = models.JSONField(null=True, blank=True, editable=False)
    # What the overview shows of a ready analysis without reading `results` (analyses.summary): PathoScope's
    # evidence per OTU hit (rule-free), NuVs' contig counts; kept when the results are first formatted.
    summary = models.JSONField(null=True, blank=True, editable=False)
    # The headline under the rules in force (`{detected: [names], indeterminate: [names]}`, heaviest first), and the
    # rules and control it was called with: recalled when the reference's call rules or control change.
    headline = models.JSONField(null=True, blank=True, editable=False)
    headline_key = models.CharField(max_length=200, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.workflow} {self.id}"


class AnalysisFile(models.Model):
    """A result file of an analysis kept in its folder (Virtool's `analysis_files`), e.g. NuVs' `assembly.fa.gz`."""

    class Format(models.TextChoices):
        FASTA = "fasta", "FASTA"
        FASTQ = "fastq", "FASTQ"
        TSV = "tsv", "TSV"
        CSV = "csv", "CSV"
        JSON = "json", "JSON"
        SAM = "sam", "SAM"
        BAM = "bam", "BAM"
        UNKNOWN = "unknown", "Unknown"

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    name_on_disk = models.CharField(max_length=255)
    format = models.CharField(max_length=16, choices=Format.choices, default=Format.UNKNOWN)
    size = models.BigIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    description = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["analysis", "name"], name="analysis_file_name_unique")]

    def __str__(self) -> str:
        return f"{self.analysis_id}/{self.name}"


class NuvsBlast(models.Model):
    """An NCBI BLAST search of one NuVs contig (Virtool's `nuvs_blast`); a new search of the contig replaces it."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="blasts")
    sequence_index = models.IntegerField()
    # NCBI's request id, known once NCBI accepted the search.
    rid = models.CharField(max_length=64, null=True, blank=True)
    ready = models.BooleanField(default=False)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    # Seconds until the next check of NCBI (the client shows "checking again in").
    interval = models.IntegerField(default=5)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Steps the BLAST task has taken; each step claims the next number, so a message delivered twice acts once.
    checks = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["analysis_id", "sequence_index"]
        constraints = [models.UniqueConstraint(fields=["analysis", "sequence_index"], name="nuvs_blast_one_per_contig")]
        verbose_name = "NuVs BLAST"

    def __str__(self) -> str:
        return f"BLAST {self.analysis_id}/{self.sequence_index} ({self.rid or 'not submitted'})"
