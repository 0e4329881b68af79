"""References API routes (mounted under /api), at Virtool's `/refs` and its later name `/references/v1`."""

from __future__ import annotations

from django.urls import path

from references.api import views


def _routes(prefix: str, name: str) -> list:
    return [
        path(prefix, views.ReferencesView.as_view(), name=f"{name}"),
        path(f"{prefix}/<str:ref_id>", views.ReferenceView.as_view(), name=f"{name}-detail"),
        path(f"{prefix}/<str:ref_id>/export", views.ReferenceExportView.as_view(), name=f"{name}-export"),
        path(f"{prefix}/<str:ref_id>/otus", views.ReferenceOTUsView.as_view(), name=f"{name}-otus"),
        path(f"{prefix}/<str:ref_id>/history", views.ReferenceHistoryView.as_view(), name=f"{name}-history"),
        path(f"{prefix}/<str:ref_id>/indexes", views.ReferenceIndexesView.as_view(), name=f"{name}-indexes"),
        path(f"{prefix}/<str:ref_id>/users", views.ReferenceMembersView.as_view(), name=f"{name}-users"),
        path(f"{prefix}/<str:ref_id>/users/<int:member_id>", views.ReferenceMemberView.as_view(), name=f"{name}-user"),
        path(f"{prefix}/<str:ref_id>/groups", views.ReferenceGroupMembersView.as_view(), name=f"{name}-groups"),
        path(
            f"{prefix}/<str:ref_id>/groups/<int:member_id>",
            views.ReferenceGroupMemberView.as_view(),
            name=f"{name}-group",
        ),
    ]


urlpatterns = [*_routes("refs", "refs"), *_routes("references/v1", "references-v1")]
