"""Wiring for the Virtool Django project; exposes the Celery app so `celery -A virtool_site` finds it."""

from __future__ import annotations

from virtool_site.celery import app as celery_app

__all__ = ["celery_app"]
