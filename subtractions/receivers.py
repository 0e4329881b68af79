"""Registers subtractions for websocket dispatch (every user may read subtractions)."""

from __future__ import annotations

from typing import Any

from core import events
from subtractions.models import Subtraction


def _serialize(subtraction: Subtraction) -> dict[str, Any]:
    from subtractions.api.serializers import subtraction_document

    return subtraction_document(subtraction, detail=False)


events.register(
    Subtraction,
    interface="subtraction",
    serialize=_serialize,
    audience=lambda subtraction: [events.GROUP_ALL],
    queryset=lambda: Subtraction.objects.select_related("user", "job", "job__user"),
)
