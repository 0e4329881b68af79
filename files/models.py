"""Uploads: files sent to the server (reads, references, subtractions, HMMs) before something is made of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from files.constants import UploadType


class Upload(models.Model):
    """One uploaded file in `<data_path>/files/<name_on_disk>`; `removed` rows have no file any more.

    A resumable (tus) upload has a row from its creation: `ready` false, `offset` bytes of `size` received into
    `<data_path>/files/.resumable/<resume_token>`. It becomes a normal upload when the last byte arrives.
    """

    name = models.CharField(max_length=255)
    name_on_disk = models.CharField(max_length=300, blank=True, default="")
    type = models.CharField(max_length=16, choices=UploadType.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads"
    )
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    ready = models.BooleanField(default=False)
    reserved = models.BooleanField(default=False)
    removed = models.BooleanField(default=False)
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The secret in a resumable upload's URL (`/api/uploads/tus/<resume_token>`); with `user`, not the session,
    # it names the upload, so a fresh login of the same user resumes it.
    resume_token = models.CharField(max_length=32, null=True, blank=True, unique=True)
    offset = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["removed", "reserved", "type"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class FileReport(models.Model):
    """Something in the files or watch folder that needs an administrator's eye (never adopted silently)."""

    class Kind(models.TextChoices):
        UNREFERENCED = "unreferenced", "File in the files folder without an upload"
        NOT_FASTQ = "not_fastq", "File in the watch folder that is not FASTQ"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    path = models.CharField(max_length=1000)
    size = models.BigIntegerField(default=0)
    detail = models.TextField(blank=True, default="")
    detected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-detected_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "path"], name="files_report_kind_path_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.path}"
