"""References (curated sets of known viruses) and the users and groups that may work on them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

from core.ids import new_id
from references.constants import DataType


class Reference(models.Model):
    """A reference: its OTUs live in `otus`, its builds in `indexes`."""

    id = models.CharField(primary_key=True, max_length=8, default=new_id, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    data_type = models.CharField(max_length=8, choices=DataType.choices, default=DataType.GENOME)
    organism = models.CharField(max_length=200, blank=True, default="")
    internal_control = models.CharField(max_length=8, null=True, blank=True, help_text="An OTU id.")
    # The call rules someone set ({min_reads, min_coverage, min_median_depth, min_weight}, any of them); the others
    # are `references.call_rules.DEFAULT_CALL_RULES`. Read when an analysis is read, so a change applies to old results.
    call_rules = models.JSONField(default=dict, blank=True, help_text="Call rules set here; defaults for the rest.")
    restrict_source_types = models.BooleanField(default=False)
    source_types = models.JSONField(default=list, blank=True)
    targets = models.JSONField(
        null=True, blank=True, help_text="Barcode targets [{name, description, required, length}]."
    )
    created_at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    cloned_from = models.JSONField(null=True, blank=True, help_text="{id, name} of the reference copied.")
    imported_from = models.JSONField(null=True, blank=True, help_text="The upload imported: {id, name}.")
    # Remote references (installed from a GitHub release): {slug, errors[]}; the newest release known (with `newer`
    # and `retrieved_at`, kept current by the release refresher); the release installed ({...release, ready, user,
    # created_at}); every install and update in order.
    remotes_from = models.JSONField(null=True, blank=True)
    release = models.JSONField(null=True, blank=True)
    installed = models.JSONField(null=True, blank=True)
    updates = models.JSONField(default=list, blank=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ready = models.BooleanField(default=True, help_text="False while an import or clone fills it.")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ReferenceMember(models.Model):
    """Rights of one user or one group on a reference (exactly one of the two is set)."""

    reference = models.ForeignKey(Reference, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE)
    build = models.BooleanField(default=False)
    modify = models.BooleanField(default=False)
    modify_otu = models.BooleanField(default=False)
    remove = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["reference", "user"], name="references_member_user_unique"),
            models.UniqueConstraint(fields=["reference", "group"], name="references_member_group_unique"),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, group__isnull=True)
                | models.Q(user__isnull=True, group__isnull=False),
                name="references_member_user_xor_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.group} on {self.reference_id}"
