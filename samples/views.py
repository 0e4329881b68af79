"""Sample pages: the list, one sample and the labels."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.views import page


@page()
def samples_page(request: HttpRequest) -> HttpResponse:
    """Samples: search, label filter, sort and pages, live creation progress, and the create form."""
    return render(request, "samples/list.html", {"nav_active": "samples"})


@page()
def sample_page(request: HttpRequest, sample_id: str) -> HttpResponse:
    """One sample: metadata, labels, rights, read files and the quality charts (the page reads the API)."""
    return render(request, "samples/detail.html", {"nav_active": "samples", "sample_id": sample_id})


@page()
def labels_page(request: HttpRequest) -> HttpResponse:
    """Labels: create, edit and delete the labels that sort samples, with their live sample counts."""
    return render(request, "samples/labels.html", {"nav_active": "samples"})
