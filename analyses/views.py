"""The analysis result page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analyses.constants import PATHOSCOPE_HELP
from core.views import page
from jobs.workflow import analysis_workflows, workflow_labels


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


def analyses_overview_page(request: HttpRequest) -> HttpResponse:
    """Every analysis the user may read: state (live), who started it, when, how long it ran and its headline;
    filtered, sorted and paged; a failed one says why and can be tried again or removed."""
    labels = workflow_labels()
    workflows = {name: labels.get(name, name) for name in sorted(set(analysis_workflows().values()))}
    return render(request, "analyses/overview.html", {"nav_active": "analyses", "workflows": workflows})
