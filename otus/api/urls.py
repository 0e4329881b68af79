"""OTU and history API routes (mounted under /api), with a reference's OTUs and history."""

from __future__ import annotations

from django.urls import path, re_path

from otus.api import views
from references.constants import API_PREFIXES

ID = r"[A-Za-z0-9_-]+"

urlpatterns = [
    re_path(rf"^otus/(?P<otu_id>{ID})\.fa$", views.OTUFastaView.as_view(), name="otu-fasta"),
    re_path(
        rf"^otus/(?P<otu_id>{ID})/isolates/(?P<isolate_id>{ID})\.fa$",
        views.IsolateFastaView.as_view(),
        name="isolate-fasta",
    ),
    re_path(
        rf"^otus/(?P<otu_id>{ID})/isolates/(?P<isolate_id>{ID})/sequences/(?P<sequence_id>{ID})\.fa$",
        views.SequenceFastaView.as_view(),
        name="sequence-fasta",
    ),
    path("otus/<str:otu_id>", views.OTUView.as_view(), name="otu"),
    path("otus/<str:otu_id>/history", views.OTUHistoryView.as_view(), name="otu-history"),
    path("otus/<str:otu_id>/isolates", views.IsolatesView.as_view(), name="isolates"),
    path("otus/<str:otu_id>/isolates/<str:isolate_id>", views.IsolateView.as_view(), name="isolate"),
    path(
        "otus/<str:otu_id>/isolates/<str:isolate_id>/default",
        views.IsolateDefaultView.as_view(),
        name="isolate-default",
    ),
    path("otus/<str:otu_id>/isolates/<str:isolate_id>/sequences", views.SequencesView.as_view(), name="sequences"),
    path(
        "otus/<str:otu_id>/isolates/<str:isolate_id>/sequences/<str:sequence_id>",
        views.SequenceView.as_view(),
        name="sequence",
    ),
    path("genbank/<str:accession>", views.GenBankView.as_view(), name="genbank"),
    path("history", views.HistoryView.as_view(), name="history"),
    path("history/<str:change_id>", views.ChangeView.as_view(), name="change"),
    # A reference's OTUs and history, under both names of the references API.
    *(
        route
        for prefix, name in API_PREFIXES
        for route in (
            path(f"{prefix}/<str:ref_id>/otus", views.ReferenceOTUsView.as_view(), name=f"{name}-otus"),
            path(f"{prefix}/<str:ref_id>/history", views.ReferenceHistoryView.as_view(), name=f"{name}-history"),
        )
    ),
]
