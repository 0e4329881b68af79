"""Job pages: the list and one job."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.views import page
from jobs.workflow import workflow_labels


@page()
def jobs_page(request: HttpRequest) -> HttpResponse:
    """Jobs: every job with its state and progress, following `jobs` events."""
    return render(request, "jobs/list.html", {"nav_active": "jobs", "workflow_labels": workflow_labels()})


@page()
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    """One job: progress, status timeline, errors and the cancel/remove actions (the page reads the API)."""
    context = {"nav_active": "jobs", "job_id": job_id, "workflow_labels": workflow_labels()}
    return render(request, "jobs/detail.html", context)
