"""Sample page routes."""

from __future__ import annotations

from django.urls import path

from samples import views

urlpatterns = [
    path("samples", views.samples_page, name="samples-page"),
    path("samples/labels", views.labels_page, name="labels-page"),  # before the sample route, which would take it
    path("samples/<str:sample_id>", views.sample_page, name="sample-page"),
]
