"""Registers core models for websocket dispatch."""

from __future__ import annotations

from typing import Any

from core import events
from core.models import InstanceSettings


def _serialize_settings(instance: InstanceSettings) -> dict[str, Any]:
    from core.api.serializers import SettingsSerializer

    return SettingsSerializer(instance).data


events.register(
    InstanceSettings,
    interface="settings",
    serialize=_serialize_settings,
    audience=lambda instance: [events.GROUP_ALL],
)
