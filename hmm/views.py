"""HMM pages: the installed HMMs (install, progress, search, purge) and one profile's annotation."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.views import page


@page()
def hmms_page(request: HttpRequest) -> HttpResponse:
    """HMMs: what is installed, installing a release archive with live progress, the searchable list, purge."""
    return render(request, "hmm/list.html", {"nav_active": "hmms"})


@page()
def hmm_page(request: HttpRequest, hmm_id: str) -> HttpResponse:
    """One profile HMM: cluster, names, families and genera with counts, length, entropy and its sequences."""
    return render(request, "hmm/detail.html", {"nav_active": "hmms", "hmm_id": hmm_id})
