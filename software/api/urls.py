"""Software API routes (mounted under /api)."""

from __future__ import annotations

from django.urls import path

from software.api import views

urlpatterns = [
    path("software", views.SoftwareView.as_view(), name="software"),
]
