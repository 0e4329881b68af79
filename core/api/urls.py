"""Core API routes (mounted under /api)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api import views

urlpatterns = [
    path("settings", views.SettingsView.as_view(), name="settings"),
    path("instance_message", views.InstanceMessageView.as_view(), name="instance-message"),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
