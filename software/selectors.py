"""Reads for the software status: the running version, the newest release known and whether it is newer."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from core.github import is_newer
from core.version import get_version
from software.models import SoftwareStatus

# `git describe --tags` of a checkout past a tag: v1.2.0-5-gabc1234[-dirty].
_DESCRIBE = re.compile(r"^(?P<tag>.+?)-(?P<ahead>\d+)-g[0-9a-f]+(?:-dirty)?$")


def software_status_get() -> SoftwareStatus:
    """The status row, created on first use."""
    status, _ = SoftwareStatus.objects.get_or_create(pk=1)
    return status


def installed_version() -> str:
    """The running version as a comparable name: `v1.2.0-5-gabc1234` (5 commits past v1.2.0) is `v1.2.0.post5`."""
    version = get_version()
    match = _DESCRIBE.match(version)
    return f"{match['tag']}.post{match['ahead']}" if match else version


def software_newer(*, release: dict[str, Any] | None) -> bool:
    """Whether `release` is a newer version than the one running."""
    if not release:
        return False
    return is_newer(release.get("tag_name") or release.get("name"), installed_version())


def software_document(*, status: SoftwareStatus | None = None) -> dict[str, Any]:
    """Virtool's status document "software": the running version, the newest release, `newer` with the release's
    notes (`body`), the check's errors and when it last asked GitHub."""
    row = status or software_status_get()
    slug = settings.VIRTOOL_SOFTWARE_SLUG
    release = row.release if row.slug == slug else None
    return {
        "id": "software",
        "installed": get_version(),
        "slug": slug,
        "enabled": bool(slug),
        "release": release,
        "newer": software_newer(release=release),
        "body": (release or {}).get("body") or "",
        "errors": list(row.errors) if row.slug == slug else [],
        "retrieved_at": row.retrieved_at if row.slug == slug else None,
    }
