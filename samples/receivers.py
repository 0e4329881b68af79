"""Registers samples and labels for websocket dispatch; a sample reaches only those who may read it."""

from __future__ import annotations

from typing import Any

from core import events
from samples.models import Label, Sample
from samples.selectors import label_list, sample_queryset


def _serialize_sample(sample: Sample) -> dict[str, Any]:
    from samples.api.serializers import SampleSerializer

    return SampleSerializer(sample).data


def _serialize_label(label: Label) -> dict[str, Any]:
    from samples.api.serializers import LabelSerializer

    return LabelSerializer(label).data


def _audience(sample: Sample) -> list[str]:
    from samples.services import sample_audience

    return sample_audience(sample=sample)


events.register(Sample, interface="samples", serialize=_serialize_sample, audience=_audience, queryset=sample_queryset)
events.register(
    Label,
    interface="labels",
    serialize=_serialize_label,
    audience=lambda label: [events.GROUP_ALL],
    queryset=label_list,
)
