"""Registers users and groups for websocket dispatch."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group

from core import events
from users.models import User
from users.selectors import group_queryset, user_queryset


def _serialize_user(user: User) -> dict[str, Any]:
    from users.api.serializers import UserSerializer

    return UserSerializer(user).data


def _serialize_group(group: Group) -> dict[str, Any]:
    from users.api.serializers import GroupSerializer

    return GroupSerializer(group).data


# Administrators manage users; a user also sees changes to their own document.
events.register(
    User,
    interface="users",
    serialize=_serialize_user,
    audience=lambda user: [events.GROUP_ADMINS, events.user_group(user.pk)],
    queryset=user_queryset,
)
# Every signed-in user may read groups.
events.register(
    Group,
    interface="groups",
    serialize=_serialize_group,
    audience=lambda group: [events.GROUP_ALL],
    queryset=group_queryset,
)
