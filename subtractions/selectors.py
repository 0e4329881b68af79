"""Reads for subtractions."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import Q, QuerySet

from core.errors import NotFound
from subtractions.constants import SUBTRACTION_FILES
from subtractions.models import Subtraction


def subtractions_path(subtraction_id: str) -> Path:
    """`<data_path>/subtractions/<id>`."""
    return Path(settings.DATA_PATH) / "subtractions" / subtraction_id


def subtraction_list(*, find: str = "", ready: bool | None = None) -> QuerySet[Subtraction]:
    """Subtractions by name, optionally matching a name or nickname fragment."""
    queryset = Subtraction.objects.select_related("user", "job")
    if find:
        queryset = queryset.filter(Q(name__icontains=find) | Q(nickname__icontains=find))
    if ready is not None:
        queryset = queryset.filter(ready=ready)
    return queryset.order_by("name", "id")


def subtraction_get(*, subtraction_id: str) -> Subtraction:
    """One subtraction or 404."""
    subtraction = Subtraction.objects.select_related("user", "job").filter(pk=subtraction_id).first()
    if subtraction is None:
        raise NotFound("Subtraction does not exist")
    return subtraction


def subtraction_files(subtraction: Subtraction) -> list[dict]:
    """The files of a subtraction present on disk."""
    folder = subtractions_path(subtraction.pk)
    out = []
    for name, kind in SUBTRACTION_FILES:
        path = folder / name
        if path.exists():
            out.append(
                {
                    "name": name,
                    "type": kind,
                    "size": path.stat().st_size,
                    "download_url": f"/api/subtractions/{subtraction.pk}/files/{name}",
                }
            )
    return out


def subtractions_missing(*, ids: list[str], ready_only: bool = True) -> list[str]:
    """The ids among `ids` that are not (ready) subtractions."""
    queryset = Subtraction.objects.filter(pk__in=ids)
    if ready_only:
        queryset = queryset.filter(ready=True)
    found = set(queryset.values_list("pk", flat=True))
    return [subtraction_id for subtraction_id in ids if subtraction_id not in found]
