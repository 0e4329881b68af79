"""Registers analyses for websocket dispatch: an analysis reaches those who may read its sample."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from analyses.models import Analysis
from analyses.selectors import analysis_queryset
from core import events
from jobs.subjects import subject_name_register
from references.models import Reference


def _serialize(analysis: Analysis) -> dict[str, Any]:
    from analyses.api.serializers import analysis_minimal

    return analysis_minimal(analysis)


def _audience(analysis: Analysis) -> list[str]:
    from samples.services import sample_audience

    return sample_audience(sample=analysis.sample)


events.register(Analysis, interface="analyses", serialize=_serialize, audience=_audience, queryset=analysis_queryset)


@receiver(post_save, sender=Reference, dispatch_uid="analyses_headlines_recall")
def _reference_saved(sender: type[Reference], instance: Reference, created: bool, **kwargs: Any) -> None:
    """The kept headlines of the reference's analyses follow its call rules and internal control (one query
    when those did not change)."""
    fields = kwargs.get("update_fields")
    if created or kwargs.get("raw") or (fields is not None and not {"call_rules", "internal_control"} & set(fields)):
        return
    from analyses.summary import headlines_recall

    headlines_recall(instance)


def _analysis_names(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    from jobs.workflow import workflow_labels

    labels = workflow_labels()
    rows = Analysis.objects.filter(pk__in=ids).values_list("pk", "workflow", "sample_id", "sample__name")
    return {
        pk: (f"{labels.get(workflow, workflow)} of {sample_name}", f"/samples/{sample_id}/analyses/{pk}")
        for pk, workflow, sample_id, sample_name in rows
    }


subject_name_register(arg="analysis_id", kind="analysis", resolve=_analysis_names)
