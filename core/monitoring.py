"""Error reporting to Sentry for Django and Celery."""

from __future__ import annotations


def sentry_init(*, dsn: str) -> None:
    """Report unhandled Django and Celery errors to `dsn` (called from settings when SENTRY_DSN is set)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    from core.version import get_version

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        release=get_version(),
        traces_sample_rate=0.0,
    )
