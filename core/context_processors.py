"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.navigation import nav_for
from core.version import get_version


def virtool(request: HttpRequest) -> dict[str, Any]:
    """Navigation and version for the base layout."""
    return {"navigation": nav_for(request.user), "virtool_version": get_version()}
