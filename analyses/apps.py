"""Analyses app."""

from __future__ import annotations

from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    """PathoScope analyses of samples."""

    name = "analyses"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from analyses import receivers, workflows  # noqa: F401  (dispatch registrations; the pathoscope workflow)
