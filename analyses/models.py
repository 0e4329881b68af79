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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.workflow} {self.id}"
