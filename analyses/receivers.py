"""Registers analyses for websocket dispatch: an analysis reaches those who may read its sample."""

from __future__ import annotations

from typing import Any

from analyses.models import Analysis
from analyses.selectors import analysis_queryset
from core import events


def _serialize(analysis: Analysis) -> dict[str, Any]:
    from analyses.api.serializers import analysis_minimal

    return analysis_minimal(analysis)


def _audience(analysis: Analysis) -> list[str]:
    from samples.services import sample_audience

    return sample_audience(sample=analysis.sample)


events.register(Analysis, interface="analyses", serialize=_serialize, audience=_audience, queryset=analysis_queryset)
