"""Indexes API: /indexes, /indexes/{id}, its history and its files, and a reference's /indexes (list, build)."""

from __future__ import annotations

from django.http import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.exceptions import error_response
from core.api.files import ranged_file_response
from core.api.pagination import VirtoolPagination, query_bool
from core.api.schema import LOCATION, PAGE_PARAMETERS, RANGE, error_responses, one_of, page_serializer, ranged_download
from core.api.serializers import created
from indexes import selectors, services
from indexes.api.serializers import IndexMinimalSerializer, IndexSerializer
from indexes.constants import INDEX_FILES
from indexes.models import Index
from otus.api.serializers import ChangeMinimalSerializer
from otus.selectors import history_list
from references.selectors import reference_get, reference_require
from users.authentication import request_user


class IndexesView(APIView):
    """GET /indexes?ready=true: every index, with the count of changes not yet built."""

    @extend_schema(
        operation_id="indexes_list",
        parameters=[
            OpenApiParameter("ready", bool, description="true: a bare list of each reference's newest ready index."),
            *PAGE_PARAMETERS,
        ],
        responses=one_of(
            "IndexList",
            page_serializer(
                "IndexPage",
                IndexMinimalSerializer,
                total_otu_count=serializers.IntegerField(help_text="OTUs in all."),
                change_count=serializers.IntegerField(help_text="Changes not built into any index."),
                modified_otu_count=serializers.IntegerField(help_text="OTUs with such changes."),
            ),
            IndexMinimalSerializer(many=True),
        ),
    )
    def get(self, request: Request) -> Response:
        ready = query_bool(request, "ready")
        if ready:
            # Virtool's client asks for the ready indexes to choose one per reference: a plain list.
            indexes = [i for i in selectors.index_list(ready=True)]
            newest: dict[str, Index] = {}
            for index in indexes:
                newest.setdefault(index.reference_id, index)
            return Response(IndexMinimalSerializer(newest.values(), many=True).data)
        queryset = selectors.index_list(ready=ready)
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=selectors.index_list())
        response = paginator.get_paginated_response(IndexMinimalSerializer(page["objects"], many=True).data)
        response.data.update(selectors.unbuilt_stats())
        return response


class IndexView(APIView):
    """GET /indexes/{id}."""

    @extend_schema(responses=IndexSerializer)
    def get(self, request: Request, index_id: str) -> Response:
        return Response(IndexSerializer(selectors.index_get(index_id=index_id)).data)


class IndexHistoryView(APIView):
    """GET /indexes/{id}/history: the changes built into this index."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=page_serializer("ChangePage", ChangeMinimalSerializer))
    def get(self, request: Request, index_id: str) -> Response:
        index = selectors.index_get(index_id=index_id)
        queryset = history_list(index_id=index.pk)
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=queryset)
        return paginator.get_paginated_response(ChangeMinimalSerializer(page["objects"], many=True).data)


class IndexFileView(APIView):
    """GET /indexes/{id}/files/{filename}: reference.fa.gz, reference.json.gz or a bowtie2 file."""

    @extend_schema(parameters=[RANGE], responses=ranged_download("application/gzip", "application/octet-stream"))
    def get(self, request: Request, index_id: str, filename: str) -> HttpResponseBase:
        index = selectors.index_get(index_id=index_id)
        path = selectors.index_path(index) / filename
        if filename not in dict(INDEX_FILES) or not path.exists():
            return error_response("not_found", "Not found", 404)
        return ranged_file_response(request, path, filename)


class ReferenceIndexesView(APIView):
    """GET /refs/{id}/indexes, POST (right `build`): start a build."""

    creates_job = True  # its POST queues a job: 503 while the broker cannot be reached

    @extend_schema(
        operation_id="refs_indexes_list",
        parameters=PAGE_PARAMETERS,
        responses=page_serializer(
            "ReferenceIndexPage",
            IndexMinimalSerializer,
            total_otu_count=serializers.IntegerField(help_text="OTUs in all."),
            change_count=serializers.IntegerField(help_text="Changes not built into any index."),
            modified_otu_count=serializers.IntegerField(help_text="OTUs with such changes."),
        ),
    )
    def get(self, request: Request, ref_id: str) -> Response:
        reference = reference_get(reference_id=ref_id)
        queryset = selectors.index_list(reference_id=reference.pk)
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=queryset)
        response = paginator.get_paginated_response(IndexMinimalSerializer(page["objects"], many=True).data)
        response.data.update(selectors.unbuilt_stats(reference_id=reference.pk))
        return response

    @extend_schema(request=None, responses={201: IndexSerializer, **error_responses(409)}, parameters=[LOCATION])
    def post(self, request: Request, ref_id: str) -> Response:
        reference = reference_get(reference_id=ref_id)
        user = request_user(request)
        reference_require(user=user, reference=reference, right="build")
        index = services.index_create(reference=reference, user=user)
        return created(IndexSerializer(selectors.index_get(index_id=index.pk)).data, f"/api/indexes/{index.pk}")
