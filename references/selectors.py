"""Reads for references: lists, computed fields and the rights of a user on a reference."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, IntegerField, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from core.errors import InsufficientRights, NotFound
from references.constants import RIGHTS, Right
from references.models import Reference, ReferenceMember

if TYPE_CHECKING:
    from users.models import User


def references_path(reference_id: str) -> Path:
    """`<data_path>/references/<id>`."""
    return Path(settings.DATA_PATH) / "references" / reference_id


def _count(queryset: QuerySet[Model]) -> Coalesce:
    # A correlated subquery per count: joining OTUs and history in one query would multiply their rows.
    counted = queryset.order_by().values("reference").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def reference_queryset() -> QuerySet[Reference]:
    """References with what their documents need."""
    from otus.models import OTU, Change

    return (
        Reference.objects.select_related("user", "job__user", "job__virtool_task")
        .prefetch_related("members__user", "members__group")
        .annotate(
            otu_count=_count(OTU.objects.filter(reference=OuterRef("pk"))),
            unbuilt_change_count=_count(Change.objects.filter(reference=OuterRef("pk"), index__isnull=True)),
        )
    )


def reference_list(*, find: str = "") -> QuerySet[Reference]:
    """Every reference (all users may read references), by name."""
    queryset = reference_queryset()
    if find:
        queryset = queryset.filter(Q(name__icontains=find) | Q(description__icontains=find))
    return queryset.order_by("name", "id")


def reference_latest_builds(*, references: list[Reference]) -> dict[str, Any]:
    """The newest ready index of each reference (by reference id), in one query for a whole page."""
    from indexes.models import Index

    newest = Index.objects.filter(reference=OuterRef("reference"), ready=True).order_by("-version").values("pk")[:1]
    rows = Index.objects.filter(reference__in=[reference.pk for reference in references], pk=Subquery(newest))
    return {index.reference_id: index for index in rows.select_related("user")}


def reference_get(*, reference_id: str) -> Reference:
    """One reference or 404."""
    reference = reference_queryset().filter(pk=reference_id).first()
    if reference is None:
        raise NotFound("Reference does not exist")
    return reference


def reference_rights(*, user: User, reference: Reference) -> set[Right]:
    """The rights `user` holds on `reference`: all for administrators, else the union of user and group rows."""
    if user.is_administrator:
        return set(RIGHTS)
    group_ids = list(user.groups.values_list("pk", flat=True))
    members = ReferenceMember.objects.filter(Q(user=user) | Q(group_id__in=group_ids), reference=reference)
    return {right for member in members for right in RIGHTS if getattr(member, right)}


def reference_require(*, user: User, reference: Reference, right: Right) -> None:
    """403 unless `user` holds `right` on `reference`."""
    if right not in reference_rights(user=user, reference=reference):
        raise InsufficientRights()


def official_installed() -> bool:
    """Whether the official plant virus reference is installed (the references list says so, as in Virtool)."""
    return Reference.objects.filter(remotes_from__slug="virtool/ref-plant-viruses").exists()
