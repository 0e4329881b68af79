"""Reads for analyses; an analysis is visible to whoever may read its sample."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Q, QuerySet

from analyses.models import Analysis, AnalysisFile
from core.constants import DB_INT_MAX
from core.errors import InsufficientRights, NotFound
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
