"""Registers subtractions for websocket dispatch (every user may read subtractions)."""

from __future__ import annotations

from typing import Any

from core import events
from jobs.subjects import subject_name_register
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


def _subtraction_names(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = Subtraction.objects.filter(pk__in=ids).values_list("pk", "name")
    return {pk: (name, f"/subtractions/{pk}") for pk, name in rows}


subject_name_register(arg="subtraction_id", kind="subtraction", resolve=_subtraction_names)
