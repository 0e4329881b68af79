"""Samples app."""

from __future__ import annotations

from django.apps import AppConfig


class SamplesConfig(AppConfig):
    """Sequenced libraries and their quality reports."""

    name = "samples"
    default_auto_field = "django.db.models.BigAutoField"
