"""Registers samples and labels for websocket dispatch; a sample reaches only those who may read it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from core import events
from jobs.subjects import subject_name_register, subject_register
from samples.models import Label, Sample
from samples.selectors import label_list, sample_queryset, sample_rights_q

if TYPE_CHECKING:
    from users.models import User


def _serialize_sample(sample: Sample) -> dict[str, Any]:
    from samples.api.serializers import SampleSerializer

    return SampleSerializer(sample).data


def _serialize_label(label: Label) -> dict[str, Any]:
    from samples.api.serializers import LabelSerializer

    return LabelSerializer(label).data


def _audience(sample: Sample) -> list[str]:
    from samples.services import sample_audience

    return sample_audience(sample=sample)


def _readable_sample_ids(user: User) -> QuerySet[Any, Any]:
    return Sample.objects.filter(sample_rights_q(user=user, kind="read")).values("pk")


def _audience_of_sample_id(sample_id: str) -> list[str]:
    sample = Sample.objects.filter(pk=sample_id).first()
    return _audience(sample) if sample is not None else [events.GROUP_ADMINS]


# Jobs naming a sample (create_sample, every analysis: `args.sample_id`) are seen by those who may read the sample.
subject_register(arg="sample_id", readable_ids=_readable_sample_ids, audience=_audience_of_sample_id)

events.register(Sample, interface="samples", serialize=_serialize_sample, audience=_audience, queryset=sample_queryset)
events.register(
    Label,
    interface="labels",
    serialize=_serialize_label,
    audience=lambda label: [events.GROUP_ALL],
    queryset=label_list,
)


def _sample_names(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    return {pk: (name, f"/samples/{pk}") for pk, name in Sample.objects.filter(pk__in=ids).values_list("pk", "name")}


subject_name_register(arg="sample_id", kind="sample", resolve=_sample_names)
