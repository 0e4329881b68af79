"""Browser pages: server-rendered shells that read the API and follow the websocket."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render


def _first_user_open() -> bool:
    return not get_user_model().objects.exists()


def page(*, administrators: bool = False):
    """Decorate a page view: setup first, then login, then (optionally) administrators only."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if _first_user_open():
                return redirect("setup")
            if not request.user.is_authenticated:
                return redirect(f"/login?{urlencode({'next': request.get_full_path()})}")
            if administrators and not request.user.administrator_role:
                return HttpResponseForbidden(render(request, "403.html").content)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def setup(request: HttpRequest) -> HttpResponse:
    """First-user setup; once a user exists it sends people to the login page."""
    if not _first_user_open():
        return redirect("login")
    return render(request, "users/setup.html")


def login_page(request: HttpRequest) -> HttpResponse:
    """Login form; while no user exists the setup page is shown instead."""
    if _first_user_open():
        return redirect("setup")
    if request.user.is_authenticated:
        return redirect("home")
    return render(request, "users/login.html")


def reset_page(request: HttpRequest) -> HttpResponse:
    """Forced password reset, reached from the login form."""
    return render(request, "users/reset.html")


@page()
def home(request: HttpRequest) -> HttpResponse:
    """The landing page after login."""
    return render(request, "users/home.html", {"nav_active": "home"})


@page()
def account(request: HttpRequest) -> HttpResponse:
    """Own account: email, password, display settings and API keys."""
    return render(request, "users/account.html", {"nav_active": "account"})


@page(administrators=True)
def administration(request: HttpRequest, section: str = "users") -> HttpResponse:
    """Administration: users, groups and instance settings."""
    return render(request, f"users/administration/{section}.html", {"nav_active": "administration", "section": section})


@page()
def jobs_page(request: HttpRequest) -> HttpResponse:
    """Jobs: every job with its state and progress, following `jobs` events."""
    return render(request, "jobs/list.html", {"nav_active": "jobs"})


@page()
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    """One job: progress, status timeline, errors and the cancel/remove actions (the page reads the API)."""
    return render(request, "jobs/detail.html", {"nav_active": "jobs", "job_id": job_id})


@page()
def uploads_page(request: HttpRequest) -> HttpResponse:
    """Uploads: send files with progress, and the list of uploads following `uploads` events."""
    return render(request, "files/uploads.html", {"nav_active": "uploads"})


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


@page()
def references_page(request: HttpRequest) -> HttpResponse:
    """References: the live list with create, import (with the import's progress) and clone."""
    return render(request, "references/list.html", {"nav_active": "references"})


@page()
def reference_page(request: HttpRequest, ref_id: str) -> HttpResponse:
    """One reference: OTUs, history with diffs and revert, indexes and builds, members, export and settings."""
    return render(request, "references/detail.html", {"nav_active": "references", "ref_id": ref_id})


@page()
def otu_page(request: HttpRequest, ref_id: str, otu_id: str) -> HttpResponse:
    """One OTU: name and schema, isolates and their sequences, FASTA downloads and its history with revert."""
    return render(request, "references/otu.html", {"nav_active": "references", "ref_id": ref_id, "otu_id": otu_id})


@page()
def analysis_page(request: HttpRequest, analysis_id: str, sample_id: str | None = None) -> HttpResponse:
    """One analysis: the detected OTUs with weights, depths, coverage charts, filters and exports; live progress."""
    context = {"nav_active": "samples", "analysis_id": analysis_id, "sample_id": sample_id or ""}
    return render(request, "analyses/detail.html", context)


@page()
def subtractions_page(request: HttpRequest) -> HttpResponse:
    """Subtractions: the host genomes, with the create form (upload or pick a FASTA) and live creation progress."""
    return render(request, "subtractions/list.html", {"nav_active": "subtractions"})


@page()
def subtraction_page(request: HttpRequest, subtraction_id: str) -> HttpResponse:
    """One subtraction: count, GC, files, linked samples, editing and deletion."""
    return render(request, "subtractions/detail.html", {"nav_active": "subtractions", "subtraction_id": subtraction_id})
