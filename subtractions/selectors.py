"""Reads for subtractions."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import Q, QuerySet

from core.errors import BadRequest, NotFound
from files.storage import FileDocument, files_present
from subtractions.constants import SUBTRACTION_FILES
from subtractions.models import Subtraction


def subtractions_path(subtraction_id: str) -> Path:
    """`<data_path>/subtractions/<id>`."""
    return Path(settings.DATA_PATH) / "subtractions" / subtraction_id


def subtraction_list(*, find: str = "", ready: bool | None = None) -> QuerySet[Subtraction]:
    """Subtractions by name, optionally matching a name or nickname fragment."""
    # Linked samples come in one query for the page, not one per subtraction.
    queryset = Subtraction.objects.select_related("user", "job", "job__user").prefetch_related("samples")
    if find:
        queryset = queryset.filter(Q(name__icontains=find) | Q(nickname__icontains=find))
    if ready is not None:
        queryset = queryset.filter(ready=ready)
    return queryset.order_by("name", "id")


def subtraction_get(*, subtraction_id: str) -> Subtraction:
    """One subtraction or 404."""
    subtraction = Subtraction.objects.select_related("user", "job", "job__user").filter(pk=subtraction_id).first()
    if subtraction is None:
        raise NotFound("Subtraction does not exist")
    return subtraction


def subtraction_files(*, subtraction: Subtraction) -> list[FileDocument]:
    """The files of a subtraction present on disk: [{name, type, size, download_url}]."""
    return files_present(subtractions_path(subtraction.pk), SUBTRACTION_FILES, f"/subtractions/{subtraction.pk}/files")


def subtractions_get(*, ids: list[str]) -> list[Subtraction]:
    """The subtractions with these ids, in the order given (duplicates dropped); 400 naming any that do not exist."""
    wanted = list(dict.fromkeys(ids))
    found = {subtraction.pk: subtraction for subtraction in Subtraction.objects.filter(pk__in=wanted)}
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise BadRequest(f"Subtractions do not exist: {', '.join(missing)}")
    return [found[pk] for pk in wanted]
