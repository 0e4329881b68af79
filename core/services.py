"""Writes for core: instance settings and the instance message."""

from __future__ import annotations

from typing import Any, TypedDict

from django.db import transaction

from core import events
from core.models import InstanceSettings
from core.selectors import settings_get


@transaction.atomic
def settings_update(*, data: dict[str, Any]) -> InstanceSettings:
    """Change instance settings; only the given keys are touched."""
    instance = settings_get()
    for key, value in data.items():
        setattr(instance, key, value)
    instance.full_clean()
    instance.save()
    return instance


@transaction.atomic
def instance_message_set(
    *, message: str | None = None, color: str | None = None, active: bool | None = None
) -> InstanceSettings:
    """Set the banner message shown to every user."""
    instance = settings_get()
    if message is not None:
        instance.message = message
    if color is not None:
        instance.message_color = color
    if active is not None:
        instance.message_active = active
    instance.save()
    document = instance_message_document(instance=instance)
    transaction.on_commit(
        lambda: events.send(
            [events.GROUP_ALL], {"interface": "instance_message", "operation": "update", "data": document}
        )
    )
    return instance


class InstanceMessage(TypedDict):
    """The banner every user sees."""

    message: str
    color: str
    active: bool


def instance_message_document(*, instance: InstanceSettings) -> InstanceMessage | None:
    """The banner as Virtool's client reads it: None unless a message is active."""
    if not instance.message_active or not instance.message:
        return None
    return {"message": instance.message, "color": instance.message_color or "grey", "active": True}


def sessions_clear_expired() -> int:
    """Delete expired sessions; returns how many were removed."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    removed, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return removed
