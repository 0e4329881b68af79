"""HMM app."""

from __future__ import annotations

from django.apps import AppConfig


class HmmConfig(AppConfig):
    """Profile HMMs of viral protein families (vFam) and their annotations, used by NuVs."""

    name = "hmm"
    verbose_name = "HMMs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.navigation import NavItem, nav_register
        from hmm import receivers, workflows  # noqa: F401  (dispatch registrations; install_hmms)

        nav_register(NavItem("hmms", "HMMs", "/hmms"), before="jobs")
