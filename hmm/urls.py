"""HMM page routes."""

from __future__ import annotations

from django.urls import path

from hmm import views

urlpatterns = [
    path("hmms", views.hmms_page, name="hmms-page"),
    path("hmms/<str:hmm_id>", views.hmm_page, name="hmm-page"),
]
