"""Indexes API: /indexes, /indexes/{id}, its history and its files, and a reference's /indexes (list, build)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.exceptions import error_response
from core.api.files import ranged_file_response
from core.api.pagination import VirtoolPagination, query_bool
from core.api.serializers import created
from indexes import selectors, services
from indexes.api.serializers import index_document
from indexes.constants import INDEX_FILES
from otus.api.serializers import change_out
from otus.selectors import history_list
from references.selectors import reference_get, reference_require


class IndexesView(APIView):
    """GET /indexes?ready=true: every index, with the count of changes not yet built."""

    @extend_schema(
        operation_id="indexes_list", parameters=[OpenApiParameter("ready", bool)], responses=OpenApiTypes.OBJECT
    )
    def get(self, request: Request) -> Response:
        ready = query_bool(request, "ready")
        if ready:
            # Virtool's client asks for the ready indexes to choose one per reference: a plain list.
            indexes = [i for i in selectors.index_list(ready=True)]
            newest = {}
            for index in indexes:
                newest.setdefault(index.reference_id, index)
            return Response([index_document(i, detail=False) for i in newest.values()])
        queryset = selectors.index_list(ready=ready)
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=selectors.index_list())
        response = paginator.get_paginated_response([index_document(i, detail=False) for i in page["objects"]])
        response.data["change_count"] = history_list(unbuilt=True).count()
        response.data["modified_otu_count"] = history_list(unbuilt=True).values("otu_id").distinct().count()
        return response


class IndexView(APIView):
    """GET /indexes/{id}."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, index_id: str) -> Response:
        return Response(index_document(selectors.index_get(index_id=index_id)))


class IndexHistoryView(APIView):
    """GET /indexes/{id}/history: the changes built into this index."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, index_id: str) -> Response:
        index = selectors.index_get(index_id=index_id)
        queryset = history_list(index_id=index.pk)
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=queryset)
        return paginator.get_paginated_response([change_out(c, with_diff=False) for c in page["objects"]])


class IndexFileView(APIView):
    """GET /indexes/{id}/files/{filename}: reference.fa.gz, reference.json.gz or a bowtie2 file."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, index_id: str, filename: str) -> HttpResponse:
        index = selectors.index_get(index_id=index_id)
        path = selectors.index_path(index) / filename
        if filename not in dict(INDEX_FILES) or not path.exists():
            return error_response("not_found", "Not found", 404)
        return ranged_file_response(request, path, filename)


class ReferenceIndexesView(APIView):
    """GET /refs/{id}/indexes, POST (right `build`): start a build."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, ref_id: str) -> Response:
        reference = reference_get(reference_id=ref_id)
        queryset = selectors.index_list(reference_id=reference.pk)
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=queryset)
        return paginator.get_paginated_response([index_document(i, detail=False) for i in page["objects"]])

    @extend_schema(request=None, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, ref_id: str) -> Response:
        reference = reference_get(reference_id=ref_id)
        reference_require(user=request.user, reference=reference, right="build")
        index = services.index_create(reference=reference, user=request.user)
        return created(index_document(selectors.index_get(index_id=index.pk)), f"/api/indexes/{index.pk}")
