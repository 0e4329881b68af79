"""References API routes (mounted under /api), at Virtool's `/refs` and its later name `/references/v1`."""

from __future__ import annotations

from django.urls import path

from references.api import views
from references.constants import API_PREFIXES


def _routes(prefix: str, name: str) -> list:
    return [
        path(prefix, views.ReferencesView.as_view(), name=f"{name}"),
        path(f"{prefix}/<str:ref_id>", views.ReferenceView.as_view(), name=f"{name}-detail"),
        path(f"{prefix}/<str:ref_id>/export", views.ReferenceExportView.as_view(), name=f"{name}-export"),
        path(f"{prefix}/<str:ref_id>/release", views.ReferenceReleaseView.as_view(), name=f"{name}-release"),
        path(f"{prefix}/<str:ref_id>/updates", views.ReferenceUpdatesView.as_view(), name=f"{name}-updates"),
        path(
            f"{prefix}/<str:ref_id>/updates/preview",
            views.ReferenceUpdatePreviewView.as_view(),
            name=f"{name}-updates-preview",
        ),
        path(f"{prefix}/<str:ref_id>/users", views.ReferenceMembersView.as_view(), name=f"{name}-users"),
        path(f"{prefix}/<str:ref_id>/users/<int:member_id>", views.ReferenceMemberView.as_view(), name=f"{name}-user"),
        path(f"{prefix}/<str:ref_id>/groups", views.ReferenceGroupMembersView.as_view(), name=f"{name}-groups"),
        path(
            f"{prefix}/<str:ref_id>/groups/<int:member_id>",
            views.ReferenceGroupMemberView.as_view(),
            name=f"{name}-group",
        ),
    ]


urlpatterns = [route for prefix, name in API_PREFIXES for route in _routes(prefix, name)]
