"""The uploads page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.views import page


@page()
def uploads_page(request: HttpRequest) -> HttpResponse:
    """Uploads: send files with progress, and the list of uploads following `uploads` events."""
    return render(request, "files/uploads.html", {"nav_active": "uploads"})
