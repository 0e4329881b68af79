"""Writes for the software status: the release refresher (it reports; it never updates this software)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.github import GitHubError, releases_list, version_of
from software.models import SoftwareStatus
from software.selectors import software_status_get

log = logging.getLogger(__name__)

RELEASE_KEYS = ("id", "name", "tag_name", "body", "html_url", "published_at", "prerelease")


def newest_release(releases: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest published, non-prerelease release: by version when the tags carry one, else GitHub's order."""
    stable = [release for release in releases if not release.get("prerelease")]
    if not stable:
        return None
    versioned = [
        (version, release)
        for release in stable
        if (version := version_of(release.get("tag_name") or release.get("name"))) is not None
    ]
    # By version when the tags carry one; else GitHub's order, newest first.
    chosen = max(versioned, key=lambda pair: pair[0])[1] if versioned else stable[0]
    document = {key: chosen.get(key) for key in RELEASE_KEYS}
    document["name"] = document["name"] or document["tag_name"] or ""
    document["body"] = document["body"] or ""
    return document


def software_release_refresh() -> SoftwareStatus | None:
    """Ask GitHub for the releases of `VIRTOOL_SOFTWARE_SLUG` and record the newest; None when the check is off.

    Conditional on the stored ETag (a 304 only renews `retrieved_at`). A failure is written into `errors` and never
    raised; the release known before stays. Success clears the errors.
    """
    slug = settings.VIRTOOL_SOFTWARE_SLUG
    if not slug:
        return None
    status = software_status_get()
    etag = status.etag if status.slug == slug else ""
    try:
        answer = releases_list(slug, etag=etag or None)
    except GitHubError as error:
        log.warning("software release check of %s failed: %s", slug, error)
        return _record(slug=slug, error=f"Could not check for a new version at {slug}: {error}")
    if answer is None:
        return _record(slug=slug, unchanged=True)
    releases, new_etag = answer
    return _record(slug=slug, release=newest_release(releases), etag=new_etag or "")


@transaction.atomic
def _record(
    *,
    slug: str,
    release: dict[str, Any] | None = None,
    etag: str = "",
    error: str | None = None,
    unchanged: bool = False,
) -> SoftwareStatus:
    status = SoftwareStatus.objects.select_for_update().get(pk=software_status_get().pk)
    if status.slug != slug:
        status.slug, status.release, status.etag = slug, None, ""
    if error is not None:
        status.errors = [error]
    else:
        if not unchanged:
            status.release, status.etag = release, etag
        status.errors = []
        status.retrieved_at = timezone.now()
    status.updated_at = timezone.now()
    status.save()
    return status
