"""Subtractions: host genomes whose reads are removed before viruses are called."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.ids import new_id


class Subtraction(models.Model):
    """A host genome (FASTA) with its bowtie2 index."""

    id = models.CharField(primary_key=True, max_length=8, default=new_id, editable=False)
    name = models.CharField(max_length=200)
    nickname = models.CharField(max_length=200, blank=True, default="")
    ready = models.BooleanField(default=False)
    count = models.PositiveIntegerField(null=True, blank=True, help_text="Number of sequences in the FASTA.")
    gc = models.JSONField(null=True, blank=True, help_text="{a, c, g, t, n} proportions, 3 decimals.")
    file = models.JSONField(null=True, blank=True, help_text="The upload it was made from: {id, name}.")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
