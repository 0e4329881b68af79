"""The status of this software's releases (Virtool's status document "software")."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SoftwareStatus(models.Model):
    """The one row: the newest release of `VIRTOOL_SOFTWARE_SLUG` known, and how the last check went."""

    # {id, name, tag_name, body, html_url, published_at, prerelease} of the newest release; None until one is known.
    release = models.JSONField(null=True, blank=True)
    # The repository the release (and the ETag) belong to; a changed setting starts afresh.
    slug = models.CharField(max_length=200, blank=True, default="")
    # ETag of the releases list: the next check is conditional on it (a 304 costs nothing).
    etag = models.CharField(max_length=200, blank=True, default="")
    errors = models.JSONField(default=list, blank=True)
    retrieved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "software status"
        verbose_name_plural = "software status"

    def __str__(self) -> str:
        return "Software status"
