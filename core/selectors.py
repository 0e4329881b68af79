"""Reads for core: instance settings and the websocket groups of a user."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from core import events
from core.models import InstanceSettings


def settings_get() -> InstanceSettings:
    """The instance settings row, created with Virtool's defaults on first use."""
    instance, _ = InstanceSettings.objects.get_or_create(pk=1)
    return instance


def event_groups_for(*, user_id: int) -> set[str] | None:
    """The Channels groups a user's websocket joins, or None when the user may no longer connect."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    groups = {events.GROUP_ALL, events.user_group(user.pk)}
    groups.update(events.member_group(group_id) for group_id in user.groups.values_list("pk", flat=True))
    if user.administrator_role is not None:
        groups.add(events.GROUP_ADMINS)
    return groups
