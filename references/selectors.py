"""Reads for references: lists, computed fields and the rights of a user on a reference."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from core.errors import InsufficientRights, NotFound
from references.constants import RIGHTS
from references.models import Reference, ReferenceMember


def references_path(reference_id: str) -> Path:
    """`<data_path>/references/<id>`."""
    return Path(settings.DATA_PATH) / "references" / reference_id


def reference_queryset() -> QuerySet[Reference]:
    """References with what their documents need."""
    return (
        Reference.objects.select_related("user", "job")
        .prefetch_related("members__user", "members__group")
        .annotate(
            otu_count=Count("otus", distinct=True),
            unbuilt_change_count=Count("history", filter=Q(history__index__isnull=True), distinct=True),
        )
    )


def reference_list(*, find: str = "") -> QuerySet[Reference]:
    """Every reference (all users may read references), by name."""
    queryset = reference_queryset()
    if find:
        queryset = queryset.filter(Q(name__icontains=find) | Q(description__icontains=find))
    return queryset.order_by("name", "id")


def reference_get(*, reference_id: str) -> Reference:
    """One reference or 404."""
    reference = reference_queryset().filter(pk=reference_id).first()
    if reference is None:
        raise NotFound("Reference does not exist")
    return reference


def reference_rights(*, user, reference: Reference) -> set[str]:
    """The rights `user` holds on `reference`: all for administrators, else the union of user and group rows."""
    if user.is_administrator:
        return set(RIGHTS)
    group_ids = list(user.groups.values_list("pk", flat=True))
    members = ReferenceMember.objects.filter(Q(user=user) | Q(group_id__in=group_ids), reference=reference)
    return {right for member in members for right in RIGHTS if getattr(member, right)}


def reference_require(*, user, reference: Reference, right: str) -> None:
    """403 unless `user` holds `right` on `reference`."""
    if right not in reference_rights(user=user, reference=reference):
        raise InsufficientRights()
