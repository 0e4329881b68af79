"""Analyses API routes (mounted under /api)."""

from __future__ import annotations

from django.urls import path, re_path

from analyses.api import views

urlpatterns = [
    path("samples/<str:sample_id>/analyses", views.SampleAnalysesView.as_view(), name="sample-analyses"),
    path("analyses", views.AnalysesView.as_view(), name="analyses"),
    path("analyses/matrix", views.AnalysisMatrixView.as_view(), name="analyses-matrix"),
    re_path(
        r"^analyses/matrix\.(?P<extension>csv|xlsx)$",
        views.AnalysisMatrixExportView.as_view(),
        name="analyses-matrix-export",
    ),
    path("analyses/overview", views.AnalysesOverviewView.as_view(), name="analyses-overview"),
    re_path(
        r"^analyses/documents/(?P<analysis_id>[A-Za-z0-9]+)\.(?P<extension>csv|xlsx)$",
        views.AnalysisExportView.as_view(),
        name="analysis-export",
    ),
    path("analyses/<str:analysis_id>", views.AnalysisView.as_view(), name="analysis"),
    path("analyses/<str:analysis_id>/retry", views.AnalysisRetryView.as_view(), name="analysis-retry"),
    path("analyses/<str:analysis_id>/files/<str:file_id>", views.AnalysisFileView.as_view(), name="analysis-file"),
    path("analyses/<str:analysis_id>/sequences.fa", views.NuvsContigsFastaView.as_view(), name="nuvs-contigs-fasta"),
    re_path(
        r"^analyses/(?P<analysis_id>[A-Za-z0-9]+)/sequences/(?P<sequence_index>[0-9]+)\.fa$",
        views.NuvsContigFastaView.as_view(),
        name="nuvs-contig-fasta",
    ),
    re_path(
        r"^analyses/(?P<analysis_id>[A-Za-z0-9]+)/(?P<sequence_index>[0-9]+)/blast$",
        views.NuvsBlastView.as_view(),
        name="nuvs-blast",
    ),
    path("analyses/<str:analysis_id>/otus/<str:otu_id>/reads.fq.gz", views.OtuReadsView.as_view(), name="otu-reads"),
    path(
        "analyses/<str:analysis_id>/otus/<str:otu_id>/consensus.fa",
        views.OtuConsensusView.as_view(),
        name="otu-consensus",
    ),
    path("analyses/<str:analysis_id>/orfs.fa", views.NuvsOrfsFastaView.as_view(), name="nuvs-orfs-fasta"),
]
