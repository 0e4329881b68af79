"""OTU and history API routes (mounted under /api)."""

from __future__ import annotations

from django.urls import path, re_path

from otus.api import views

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
    path("history", views.HistoryView.as_view(), name="history"),
    path("history/<str:change_id>", views.ChangeView.as_view(), name="change"),
]
