"""Registers uploads for websocket dispatch."""

from __future__ import annotations

from typing import Any

from core import events
from files.models import Upload


def _serialize_upload(upload: Upload) -> dict[str, Any]:
    from files.api.serializers import UploadSerializer

    return UploadSerializer(upload).data


events.register(
    Upload,
    interface="uploads",
    serialize=_serialize_upload,
    # An unfinished resumable upload is nobody's news: it is announced when its last byte arrives.
    audience=lambda upload: [events.GROUP_ALL] if upload.ready else [],
    queryset=lambda: Upload.objects.select_related("user"),
)
