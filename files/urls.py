"""Upload page routes."""

from __future__ import annotations

from django.urls import path

from files import views

urlpatterns = [
    path("uploads", views.uploads_page, name="uploads-page"),
]
