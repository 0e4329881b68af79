"""Analyses app."""

from __future__ import annotations

from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    """Analyses of samples: PathoScope (known viruses) and NuVs (novel viruses)."""

    name = "analyses"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from analyses import receivers, workflows  # noqa: F401  (dispatch registrations; the pathoscope workflow)
        from analyses.nuvs import workflow  # noqa: F401  (the nuvs workflow)
        from core.navigation import NavItem, nav_register
        from core.pages import page_part_register

        nav_register(NavItem("matrix", "Matrix", "/analyses/matrix"), before="references")
        nav_register(NavItem("analyses", "Analyses", "/analyses"), before="jobs")

        # The samples pages show analyses without knowing them: their slots are filled from here.
        page_part_register(
            page="sample", slot="sections", template="analyses/sample_part.html", script="analyses/sample-analyses.js"
        )
        page_part_register(
            page="samples",
            slot="selection-actions",
            template="analyses/samples_action.html",
            script="analyses/samples-part.js",
        )
        page_part_register(
            page="samples",
            slot="selection-actions",
            template="analyses/samples_compare.html",
            script="analyses/samples-compare.js",
        )
        page_part_register(
            page="samples",
            slot="selection-forms",
            template="analyses/samples_form.html",
            script="analyses/samples-part.js",
        )
