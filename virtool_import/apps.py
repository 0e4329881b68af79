"""App config of the Virtool importer."""

from __future__ import annotations

from django.apps import AppConfig


class VirtoolImportConfig(AppConfig):
    """Imports a running Virtool's MongoDB dump and data folder (`manage.py import_virtool`)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "virtool_import"
    verbose_name = "Virtool import"
