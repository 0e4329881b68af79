"""Registers indexes for websocket dispatch."""

from __future__ import annotations

from typing import Any

from core import events
from indexes.models import Index
from indexes.selectors import index_queryset


def _serialize(index: Index) -> dict[str, Any]:
    from indexes.api.serializers import index_document

    return index_document(index, detail=False)


events.register(
    Index, interface="indexes", serialize=_serialize, audience=lambda index: [events.GROUP_ALL], queryset=index_queryset
)
