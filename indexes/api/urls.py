"""Indexes API routes (mounted under /api), with a reference's indexes."""

from __future__ import annotations

from django.urls import path

from indexes.api import views
from references.constants import API_PREFIXES

urlpatterns = [
    path("indexes", views.IndexesView.as_view(), name="indexes"),
    path("indexes/<str:index_id>", views.IndexView.as_view(), name="index"),
    path("indexes/<str:index_id>/history", views.IndexHistoryView.as_view(), name="index-history"),
    path("indexes/<str:index_id>/files/<str:filename>", views.IndexFileView.as_view(), name="index-file"),
    # A reference's indexes (list, build), under both names of the references API.
    *(
        path(f"{prefix}/<str:ref_id>/indexes", views.ReferenceIndexesView.as_view(), name=f"{name}-indexes")
        for prefix, name in API_PREFIXES
    ),
]
