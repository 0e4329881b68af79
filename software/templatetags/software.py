"""Template tags of the software notice: `{% load software %}`."""

from __future__ import annotations

from typing import Any

from django import template

from software.selectors import software_document

register = template.Library()


@register.simple_tag
def software_status() -> dict[str, Any]:
    """The software status document (the notice reads `newer`, `release` and `body`)."""
    return software_document()
