"""Reads of the Virtool importer's reports."""

from __future__ import annotations

from virtool_import.models import ImportReport


def import_report_last() -> ImportReport | None:
    """The newest import (or check) report, or None before the first."""
    return ImportReport.objects.order_by("-created_at", "-pk").first()
