"""Registers references for websocket dispatch (every user may read references)."""

from __future__ import annotations

from typing import Any

from core import events
from references.models import Reference
from references.selectors import reference_queryset


def _serialize(reference: Reference) -> dict[str, Any]:
    from references.api.serializers import reference_document

    return reference_document(reference, detail=False)


events.register(
    Reference,
    interface="references",
    serialize=_serialize,
    audience=lambda reference: [events.GROUP_ALL],
    queryset=reference_queryset,
)
