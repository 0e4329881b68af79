"""Job pages: the list and one job."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.views import page


@page()
def jobs_page(request: HttpRequest) -> HttpResponse:
    """Jobs: every job with its state and progress, following `jobs` events."""
    return render(request, "jobs/list.html", {"nav_active": "jobs"})


@page()
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    """One job: progress, status timeline, errors and the cancel/remove actions (the page reads the API)."""
    return render(request, "jobs/detail.html", {"nav_active": "jobs", "job_id": job_id})
