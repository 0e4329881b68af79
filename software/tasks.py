"""Periodic tasks for the software status: the release refresher."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def software_release_refresh_task() -> None:
    """Check GitHub for a newer version of this software (scheduled by beat); one check at a time everywhere."""
    from core.refresh import run_once
    from software.constants import RELEASE_REFRESHER
    from software.services import software_release_refresh

    run_once(RELEASE_REFRESHER, software_release_refresh)
