"""Reads for samples and labels; every query is scoped to what the user may read (Virtool's sample rights)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from core.errors import InsufficientRights, NotFound
from samples.constants import SORT_FIELDS
from samples.models import Label, Sample

if TYPE_CHECKING:
    from users.models import User

# What a user may do with a sample (Virtool's `*_read` and `*_write` rights).
Right = Literal["read", "write"]


def samples_path(sample_id: str) -> Path:
    """`<data_path>/samples/<id>`."""
    return Path(settings.DATA_PATH) / "samples" / sample_id


def sample_rights_q(*, user: User, kind: Right) -> Q:
    """The filter of samples `user` may `read` or `write` (administrators need none)."""
    group_ids = list(user.groups.values_list("pk", flat=True))
    return Q(user=user) | Q(**{f"all_{kind}": True}) | Q(**{f"group_{kind}": True, "group_id__in": group_ids})


def sample_can(*, user: User, sample: Sample, kind: Right) -> bool:
    """Whether `user` may `read` or `write` the sample: administrators, the owner, `all_*`, or the group."""
    if user.is_administrator or sample.user_id == user.pk or getattr(sample, f"all_{kind}"):
        return True
    return bool(getattr(sample, f"group_{kind}")) and user.groups.filter(pk=sample.group_id).exists()


def sample_queryset() -> QuerySet[Sample]:
    """Samples with what their documents need."""
    return Sample.objects.select_related("user", "group", "job", "job__user").prefetch_related("labels", "subtractions")


# What a list document does not show (`SampleMinimalSerializer`), so a list does not read it.
LIST_DEFERRED = ("notes", "quality", "upload_ids", "job__args", "job__status", "job__process_groups")


def sample_list(
    *, user: User, find: str = "", labels: list[int] | None = None, sort: str = "-created_at"
) -> QuerySet[Sample]:
    """Samples the user may read, optionally matching a name/host/isolate fragment and carrying all `labels`.

    Lists show no notes, quality report or job history: those columns (notes can be 50,000 characters) stay unread.
    """
    queryset = sample_queryset().defer(*LIST_DEFERRED)
    if not user.is_administrator:
        queryset = queryset.filter(sample_rights_q(user=user, kind="read"))
    if find:
        queryset = queryset.filter(Q(name__icontains=find) | Q(host__icontains=find) | Q(isolate__icontains=find))
    for label in labels or []:
        queryset = queryset.filter(labels=label)
    order = SORT_FIELDS.get(sort, "-created_at")
    return queryset.order_by(order, "pk").distinct()


def sample_get(*, user: User, sample_id: str, kind: Right = "read") -> Sample:
    """One sample: 404 when it does not exist, 403 when the user may not read (or write) it."""
    sample = sample_queryset().filter(pk=sample_id).first()
    if sample is None:
        raise NotFound("Sample does not exist")
    if not sample_can(user=user, sample=sample, kind=kind):
        raise InsufficientRights()
    return sample


def label_list(*, find: str = "") -> QuerySet[Label]:
    """Labels with the number of samples carrying each."""
    queryset = Label.objects.annotate(count=Count("samples")).order_by("name")
    return queryset.filter(name__icontains=find) if find else queryset


def label_get(*, label_id: int) -> Label:
    """One label with its count, or 404."""
    label = label_list().filter(pk=label_id).first()
    if label is None:
        raise NotFound("Label does not exist")
    return label
