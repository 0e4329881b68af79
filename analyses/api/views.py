"""Analyses API: /samples/{id}/analyses, /analyses, /analyses/{id} and the PathoScope exports."""

from __future__ import annotations

import re

from django.http import HttpResponse, HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analyses import selectors, services
from analyses.api.serializers import (
    AnalysesCreateSerializer,
    AnalysisCreateSerializer,
    AnalysisMinimalSerializer,
    AnalysisOverviewSerializer,
    AnalysisSerializer,
    MatrixQuerySerializer,
    MatrixSerializer,
    NuvsBlastSerializer,
    analysis_document_schema,
)
from analyses.evidence import otu_consensus_fasta, otu_reads_file
from analyses.formatting import export_csv, export_xlsx, format_pathoscope
from analyses.matrix import MatrixRequest, matrix_build, matrix_csv, matrix_json, matrix_xlsx
from analyses.nuvs.blast import nuvs_blast_create, nuvs_blast_delete
from analyses.nuvs.results import blast_document, contigs_fasta, fasta_stem, nuvs_contig, nuvs_contigs, orfs_fasta
from core.api.exceptions import QueryValidationError
from core.api.files import ranged_file_response
from core.api.pagination import VirtoolPagination
from core.api.schema import LOCATION, PAGE_PARAMETERS, RANGE, binary, error_responses, page_serializer, ranged_download
from core.api.serializers import created, validated
from core.errors import BadRequest, Conflict, NotFound
from samples.selectors import sample_get
from users.authentication import request_user


class SampleAnalysesView(APIView):
    """GET /samples/{id}/analyses; POST starts an analysis (write right on the sample)."""

    creates_job = True  # its POST queues a job: 503 while the broker cannot be reached

    @extend_schema(
        operation_id="samples_analyses_list",
        parameters=PAGE_PARAMETERS,
        responses={200: page_serializer("AnalysisPage", AnalysisMinimalSerializer), **error_responses(403)},
    )
    def get(self, request: Request, sample_id: str) -> Response:
        user = request_user(request)
        sample = sample_get(user=user, sample_id=sample_id)
        queryset = selectors.analysis_list(user=user, sample_id=sample.pk)
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=queryset)
        return paginator.get_paginated_response(AnalysisMinimalSerializer(page["objects"], many=True).data)

    @extend_schema(
        request=AnalysisCreateSerializer,
        responses={201: AnalysisMinimalSerializer, **error_responses(409)},
        parameters=[LOCATION],
    )
    def post(self, request: Request, sample_id: str) -> Response:
        user = request_user(request)
        sample = sample_get(user=user, sample_id=sample_id, kind="write")
        analysis = services.analysis_create(user=user, sample=sample, data=validated(AnalysisCreateSerializer, request))
        analysis = selectors.analysis_get(user=user, analysis_id=analysis.pk)
        return created(AnalysisMinimalSerializer(analysis).data, f"/api/analyses/{analysis.pk}")


class AnalysesView(APIView):
    """GET /analyses: every analysis the user may read; POST: the same analysis on several samples."""

    creates_job = True  # its POST queues a job: 503 while the broker cannot be reached

    @extend_schema(
        operation_id="analyses_list",
        parameters=PAGE_PARAMETERS,
        responses=page_serializer("AnalysisPage", AnalysisMinimalSerializer),
    )
    def get(self, request: Request) -> Response:
        queryset = selectors.analysis_list(user=request_user(request))
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=queryset)
        return paginator.get_paginated_response(AnalysisMinimalSerializer(page["objects"], many=True).data)

    # One analysis per sample; no Location, as there are several.
    @extend_schema(
        request=AnalysesCreateSerializer,
        responses={201: AnalysisMinimalSerializer(many=True), **error_responses(404, 409)},
    )
    def post(self, request: Request) -> Response:
        data = validated(AnalysesCreateSerializer, request)
        user = request_user(request)
        samples = [
            sample_get(user=user, sample_id=sample_id, kind="write")
            for sample_id in dict.fromkeys(data.pop("sample_ids"))
        ]
        analyses = services.analyses_create(user=user, samples=samples, data=data)
        documents = [selectors.analysis_get(user=user, analysis_id=a.pk) for a in analyses]
        return Response(AnalysisMinimalSerializer(documents, many=True).data, status=status.HTTP_201_CREATED)


def _matrix(request: Request) -> dict:
    serializer = MatrixQuerySerializer(data=request.query_params.dict())
    if not serializer.is_valid():
        raise QueryValidationError(serializer.errors)
    data = serializer.validated_data
    query = MatrixRequest(
        analysis_ids=data.get("ids", []),
        sample_ids=data.get("sample_ids", []),
        labels=data.get("label", []),
        ref_id=data.get("ref_id") or None,
        include_all=data["all"],
        sort=data["sort"],
    )
    return matrix_build(user=request_user(request), request=query)


class AnalysisMatrixView(APIView):
    """GET /analyses/matrix: samples by OTUs of PathoScope analyses, every cell kept (ours; Virtool has none)."""

    @extend_schema(
        operation_id="analyses_matrix",
        parameters=[MatrixQuerySerializer],
        responses={200: MatrixSerializer, **error_responses(400, 403, 404, 409)},
    )
    def get(self, request: Request) -> HttpResponse:
        # Written by `matrix_json`, not DRF's renderer: most of a large matrix is the same zero cell.
        return HttpResponse(matrix_json(_matrix(request)), content_type="application/json")


class AnalysisMatrixExportView(APIView):
    """GET /analyses/matrix.csv|.xlsx: the matrix in long form, one row per sample by OTU (zeros too)."""

    @extend_schema(
        operation_id="analyses_matrix_export",
        parameters=[MatrixQuerySerializer],
        responses={
            **binary("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            **error_responses(400, 403, 404, 409),
        },
    )
    def get(self, request: Request, extension: str) -> HttpResponse:
        matrix = _matrix(request)
        if extension == "csv":
            response = HttpResponse(matrix_csv(matrix), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(
                matrix_xlsx(matrix), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
        response["Content-Disposition"] = f'attachment; filename="matrix.{extension}"'
        return response


def _choices(request: Request, name: str, allowed: tuple[str, ...]) -> list[str]:
    values = [value for value in request.query_params.getlist(name) if value]
    wrong = [value for value in values if value not in allowed]
    if wrong:
        raise QueryValidationError({name: [f"unexpected value {wrong[0]!r}; permitted: {', '.join(allowed)}"]})
    return values


class AnalysesOverviewView(APIView):
    """GET /analyses/overview (ours): every analysis the user may read with its state, how long it ran and its
    headline result, filtered, sorted and paged; the results themselves are not read."""

    @extend_schema(
        operation_id="analyses_overview",
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("workflow", str, many=True, description="Only these workflows (repeatable)."),
            OpenApiParameter(
                "state", str, many=True, enum=list(selectors.OVERVIEW_STATES), description="Only these states."
            ),
            OpenApiParameter("reference", str, many=True, description="Only analyses of these reference ids."),
            OpenApiParameter("sample", str, description="Only samples whose name contains this (case-insensitive)."),
            OpenApiParameter("user", str, description="Only analyses started by a user whose handle contains this."),
            OpenApiParameter("sort", str, enum=list(selectors.OVERVIEW_SORTS), description="Default -created_at."),
        ],
        responses={200: page_serializer("AnalysisOverviewPage", AnalysisOverviewSerializer), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        sort = request.query_params.get("sort") or "-created_at"
        _choices(request, "sort", tuple(selectors.OVERVIEW_SORTS))
        queryset = selectors.analysis_overview_list(
            user=user,
            workflows=request.query_params.getlist("workflow"),
            states=_choices(request, "state", selectors.OVERVIEW_STATES),
            reference_ids=[value for value in request.query_params.getlist("reference") if value],
            sample=request.query_params.get("sample", "").strip(),
            started_by=request.query_params.get("user", "").strip(),
            sort=sort,
        )
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=selectors.analysis_list(user=user))
        for analysis in page["objects"]:
            services.analysis_summary_fill(analysis)  # once, for one finished before summaries were kept
        return paginator.get_paginated_response(AnalysisOverviewSerializer(page["objects"], many=True).data)


class AnalysisView(APIView):
    """GET /analyses/{id} (results formatted), DELETE (409 while running)."""

    @extend_schema(responses={200: analysis_document_schema(), **error_responses(403)})
    def get(self, request: Request, analysis_id: str) -> Response:
        return Response(
            AnalysisSerializer(selectors.analysis_get(user=request_user(request), analysis_id=analysis_id)).data
        )

    @extend_schema(responses={204: None, **error_responses(409)})
    def delete(self, request: Request, analysis_id: str) -> Response:
        analysis = selectors.analysis_get(user=request_user(request), analysis_id=analysis_id, kind="write")
        services.analysis_delete(analysis=analysis)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AnalysisRetryView(APIView):
    """POST /analyses/{id}/retry: run a failed analysis again as it was started (write right on the sample). Not in
    Virtool, whose failed analyses can only be removed."""

    creates_job = True  # queues a job: 503 while the broker cannot be reached

    @extend_schema(request=None, responses={200: AnalysisMinimalSerializer, **error_responses(400, 403, 409)})
    def post(self, request: Request, analysis_id: str) -> Response:
        user = request_user(request)
        analysis = selectors.analysis_get(user=user, analysis_id=analysis_id, kind="write")
        services.analysis_retry(analysis=analysis, user=user)
        return Response(AnalysisMinimalSerializer(selectors.analysis_get(user=user, analysis_id=analysis_id)).data)


class AnalysisExportView(APIView):
    """GET /analyses/documents/{id}.csv|.xlsx: one row per detected sequence."""

    @extend_schema(
        responses={
            **binary("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            **error_responses(403, 409),
        }
    )
    def get(self, request: Request, analysis_id: str, extension: str) -> HttpResponse:
        analysis = selectors.analysis_get(user=request_user(request), analysis_id=analysis_id)
        if analysis.workflow == "nuvs":
            raise BadRequest("Only PathoScope analyses export as CSV or XLSX: download a NuVs analysis as FASTA")
        formatted = format_pathoscope(analysis)
        if formatted is None:
            raise Conflict("Analysis is not ready yet")
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{analysis.sample.name}_{analysis.pk}").strip("_")
        if extension == "csv":
            response = HttpResponse(export_csv(formatted), content_type="text/csv; charset=utf-8")
        elif extension == "xlsx":
            response = HttpResponse(
                export_xlsx(formatted, analysis.sample.name),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        else:
            raise BadRequest("Export as csv or xlsx")
        response["Content-Disposition"] = f'attachment; filename="{stem}.{extension}"'
        return response


def _fasta_response(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


FASTA_ERRORS = error_responses(400, 403, 409)


class AnalysisFileView(APIView):
    """GET /analyses/{id}/files/{file_id}: download one result file (Range requests honoured)."""

    @extend_schema(parameters=[RANGE], responses={**ranged_download("*/*"), **error_responses(403)})
    def get(self, request: Request, analysis_id: str, file_id: str) -> HttpResponseBase:
        analysis = selectors.analysis_get(user=request_user(request), analysis_id=analysis_id)
        file, path = selectors.analysis_file_get(analysis=analysis, file_id=file_id)
        return ranged_file_response(request, path, file.name)


EVIDENCE_ERRORS = error_responses(400, 403, 404, 409)


class OtuReadsView(APIView):
    """GET /analyses/{id}/otus/{otu_id}/reads.fq.gz: the reads the EM assigned to a hit OTU (PathoScope)."""

    @extend_schema(
        operation_id="analyses_otu_reads",
        description=(
            "The reads the EM assigned to the OTU, as gzip FASTQ (each read as sequenced, once): the reads whose "
            "final best hit (or one of their tied best hits) is a sequence of the OTU. 404 for an OTU that is not "
            "a hit of the analysis, or an analysis made before reads were kept per OTU."
        ),
        parameters=[RANGE],
        responses={**ranged_download("application/gzip"), **EVIDENCE_ERRORS},
    )
    def get(self, request: Request, analysis_id: str, otu_id: str) -> HttpResponseBase:
        analysis = selectors.analysis_get(user=request_user(request), analysis_id=analysis_id)
        path, filename = otu_reads_file(analysis=analysis, otu_id=otu_id)
        return ranged_file_response(request, path, filename)


class OtuConsensusView(APIView):
    """GET /analyses/{id}/otus/{otu_id}/consensus.fa: the consensus of each sequence of a hit OTU's best isolate."""

    @extend_schema(
        operation_id="analyses_otu_consensus",
        description=(
            "The consensus of each sequence (segment) of the OTU's best isolate (highest weight), from the "
            "alignments of the reads the EM assigned to the OTU (samtools consensus, simple mode); positions "
            "covered by fewer reads than the analysis's minimum depth (3), or where the bases disagree, are N."
        ),
        responses={**binary("text/plain"), **EVIDENCE_ERRORS},
    )
    def get(self, request: Request, analysis_id: str, otu_id: str) -> HttpResponse:
        analysis = selectors.analysis_get(user=request_user(request), analysis_id=analysis_id)
        body, filename = otu_consensus_fasta(analysis=analysis, otu_id=otu_id)
        return _fasta_response(body, filename)


class NuvsContigsFastaView(APIView):
    """GET /analyses/{id}/sequences.fa: every contig of a NuVs analysis as FASTA."""

    @extend_schema(operation_id="analyses_nuvs_sequences_fasta", responses={**binary("text/plain"), **FASTA_ERRORS})
    def get(self, request: Request, analysis_id: str) -> HttpResponse:
        analysis = selectors.analysis_get(user=request_user(request), analysis_id=analysis_id)
        contigs = nuvs_contigs(analysis)
        return _fasta_response(contigs_fasta(analysis, contigs), f"{fasta_stem(analysis)}_contigs.fa")


class NuvsContigFastaView(APIView):
    """GET /analyses/{id}/sequences/{sequence_index}.fa: one contig of a NuVs analysis as FASTA."""

    @extend_schema(operation_id="analyses_nuvs_sequence_fasta", responses={**binary("text/plain"), **FASTA_ERRORS})
    def get(self, request: Request, analysis_id: str, sequence_index: str) -> HttpResponse:
        analysis = selectors.analysis_get(user=request_user(request), analysis_id=analysis_id)
        contig = nuvs_contig(nuvs_contigs(analysis), sequence_index)
        if contig is None:
            raise NotFound("Sequence does not exist")
        filename = f"{fasta_stem(analysis)}_contig_{contig['index']}.fa"
        return _fasta_response(contigs_fasta(analysis, [contig]), filename)


class NuvsOrfsFastaView(APIView):
    """GET /analyses/{id}/orfs.fa: the ORF translations of a NuVs analysis as protein FASTA."""

    @extend_schema(operation_id="analyses_nuvs_orfs_fasta", responses={**binary("text/plain"), **FASTA_ERRORS})
    def get(self, request: Request, analysis_id: str) -> HttpResponse:
        analysis = selectors.analysis_get(user=request_user(request), analysis_id=analysis_id)
        contigs = nuvs_contigs(analysis)
        return _fasta_response(orfs_fasta(analysis, contigs), f"{fasta_stem(analysis)}_orfs.fa")


class NuvsBlastView(APIView):
    """PUT /analyses/{id}/{sequence_index}/blast: BLAST one contig at NCBI (replaces its last search); DELETE it."""

    @extend_schema(
        operation_id="analyses_nuvs_blast_create",
        request=None,
        responses={201: NuvsBlastSerializer, **error_responses(400, 403, 409)},
        parameters=[LOCATION],
    )
    def put(self, request: Request, analysis_id: str, sequence_index: str) -> Response:
        analysis = selectors.analysis_get(user=request_user(request), analysis_id=analysis_id, kind="write")
        blast = nuvs_blast_create(analysis=analysis, sequence_index=int(sequence_index))
        return created(blast_document(blast), f"/api/analyses/{analysis.pk}/{blast.sequence_index}/blast")

    @extend_schema(operation_id="analyses_nuvs_blast_delete", responses={204: None, **error_responses(400, 403)})
    def delete(self, request: Request, analysis_id: str, sequence_index: str) -> Response:
        analysis = selectors.analysis_get(user=request_user(request), analysis_id=analysis_id, kind="write")
        nuvs_blast_delete(analysis=analysis, sequence_index=int(sequence_index))
        return Response(status=status.HTTP_204_NO_CONTENT)
