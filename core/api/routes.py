"""The API's routes as the site wires them: `GET /api` lists them, and the schema leaves their aliases out.

`virtool_site/urls.py` registers every app's API patterns here (`api_routes_register`); apps name their alias
prefixes (`api_alias_register`, e.g. `/references/v1` beside Virtool's `/refs`). Core imports no app for this.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.urls import URLPattern, URLResolver

Route = URLPattern | URLResolver

_ROUTES: list[Route] = []
_ALIASES: set[str] = set()


def api_routes_register(*groups: Sequence[Route]) -> list[Route]:
    """Register lists of API patterns (mounted under /api) and return them joined, in order."""
    joined = [pattern for group in groups for pattern in group]
    _ROUTES[:] = joined
    return joined


def api_alias_register(prefix: str) -> None:
    """Mark a path prefix under /api (e.g. `references/v1`) as an alias of another resource's paths."""
    _ALIASES.add(prefix.strip("/"))


def api_endpoints() -> dict[str, str]:
    """Each API resource by its first path segment, with its shortest fixed path (e.g. `references/v1`)."""
    names: dict[str, str] = {}
    for pattern in _ROUTES:
        static = re.split(r"[<(\\$]", str(pattern.pattern).lstrip("^"))[0].rstrip("/.")
        segment = static.split("/")[0]
        if segment.isidentifier() and (segment not in names or len(f"/api/{static}") < len(names[segment])):
            names[segment] = f"/api/{static}"
    return dict(sorted(names.items()))


def is_alias(path: str) -> bool:
    """Whether `path` (as the schema lists it, e.g. `/api/references/v1/{ref_id}`) is under an alias prefix."""
    relative = path.removeprefix("/api/")
    return any(relative == alias or relative.startswith(f"{alias}/") for alias in _ALIASES)
