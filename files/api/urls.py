"""Uploads API routes (mounted under /api)."""

from __future__ import annotations

from django.urls import path

from files.api import tus, views

urlpatterns = [
    path("uploads", views.UploadsView.as_view(), name="uploads"),
    path("uploads/<int:upload_id>", views.UploadView.as_view(), name="upload"),
    path("uploads/tus", tus.ResumableUploadsView.as_view(), name="uploads-tus"),
    path("uploads/tus/<str:token>", tus.ResumableUploadView.as_view(), name="upload-tus"),
]
