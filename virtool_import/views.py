"""The administration page of the Virtool importer: the last import's report."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.views import page
from virtool_import.selectors import import_report_last


@page(administrators=True)
def import_report(request: HttpRequest) -> HttpResponse:
    """What the last `import_virtool` run imported, updated and skipped, and why."""
    report = import_report_last()
    problems = report.problems if report else []
    context = {
        "nav_active": "administration",
        "section": "import",
        "report": report,
        "skipped": [problem for problem in problems if problem["skipped"]],
        "notes": [problem for problem in problems if not problem["skipped"]],
    }
    return render(request, "virtool_import/report.html", context)
