"""Analysis documents (Virtool's shapes) and input serializers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from analyses.models import Analysis
from core.api.serializers import StrictSerializer


def analysis_minimal(analysis: Analysis) -> dict[str, Any]:
    """An analysis in lists and websocket messages (no results)."""
    job = analysis.job
    return {
        "id": analysis.pk,
        "workflow": analysis.workflow,
        "ready": analysis.ready,
        "created_at": analysis.created_at,
        "updated_at": analysis.updated_at,
        "sample": {"id": analysis.sample_id, "name": analysis.sample.name},
        "reference": {"id": analysis.reference_id, "name": analysis.reference_name},
        "index": {"id": analysis.index_id, "version": analysis.index_version},
        "subtractions": [{"id": s.pk, "name": s.name} for s in analysis.subtractions.all()],
        "job": {"id": job.pk, "state": job.state, "progress": job.progress} if job else None,
        "user": {"id": analysis.user_id, "handle": analysis.user.handle} if analysis.user_id else None,
    }


def analysis_document(analysis: Analysis) -> dict[str, Any]:
    """An analysis with its formatted results."""
    from analyses.formatting import format_pathoscope

    return {**analysis_minimal(analysis), "results": format_pathoscope(analysis)}


class AnalysisCreateSerializer(StrictSerializer):
    """POST /samples/{id}/analyses."""

    workflow = serializers.CharField(required=False, default="pathoscope_bowtie")
    ref_id = serializers.CharField()
    subtractions = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    ml = serializers.CharField(required=False, allow_null=True)


class AnalysesCreateSerializer(AnalysisCreateSerializer):
    """POST /analyses: the same analysis on several samples."""

    sample_ids = serializers.ListField(child=serializers.CharField(), min_length=1, max_length=500)
    # Omitted: each sample with its own default subtractions.
    subtractions = serializers.ListField(child=serializers.CharField(), required=False)
