"""Periodic tasks for uploads."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def uploads_expire_task() -> list[int]:
    """Remove expired, unreserved uploads (scheduled by beat)."""
    from files.services import uploads_expire

    removed = uploads_expire()
    if removed:
        log.info("removed expired uploads %s", removed)
    return removed
