"""The analysis result page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analyses.constants import PATHOSCOPE_HELP
from core.views import page


@page()
def analysis_page(request: HttpRequest, analysis_id: str, sample_id: str | None = None) -> HttpResponse:
    """One analysis: the detected OTUs with weights, depths, coverage charts, filters and exports; live progress."""
    context = {
        "nav_active": "samples",
        "analysis_id": analysis_id,
        "sample_id": sample_id or "",
        "help": PATHOSCOPE_HELP,
    }
    return render(request, "analyses/detail.html", context)


@page()
def matrix_page(request: HttpRequest) -> HttpResponse:
    """The cross-sample matrix: samples by OTUs as a heatmap of calls, chosen by label or on the samples list."""
    return render(request, "analyses/matrix.html", {"nav_active": "matrix", "help": PATHOSCOPE_HELP})
