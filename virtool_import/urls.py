"""Page routes of the Virtool importer."""

from __future__ import annotations

from django.urls import path

from virtool_import import views

urlpatterns = [
    path("administration/import", views.import_report, name="administration-import"),
]
