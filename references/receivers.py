"""Registers references for websocket dispatch (every user may read references)."""

from __future__ import annotations

from typing import Any

from core import events
from jobs.subjects import subject_name_register
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


def _reference_names(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    return {pk: (name, f"/refs/{pk}") for pk, name in Reference.objects.filter(pk__in=ids).values_list("pk", "name")}


subject_name_register(arg="ref_id", kind="reference", resolve=_reference_names)
