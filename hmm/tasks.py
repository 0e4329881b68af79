"""Periodic tasks for HMMs: the release refresher."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def hmm_release_refresh_task() -> None:
    """Check GitHub for a new HMM release (scheduled by beat); one check at a time across every worker."""
    from core.refresh import run_once
    from hmm.constants import RELEASE_REFRESHER
    from hmm.services import hmm_release_refresh

    run_once(RELEASE_REFRESHER, hmm_release_refresh)
