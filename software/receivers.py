"""Registers the software status for websocket dispatch, to administrators only."""

from __future__ import annotations

from typing import Any

from core import events
from software.constants import INTERFACE
from software.models import SoftwareStatus


def _serialize(status: SoftwareStatus) -> dict[str, Any]:
    from software.api.serializers import SoftwareStatusSerializer
    from software.selectors import software_document

    return SoftwareStatusSerializer(software_document(status=status)).data


events.register(
    SoftwareStatus, interface=INTERFACE, serialize=_serialize, audience=lambda status: [events.GROUP_ADMINS]
)
