"""Software app."""

from __future__ import annotations

from django.apps import AppConfig


class SoftwareConfig(AppConfig):
    """This software's own releases: administrators are told when a newer version exists (it never updates itself)."""

    name = "software"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.pages import page_part_register
        from software import receivers  # noqa: F401  (dispatch registration)

        # The layout shows administrators the notice without knowing what it is about.
        page_part_register(page="layout", slot="notices", template="software/notice.html")
