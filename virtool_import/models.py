"""What the Virtool importer remembers: which Virtool document became which row, and the last import's report."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ImportedDocument(models.Model):
    """One Virtool document brought in: its collection and id, the row it became, and a digest of its content.

    The digest makes a second import of the same dump write nothing; a changed document updates its row. Users,
    groups and labels have integer keys here, so this is also where their Virtool ids are kept.
    """

    collection = models.CharField(max_length=32)
    virtool_id = models.CharField(max_length=200)
    local_id = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)
    # What a later import compares besides the digest (a user's password hash digest: an unchanged one is never
    # written again, so a password rehashed at login stays).
    extra = models.JSONField(default=dict, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "virtool_id"], name="virtool_import_document_unique")
        ]

    def __str__(self) -> str:
        return f"{self.collection}/{self.virtool_id} → {self.local_id}"


class ImportReport(models.Model):
    """The report of one import (or check): counts per collection and every problem with its reason."""

    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    check_only = models.BooleanField(default=False)
    dump = models.CharField(max_length=1000)
    data = models.CharField(max_length=1000)
    shape = models.CharField(max_length=16, blank=True, default="", help_text="2019, 36.x or mixed.")
    # [{collection, read, created, updated, unchanged, skipped}] in import order.
    collections = models.JSONField(default=list)
    # [{collection, id, reason, skipped}]: skipped problems kept the document out; the others are notes.
    problems = models.JSONField(default=list)
    # [{id, name, reasons, job}] of the samples marked legacy, and the update_sample job started for each.
    legacy_samples = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Virtool import of {self.dump} at {self.created_at:%Y-%m-%d %H:%M}"
