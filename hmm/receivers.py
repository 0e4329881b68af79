"""Registers HMM annotations (`hmm`) and the status document (`status`) for websocket dispatch, and follows the
install job: each change of it (state, step, progress) re-sends the status document, whose `task` it is. Virtool's
`tasks` messages of the install come from the jobs app (`jobs.receivers`), as for every task."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from core import events
from hmm.constants import INSTALL_WORKFLOW
from hmm.models import HMM, HMMStatus
from jobs.models import Job


def _serialize_hmm(hmm: HMM) -> dict[str, Any]:
    from hmm.api.serializers import HMMMinimalSerializer

    return HMMMinimalSerializer(hmm).data


def _serialize_status(status: HMMStatus) -> dict[str, Any]:
    from hmm.api.serializers import HMMStatusSerializer

    return HMMStatusSerializer(status).data


def _status_queryset() -> Any:
    from hmm.selectors import hmm_status_queryset

    return hmm_status_queryset()


events.register(
    HMM,
    interface="hmm",
    serialize=_serialize_hmm,
    audience=lambda hmm: [events.GROUP_ALL],
    # Messages carry the list document: the entries stay in the database.
    queryset=lambda: HMM.objects.only("id", "cluster", "count", "names", "families"),
)
events.register(
    HMMStatus,
    interface="status",
    serialize=_serialize_status,
    audience=lambda status: [events.GROUP_ALL],
    queryset=_status_queryset,
)


def _on_job_save(sender: type[Job], instance: Job, raw: bool = False, **_: Any) -> None:
    if raw or instance.workflow != INSTALL_WORKFLOW:
        return
    status_ids = list(HMMStatus.objects.filter(job_id=instance.pk).values_list("pk", flat=True))
    if not status_ids:
        return  # not (yet, or no longer) the status document's task
    events.dispatch(interface="status", operation="update", ids=status_ids)


post_save.connect(_on_job_save, sender=Job, dispatch_uid="hmm_install_job_saved")
