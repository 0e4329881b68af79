"""Reference page routes."""

from __future__ import annotations

from django.urls import path

from references import views

urlpatterns = [
    path("refs", views.references_page, name="references-page"),
    path("refs/<str:ref_id>", views.reference_page, name="reference-page"),
    path("refs/<str:ref_id>/otus/<str:otu_id>", views.otu_page, name="otu-page"),
]
