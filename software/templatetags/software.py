"""Template tags of the software notice: `{% load software %}`."""

from __future__ import annotations

from typing import Any

from django import template

from software.selectors import software_document

register = template.Library()


@register.simple_tag
def software_status() -> dict[str, Any]:
    """The software status document (the notice reads `newer`, `release` and `body`), with `link`: the release's
    page when it is a web address."""
    document = software_document()
    url = (document["release"] or {}).get("html_url") or ""
    return {**document, "link": url if url.startswith(("https://", "http://")) else ""}
