"""Index builds: a frozen manifest of OTU versions and the bowtie2 files made from it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.ids import new_id


class Index(models.Model):
    """Build `version` of a reference."""

    id = models.CharField(primary_key=True, max_length=8, default=new_id, editable=False)
    reference = models.ForeignKey("references.Reference", on_delete=models.CASCADE, related_name="indexes")
    version = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    manifest = models.JSONField(default=dict, blank=True, help_text="{otu_id: otu_version}")
    ready = models.BooleanField(default=False)
    has_files = models.BooleanField(default=True)
    has_json = models.BooleanField(default=False)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["reference", "version"], name="indexes_index_version_unique")]

    def __str__(self) -> str:
        return f"{self.reference_id} v{self.version}"


class IndexOTU(models.Model):
    """An OTU as built into an index: its joined document at the manifest version, so reads replay no history.

    Stored for the OTUs an analysis hits, at the end of the analysis (or on the first read of an analysis made
    before these rows existed). Built versions never change: their changes cannot be reverted.
    """

    index = models.ForeignKey(Index, on_delete=models.CASCADE, related_name="otus")
    otu_id = models.CharField(max_length=8)
    version = models.IntegerField()
    document = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["index", "otu_id"], name="indexes_indexotu_unique")]

    def __str__(self) -> str:
        return f"{self.otu_id} v{self.version} in {self.index_id}"
