"""Samples (one sequenced library each) and the labels that sort them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core.ids import new_id
from samples.constants import LABEL_DESCRIPTION_MAX_LENGTH, NOTES_MAX_LENGTH, LibraryType


class Label(models.Model):
    """A coloured label that can be put on samples."""

    name = models.CharField(max_length=100)
    color = models.CharField(max_length=7, default="#A0AEC0")
    description = models.TextField(
        blank=True,
        default="",
        max_length=LABEL_DESCRIPTION_MAX_LENGTH,
        validators=[MaxLengthValidator(LABEL_DESCRIPTION_MAX_LENGTH)],
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="samples_label_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Sample(models.Model):
    """A sequenced library: one (unpaired) or two (paired) read files and what a lab knows about it."""

    id = models.CharField(primary_key=True, max_length=8, default=new_id, editable=False)
    name = models.CharField(max_length=200)
    host = models.CharField(max_length=200, blank=True, default="")
    isolate = models.CharField(max_length=200, blank=True, default="")
    locale = models.CharField(max_length=200, blank=True, default="")
    notes = models.TextField(
        blank=True, default="", max_length=NOTES_MAX_LENGTH, validators=[MaxLengthValidator(NOTES_MAX_LENGTH)]
    )
    library_type = models.CharField(max_length=16, choices=LibraryType.choices, default=LibraryType.NORMAL)
    paired = models.BooleanField(default=False)
    labels = models.ManyToManyField(Label, blank=True, related_name="samples")
    subtractions = models.ManyToManyField(
        "subtractions.Subtraction", blank=True, related_name="samples", help_text="Default subtractions."
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="samples")
    group_read = models.BooleanField(default=True)
    group_write = models.BooleanField(default=False)
    all_read = models.BooleanField(default=True)
    all_write = models.BooleanField(default=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="samples")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    ready = models.BooleanField(default=False)
    quality = models.JSONField(null=True, blank=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    upload_ids = models.JSONField(default=list, blank=True)
    # Legacy samples (made by older Virtool releases and imported): their reads are not in today's form until an
    # `update_sample` job has compressed and renamed them, profiled them again and translated the `srna` flag.
    is_legacy = models.BooleanField(default=False, db_index=True)
    srna = models.BooleanField(
        null=True, blank=True, help_text="Virtool 2019's small-RNA flag, kept until update_sample translates it."
    )
    files = models.JSONField(
        default=list,
        blank=True,
        help_text="A legacy sample's read files as Virtool listed them ([{name, size}], e.g. reads_1.fastq); "
        "empty once the reads are in today's form.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(Lower("name"), name="samples_sample_lower_name")]

    def __str__(self) -> str:
        return self.name
