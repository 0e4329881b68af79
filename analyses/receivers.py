"""Registers analyses for websocket dispatch: an analysis reaches those who may read its sample."""

from __future__ import annotations

from typing import Any

from analyses.models import Analysis
from analyses.selectors import analysis_queryset
from core import events
from jobs.subjects import subject_name_register


def _serialize(analysis: Analysis) -> dict[str, Any]:
    from analyses.api.serializers import analysis_minimal

    return analysis_minimal(analysis)


def _audience(analysis: Analysis) -> list[str]:
    from samples.services import sample_audience

    return sample_audience(sample=analysis.sample)


events.register(Analysis, interface="analyses", serialize=_serialize, audience=_audience, queryset=analysis_queryset)


def _analysis_names(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    from jobs.workflow import workflow_labels

    labels = workflow_labels()
    rows = Analysis.objects.filter(pk__in=ids).values_list("pk", "workflow", "sample_id", "sample__name")
    return {
        pk: (f"{labels.get(workflow, workflow)} of {sample_name}", f"/samples/{sample_id}/analyses/{pk}")
        for pk, workflow, sample_id, sample_name in rows
    }


subject_name_register(arg="analysis_id", kind="analysis", resolve=_analysis_names)
