"""Registers OTUs and history changes for websocket dispatch."""

from __future__ import annotations

from typing import Any

from core import events
from otus.models import OTU, Change


def _serialize_otu(otu: OTU) -> dict[str, Any]:
    from otus.api.serializers import otu_minimal

    return otu_minimal(otu)


def _serialize_change(change: Change) -> dict[str, Any]:
    from otus.api.serializers import change_out

    return change_out(change, with_diff=False)


events.register(OTU, interface="otus", serialize=_serialize_otu, audience=lambda otu: [events.GROUP_ALL])
events.register(
    Change,
    interface="history",
    serialize=_serialize_change,
    audience=lambda change: [events.GROUP_ALL],
    queryset=lambda: Change.objects.select_related("user", "index"),
    ids=lambda change: change.change_id,
)
