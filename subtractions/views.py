"""Subtraction pages: the list and one subtraction."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.views import page


@page()
def subtractions_page(request: HttpRequest) -> HttpResponse:
    """Subtractions: the host genomes, with the create form (upload or pick a FASTA) and live creation progress."""
    return render(request, "subtractions/list.html", {"nav_active": "subtractions"})


@page()
def subtraction_page(request: HttpRequest, subtraction_id: str) -> HttpResponse:
    """One subtraction: count, GC, files, linked samples, editing and deletion."""
    return render(request, "subtractions/detail.html", {"nav_active": "subtractions", "subtraction_id": subtraction_id})
