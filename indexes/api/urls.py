"""Indexes API routes (mounted under /api)."""

from __future__ import annotations

from django.urls import path

from indexes.api import views

urlpatterns = [
    path("indexes", views.IndexesView.as_view(), name="indexes"),
    path("indexes/<str:index_id>", views.IndexView.as_view(), name="index"),
    path("indexes/<str:index_id>/history", views.IndexHistoryView.as_view(), name="index-history"),
    path("indexes/<str:index_id>/files/<str:filename>", views.IndexFileView.as_view(), name="index-file"),
]
