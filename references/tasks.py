"""Beat tasks of references: keep each remote reference's newest release known."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def references_releases_refresh_task() -> None:
    """Every VIRTOOL_RELEASE_INTERVAL seconds, once across all workers."""
    from core.refresh import run_once
    from references.services import references_releases_refresh

    run_once("reference-releases", references_releases_refresh)
