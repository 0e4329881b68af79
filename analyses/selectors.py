"""Reads for analyses; an analysis is visible to whoever may read its sample."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from django.db.models import DurationField, ExpressionWrapper, F, OrderBy, Q, QuerySet
from django.db.models.functions import Lower

from analyses.models import Analysis, AnalysisFile
from core.constants import DB_INT_MAX
from core.errors import InsufficientRights, NotFound
from jobs.constants import ACTIVE_STATES, JobState
from samples.selectors import Right, sample_can, sample_rights_q, samples_path

if TYPE_CHECKING:
    from samples.models import Sample
    from users.models import User


class _SamplePk(TypedDict):
    pk: str


def analysis_path(analysis: Analysis) -> Path:
    """`<data_path>/samples/<sample>/analysis/<id>` (Virtool's layout)."""
    return samples_path(analysis.sample_id) / "analysis" / analysis.pk


def analysis_queryset() -> QuerySet[Analysis]:
    """Analyses with what their documents need."""
    return Analysis.objects.select_related("sample", "reference", "index", "job", "job__user", "user").prefetch_related(
        "subtractions"
    )


def analysis_list(*, user: User, sample_id: str | None = None) -> QuerySet[Analysis]:
    """Analyses of samples the user may read, newest first."""
    queryset = analysis_queryset()
    if sample_id is not None:
        queryset = queryset.filter(sample_id=sample_id)
    if not user.is_administrator:
        sample_q = sample_rights_q(user=user, kind="read")
        queryset = queryset.filter(sample__in=sample_q_samples(sample_q))
    return queryset.order_by("-created_at", "id")


def sample_q_samples(q: Q) -> QuerySet[Sample, _SamplePk]:
    """Samples matching a rights filter."""
    from samples.models import Sample

    return Sample.objects.filter(q).values("pk")


def analysis_get(*, user: User, analysis_id: str, kind: Right = "read") -> Analysis:
    """One analysis: 404 when missing, 403 when the user may not read (or write) its sample."""
    analysis = analysis_queryset().filter(pk=analysis_id).first()
    if analysis is None:
        raise NotFound("Analysis does not exist")
    if not sample_can(user=user, sample=analysis.sample, kind=kind):
        raise InsufficientRights()
    return analysis


def analysis_file_get(*, analysis: Analysis, file_id: str) -> tuple[AnalysisFile, Path]:
    """A recorded result file of the analysis and its path: 404 when unknown or gone from disk."""
    known = file_id.isdigit() and int(file_id) <= DB_INT_MAX
    file = AnalysisFile.objects.filter(analysis=analysis, pk=int(file_id)).first() if known else None
    path = analysis_path(analysis) / file.name_on_disk if file is not None else None
    if file is None or path is None or not path.is_file():
        raise NotFound("File does not exist")
    return file, path


# The overview's sorts: key → the ordering (a running analysis has no duration: last either way).
OVERVIEW_SORTS: dict[str, tuple[OrderBy | F | str, ...]] = {
    "-created_at": ("-created_at",),
    "created_at": ("created_at",),
    "sample": (Lower("sample__name").asc(), "-created_at"),
    "-sample": (Lower("sample__name").desc(), "-created_at"),
    "duration": (F("duration").asc(nulls_last=True), "-created_at"),
    "-duration": (F("duration").desc(nulls_last=True), "-created_at"),
}
OVERVIEW_STATES = ("ready", "running", "failed")
# Still on its way: a job that is waiting or running, or complete while the analysis is being finished.
_UNDERWAY = (*ACTIVE_STATES, JobState.COMPLETE)


def analysis_state(analysis: Analysis) -> str:
    """`ready`, `running` (its job is on its way) or `failed` (its job failed, was cancelled or is gone)."""
    if analysis.ready:
        return "ready"
    job = analysis.job
    return "running" if job is not None and job.state in _UNDERWAY else "failed"


def _state_q(state: str) -> Q:
    if state == "ready":
        return Q(ready=True)
    underway = Q(job__isnull=False, job__state__in=_UNDERWAY)
    return Q(ready=False) & (underway if state == "running" else ~underway)


def analysis_overview_list(
    *,
    user: User,
    workflows: list[str] | None = None,
    states: list[str] | None = None,
    reference_ids: list[str] | None = None,
    sample: str = "",
    started_by: str = "",
    sort: str = "-created_at",
) -> QuerySet[Analysis]:
    """Analyses the user may read, filtered (`states` from `OVERVIEW_STATES`, `sample` a fragment of the sample's
    name, `started_by` of the handle of who started it) and sorted (`OVERVIEW_SORTS`), each with its `duration`
    (its job's creation to its end; null while it runs). The results and coverage lines stay unread."""
    queryset = analysis_list(user=user).defer("results", "coverage_lines")
    queryset = queryset.annotate(
        duration=ExpressionWrapper(F("job__finished_at") - F("job__created_at"), output_field=DurationField())
    )
    if workflows:
        queryset = queryset.filter(workflow__in=workflows)
    if states:
        combined = Q()
        for state in states:
            combined |= _state_q(state)
        queryset = queryset.filter(combined)
    if reference_ids:
        queryset = queryset.filter(reference_id__in=reference_ids)
    if sample:
        queryset = queryset.filter(sample__name__icontains=sample)
    if started_by:
        queryset = queryset.filter(user__handle__icontains=started_by)
    return queryset.order_by(*OVERVIEW_SORTS.get(sort, OVERVIEW_SORTS["-created_at"]), "id")
