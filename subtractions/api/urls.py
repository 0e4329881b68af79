"""Subtractions API routes (mounted under /api)."""

from __future__ import annotations

from django.urls import path

from subtractions.api import views

urlpatterns = [
    path("subtractions", views.SubtractionsView.as_view(), name="subtractions"),
    path("subtractions/<str:subtraction_id>", views.SubtractionView.as_view(), name="subtraction"),
    path(
        "subtractions/<str:subtraction_id>/files/<str:filename>",
        views.SubtractionFileView.as_view(),
        name="subtraction-file",
    ),
]
