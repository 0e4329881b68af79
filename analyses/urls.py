"""Analysis page routes: under its sample, and on its own."""

from __future__ import annotations

from django.urls import path

from analyses import views

urlpatterns = [
    path("analyses", views.analyses_overview_page, name="analyses-overview-page"),
    path("samples/<str:sample_id>/analyses/<str:analysis_id>", views.analysis_page, name="sample-analysis-page"),
    path("analyses/matrix", views.matrix_page, name="matrix-page"),
    path("analyses/<str:analysis_id>", views.analysis_page, name="analysis-page"),
]
