"""Reads for samples and labels; every query is scoped to what the user may read (Virtool's sample rights)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.db.models import Count, Exists, JSONField, OuterRef, Q, QuerySet, Subquery

from core.errors import InsufficientRights, NotFound
from jobs.constants import ACTIVE_STATES
from samples.constants import (
    AMPLICON_WORKFLOWS,
    SAMPLE_WORKFLOWS,
    SORT_FIELDS,
    LibraryType,
    WorkflowState,
)
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
    group_ids = user_group_ids(user=user)
    return Q(user=user) | Q(**{f"all_{kind}": True}) | Q(**{f"group_{kind}": True, "group_id__in": group_ids})


def user_group_ids(*, user: User) -> list[int]:
    """The ids of the user's groups, read once per user object (a list request reads them for its rows and for
    its total)."""
    cached: list[int] | None = getattr(user, "_sample_group_ids", None)
    if cached is None:
        cached = list(user.groups.values_list("pk", flat=True))
        user._sample_group_ids = cached  # type: ignore[attr-defined]
    return cached


def sample_can(*, user: User, sample: Sample, kind: Right) -> bool:
    """Whether `user` may `read` or `write` the sample: administrators, the owner, `all_*`, or the group."""
    if user.is_administrator or sample.user_id == user.pk or getattr(sample, f"all_{kind}"):
        return True
    return bool(getattr(sample, f"group_{kind}")) and user.groups.filter(pk=sample.group_id).exists()


def _workflow_flag(workflow: str, *, ready: bool) -> Exists:
    """Whether the sample has a (ready or unready) analysis of `workflow`. Analyses are read through the reverse
    relation `Sample.analyses`, so samples import no analyses code."""
    analyses = Sample._meta.get_field("analyses").related_model._default_manager
    if ready:
        return Exists(analyses.filter(sample=OuterRef("pk"), workflow=workflow, ready=True))
    # Pending: an unready analysis whose job still runs (a failed one stays listed to be tried again or removed,
    # but is not pending).
    return Exists(analyses.filter(sample=OuterRef("pk"), workflow=workflow, ready=False, job__state__in=ACTIVE_STATES))


def _workflow_annotations() -> dict[str, Exists]:
    flags = {}
    for key, workflow in SAMPLE_WORKFLOWS.items():
        flags[f"workflow_{key}_ready"] = _workflow_flag(workflow, ready=True)
        flags[f"workflow_{key}_pending"] = _workflow_flag(workflow, ready=False)
    return flags


def _latest_calls_annotations() -> dict[str, Subquery[Any]]:
    """The id and the kept headline (`{detected, indeterminate, control}`, kept by the analyses app under the
    reference's rules in force) of the sample's newest ready PathoScope analysis that has one, read through the
    reverse relation `Sample.analyses` like the workflow flags."""
    analyses = Sample._meta.get_field("analyses").related_model._default_manager
    latest = analyses.filter(
        sample=OuterRef("pk"), workflow=SAMPLE_WORKFLOWS["pathoscope"], ready=True, headline__isnull=False
    ).order_by("-created_at", "-pk")
    return {
        "latest_calls_id": Subquery(latest.values("pk")[:1]),
        "latest_calls_headline": Subquery(latest.values("headline")[:1], output_field=JSONField()),
    }


def sample_queryset() -> QuerySet[Sample]:
    """Samples with what their documents need, including where each stands with each workflow (two EXISTS
    subqueries per workflow in the same query: no query per sample) and its latest calls (two more)."""
    return _sample_queryset_base().all()


@functools.cache
def _sample_queryset_base() -> QuerySet[Sample]:
    """Built once per process and cloned for each use (never evaluated itself): building and resolving the ten
    subqueries took about a quarter of a samples list request (bench/load.py)."""
    return (
        Sample.objects.select_related("user", "group", "job", "job__user")
        .prefetch_related("labels", "subtractions")
        .annotate(**_workflow_annotations(), **_latest_calls_annotations())
    )


def sample_latest_calls(*, sample: Sample) -> dict[str, Any] | None:
    """`{analysis_id, detected, indeterminate}` of the sample's newest ready PathoScope analysis (its OTUs called
    detected and indeterminate, heaviest first), or None when it has none."""
    if not hasattr(sample, "latest_calls_id"):  # a row not read through sample_queryset
        names = _latest_calls_annotations()
        found = Sample.objects.filter(pk=sample.pk).annotate(**names).values(*names).first() or {}
        for name in names:
            setattr(sample, name, found.get(name))
    analysis_id, headline = getattr(sample, "latest_calls_id", None), getattr(sample, "latest_calls_headline", None)
    if not analysis_id or not isinstance(headline, dict):
        return None
    return {
        "analysis_id": analysis_id,
        "detected": list(headline.get("detected") or []),
        "indeterminate": list(headline.get("indeterminate") or []),
    }


def sample_workflows(*, sample: Sample) -> dict[str, str]:
    """`{aodp, iimi, nuvs, pathoscope: none|pending|complete|incompatible}`: complete once an analysis of the
    workflow is ready, pending while one runs, incompatible when the library type does not allow the workflow."""
    if not hasattr(sample, "workflow_pathoscope_ready"):  # a row not read through sample_queryset
        flags = Sample.objects.filter(pk=sample.pk).annotate(**_workflow_annotations()).values(*_workflow_annotations())
        for name, value in (flags.first() or {}).items():
            setattr(sample, name, value)
    amplicon = sample.library_type == LibraryType.AMPLICON
    states = {}
    for key in SAMPLE_WORKFLOWS:
        if (key in AMPLICON_WORKFLOWS) != amplicon:
            states[key] = WorkflowState.INCOMPATIBLE.value
        elif getattr(sample, f"workflow_{key}_ready", False):
            states[key] = WorkflowState.COMPLETE.value
        elif getattr(sample, f"workflow_{key}_pending", False):
            states[key] = WorkflowState.PENDING.value
        else:
            states[key] = WorkflowState.NONE.value
    return states


def sample_workflow_tag(*, state: str) -> bool | str:
    """Virtool's legacy `nuvs` / `pathoscope` tag of a workflow state: true, "ip" (in progress) or false."""
    if state == WorkflowState.COMPLETE:
        return True
    return "ip" if state == WorkflowState.PENDING else False


def _workflows_q(conditions: list[str]) -> Q:
    """The list's `workflows` filter (`pathoscope:ready`, `nuvs:none`..., checked by the API): conditions on one
    workflow are alternatives, conditions on different workflows must all hold (Virtool's legacy-tag matching)."""
    by_workflow: dict[str, Q] = {}
    for condition in conditions:
        key, _, state = condition.partition(":")
        ready, pending = Q(**{f"workflow_{key}_ready": True}), Q(**{f"workflow_{key}_pending": True})
        match = {"ready": ready, "pending": ~ready & pending, "none": ~ready & ~pending}[state]
        by_workflow[key] = by_workflow[key] | match if key in by_workflow else match
    combined = Q()
    for match in by_workflow.values():
        combined &= match
    return combined


# What a list document does not show (`SampleMinimalSerializer`), so a list does not read it.
LIST_DEFERRED = ("notes", "quality", "upload_ids", "job__args", "job__status", "job__process_groups")


def sample_list(
    *,
    user: User,
    find: str = "",
    labels: list[int] | None = None,
    workflows: list[str] | None = None,
    sort: str = "-created_at",
) -> QuerySet[Sample]:
    """Samples the user may read, optionally matching a name/host/isolate fragment, carrying all `labels` and
    matching the `workflows` conditions (`pathoscope:ready`, `nuvs:none`...).

    Lists show no notes, quality report or job history: those columns (notes can be 50,000 characters) stay unread.
    """
    queryset = sample_queryset().defer(*LIST_DEFERRED)
    if not user.is_administrator:
        queryset = queryset.filter(sample_rights_q(user=user, kind="read"))
    if find:
        queryset = queryset.filter(Q(name__icontains=find) | Q(host__icontains=find) | Q(isolate__icontains=find))
    for label in labels or []:
        queryset = queryset.filter(labels=label)
    if workflows:
        queryset = queryset.filter(_workflows_q(workflows))
    order = SORT_FIELDS.get(sort, "-created_at")
    # No DISTINCT: every filter is on the sample's own columns or one label id per join (one through row per
    # sample and label), so no sample comes twice, and the counts need not wrap the whole row in a subquery.
    return queryset.order_by(order, "pk")


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
