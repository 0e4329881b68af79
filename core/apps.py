"""Core app."""

from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Instance settings, API conventions and the websocket dispatcher."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import events, receivers, schema  # noqa: F401  (receivers and OpenAPI extensions)

        events.connect()
