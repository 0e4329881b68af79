"""Installed HMM annotations (Virtool's `hmm` documents) and the status of the installed HMM data."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.ids import new_id


class HMM(models.Model):
    """One profile HMM's annotation: a cluster of viral proteins with their names, families and genera."""

    id = models.CharField(primary_key=True, max_length=8, default=new_id, editable=False)
    cluster = models.PositiveIntegerField(unique=True, help_text="vFam cluster number (the profile is vFam_<cluster>).")
    count = models.PositiveIntegerField(default=0, help_text="Number of protein sequences in the cluster.")
    names = models.JSONField(default=list, help_text="The most common protein names (up to three).")
    families = models.JSONField(default=dict, help_text="{family: count} of the cluster's sequences.")
    genera = models.JSONField(default=dict, help_text="{genus: count} of the cluster's sequences.")
    entries = models.JSONField(default=list, help_text="[{accession, gi, name, organism}] of the cluster's sequences.")
    length = models.PositiveIntegerField(default=0, help_text="Length of the profile (match states).")
    mean_entropy = models.FloatField(default=0.0)
    total_entropy = models.FloatField(default=0.0)
    hidden = models.BooleanField(default=False)
    # The names and families, one a line, for `find` (JSON text would match keys, counts and escapes too).
    search = models.TextField(default="", blank=True, editable=False)

    class Meta:
        ordering = ["cluster"]
        verbose_name = "HMM"

    def __str__(self) -> str:
        return f"vFam_{self.cluster}"


class HMMStatus(models.Model):
    """The one status row of the installed HMM data (Virtool's `status` document "hmm")."""

    # {name, ready, user{id}, created_at, release fields...} of what is installed; None when nothing is.
    installed = models.JSONField(null=True, blank=True)
    # The newest release known of the `hmm_slug` repository (the refresher fills it), with `newer`.
    release = models.JSONField(null=True, blank=True)
    updates = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    # The install running or last run, shown as Virtool's `task`.
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "HMM status"
        verbose_name_plural = "HMM status"

    def __str__(self) -> str:
        return "HMM status"
