"""Websocket routes."""

from __future__ import annotations

from django.urls import path

from core.consumers import EventConsumer

websocket_urlpatterns = [path("ws", EventConsumer.as_asgi())]
