"""Samples and labels API routes (mounted under /api)."""

from __future__ import annotations

from django.urls import path

from samples.api import views

urlpatterns = [
    path("samples", views.SamplesView.as_view(), name="samples"),
    path("samples/<str:sample_id>", views.SampleView.as_view(), name="sample"),
    path("samples/<str:sample_id>/rights", views.SampleRightsView.as_view(), name="sample-rights"),
    path("samples/<str:sample_id>/update_job", views.SampleUpdateJobView.as_view(), name="sample-update-job"),
    path("samples/<str:sample_id>/retry", views.SampleRetryView.as_view(), name="sample-retry"),
    path("samples/<str:sample_id>/reads/<str:filename>", views.SampleReadsView.as_view(), name="sample-reads"),
    path("labels", views.LabelsView.as_view(), name="labels"),
    path("labels/<int:label_id>", views.LabelView.as_view(), name="label"),
]
