"""Periodic housekeeping tasks."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sessions_clear_expired_task() -> int:
    """Remove expired sessions (scheduled by beat)."""
    from core.services import sessions_clear_expired

    removed = sessions_clear_expired()
    log.info("removed %d expired sessions", removed)
    return removed
