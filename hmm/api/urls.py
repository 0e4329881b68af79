"""HMM API routes (mounted under /api); the fixed paths come before `hmms/<hmm_id>`."""

from __future__ import annotations

from django.urls import path

from hmm.api import views

urlpatterns = [
    path("hmms", views.HMMsView.as_view(), name="hmms"),
    path("hmms/status", views.HMMStatusView.as_view(), name="hmm-status"),
    path("hmms/status/release", views.HMMReleaseView.as_view(), name="hmm-release"),
    path("hmms/status/updates", views.HMMUpdatesView.as_view(), name="hmm-updates"),
    path("hmms/files/annotations.json.gz", views.HMMAnnotationsFileView.as_view(), name="hmm-annotations-file"),
    path("hmms/files/profiles.hmm", views.HMMProfilesFileView.as_view(), name="hmm-profiles-file"),
    path("hmms/<str:hmm_id>", views.HMMView.as_view(), name="hmm"),
]
