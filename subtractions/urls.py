"""Subtraction page routes."""

from __future__ import annotations

from django.urls import path

from subtractions import views

urlpatterns = [
    path("subtractions", views.subtractions_page, name="subtractions-page"),
    path("subtractions/<str:subtraction_id>", views.subtraction_page, name="subtraction-page"),
]
