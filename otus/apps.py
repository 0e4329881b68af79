"""Otus app."""

from __future__ import annotations

from django.apps import AppConfig


class OtusConfig(AppConfig):
    """Otus."""

    name = "otus"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from otus import receivers  # noqa: F401  (dispatch registrations)
