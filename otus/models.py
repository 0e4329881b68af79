"""OTUs with their isolates, their sequences, and the history of every change made to them.

The OTU row keeps its isolates as a list (Virtool's document shape); sequences are rows of their own. The
"joined" OTU (the row plus its sequences nested under their isolates) is what history diffs are computed on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core.ids import new_id


class OTU(models.Model):
    """One virus species in a reference."""

    id = models.CharField(primary_key=True, max_length=8, default=new_id, editable=False)
    reference = models.ForeignKey("references.Reference", on_delete=models.CASCADE, related_name="otus")
    name = models.CharField(max_length=300)
    abbreviation = models.CharField(max_length=100, blank=True, default="")
    schema = models.JSONField(default=list, blank=True)
    isolates = models.JSONField(default=list, blank=True, help_text="[{id, default, source_type, source_name}]")
    verified = models.BooleanField(default=False)
    version = models.IntegerField(default=0)
    last_indexed_version = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    imported = models.BooleanField(default=False)
    remote_id = models.CharField(max_length=32, null=True, blank=True, help_text="The id in the file it came from.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(Lower("name"), name="otus_otu_lower_name")]

    def __str__(self) -> str:
        return self.name


class Sequence(models.Model):
    """A GenBank-like record of one isolate."""

    id = models.CharField(primary_key=True, max_length=8, default=new_id, editable=False)
    otu = models.ForeignKey(OTU, on_delete=models.CASCADE, related_name="sequences")
    isolate_id = models.CharField(max_length=16, db_index=True)
    reference = models.ForeignKey("references.Reference", on_delete=models.CASCADE, related_name="+")
    accession = models.CharField(max_length=100)
    definition = models.TextField()
    host = models.CharField(max_length=300, null=True, blank=True, default="")
    segment = models.CharField(max_length=100, null=True, blank=True)
    sequence = models.TextField()
    target = models.CharField(max_length=100, null=True, blank=True)
    remote_id = models.CharField(max_length=32, null=True, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Order of insertion within the OTU.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.accession} ({self.id})"


class Change(models.Model):
    """One history record: a change to an OTU, with the diff that undoes it."""

    change_id = models.CharField(max_length=40, unique=True, help_text='"<otu_id>.<version>" or "<otu_id>.removed".')
    reference = models.ForeignKey("references.Reference", on_delete=models.CASCADE, related_name="history")
    otu_id = models.CharField(max_length=8, db_index=True)
    otu_name = models.CharField(max_length=300)
    otu_version = models.IntegerField(null=True, blank=True, help_text="Null when the change removed the OTU.")
    method_name = models.CharField(max_length=32)
    description = models.TextField(blank=True, default="")
    index = models.ForeignKey("indexes.Index", null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    diff = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["otu_id", "id"]), models.Index(fields=["reference", "index"])]

    def __str__(self) -> str:
        return self.change_id
