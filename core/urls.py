"""Browser page routes."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("setup", views.setup, name="setup"),
    path("login", views.login_page, name="login"),
    path("reset", views.reset_page, name="reset"),
    path("account", views.account, name="account-page"),
    path("administration", RedirectView.as_view(url="/administration/users"), name="administration"),
    path("administration/users", views.administration, {"section": "users"}, name="administration-users"),
    path("administration/groups", views.administration, {"section": "groups"}, name="administration-groups"),
    path("administration/settings", views.administration, {"section": "settings"}, name="administration-settings"),
    path("jobs", views.jobs_page, name="jobs-page"),
    path("jobs/<str:job_id>", views.job_page, name="job-page"),
    path("uploads", views.uploads_page, name="uploads-page"),
    path("samples", views.samples_page, name="samples-page"),
    path("samples/labels", views.labels_page, name="labels-page"),  # before the sample route, which would take it
    path("samples/<str:sample_id>", views.sample_page, name="sample-page"),
    path("samples/<str:sample_id>/analyses/<str:analysis_id>", views.analysis_page, name="sample-analysis-page"),
    path("analyses/<str:analysis_id>", views.analysis_page, name="analysis-page"),
    path("subtractions", views.subtractions_page, name="subtractions-page"),
    path("subtractions/<str:subtraction_id>", views.subtraction_page, name="subtraction-page"),
    path("refs", views.references_page, name="references-page"),
    path("refs/<str:ref_id>", views.reference_page, name="reference-page"),
    path("refs/<str:ref_id>/otus/<str:otu_id>", views.otu_page, name="otu-page"),
]
