"""Indexes app."""

from __future__ import annotations

from django.apps import AppConfig


class IndexesConfig(AppConfig):
    """Indexes."""

    name = "indexes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from indexes import receivers, workflows  # noqa: F401  (dispatch registrations; workflows)
