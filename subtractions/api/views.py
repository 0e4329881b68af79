"""Subtractions API (/subtractions); writes need the permission `modify_subtraction`."""

from __future__ import annotations

from django.http import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.exceptions import error_response
from core.api.files import ranged_file_response
from core.api.pagination import VirtoolPagination, query_bool
from core.api.schema import (
    FIND,
    LOCATION,
    PAGE_PARAMETERS,
    RANGE,
    error_responses,
    one_of,
    page_serializer,
    ranged_download,
)
from core.api.serializers import created, validated
from core.permissions import IsAuthenticated, require_permission
from subtractions import selectors, services
from subtractions.api.serializers import (
    SubtractionCreateSerializer,
    SubtractionMinimalSerializer,
    SubtractionSerializer,
    SubtractionShortSerializer,
    SubtractionUpdateSerializer,
)
from subtractions.constants import SUBTRACTION_FILES
from users.authentication import request_user


class _Writes(APIView):
    def get_permissions(self) -> list[BasePermission]:
        if self.request.method in ("POST", "PATCH", "DELETE"):
            return [IsAuthenticated(), require_permission("modify_subtraction")()]
        return [IsAuthenticated()]


class SubtractionsView(_Writes):
    """GET /subtractions (?find, ?ready, ?short=true for [{id, name, ready}]), POST /subtractions."""

    creates_job = True  # its POST queues a job: 503 while the broker cannot be reached

    @extend_schema(
        operation_id="subtractions_list",
        parameters=[
            FIND,
            OpenApiParameter("ready", bool),
            OpenApiParameter("short", bool, description="Answer with a bare list of `{id, name, ready}`."),
            *PAGE_PARAMETERS,
        ],
        responses=one_of(
            "SubtractionList",
            page_serializer("SubtractionPage", SubtractionMinimalSerializer),
            SubtractionShortSerializer(many=True),
        ),
    )
    def get(self, request: Request) -> Response:
        queryset = selectors.subtraction_list(
            find=request.query_params.get("find", ""), ready=query_bool(request, "ready")
        )
        if query_bool(request, "short"):
            return Response(SubtractionShortSerializer(queryset, many=True).data)
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=selectors.subtraction_list())
        return paginator.get_paginated_response(SubtractionMinimalSerializer(page["objects"], many=True).data)

    @extend_schema(
        request=SubtractionCreateSerializer,
        responses={201: SubtractionSerializer, **error_responses(409)},
        parameters=[LOCATION],
    )
    def post(self, request: Request) -> Response:
        subtraction = services.subtraction_create(
            user=request_user(request), data=validated(SubtractionCreateSerializer, request)
        )
        document = SubtractionSerializer(selectors.subtraction_get(subtraction_id=subtraction.pk)).data
        return created(document, f"/api/subtractions/{subtraction.pk}")


class SubtractionView(_Writes):
    """GET/PATCH/DELETE /subtractions/{id}."""

    @extend_schema(responses=SubtractionSerializer)
    def get(self, request: Request, subtraction_id: str) -> Response:
        return Response(SubtractionSerializer(selectors.subtraction_get(subtraction_id=subtraction_id)).data)

    @extend_schema(request=SubtractionUpdateSerializer, responses=SubtractionSerializer)
    def patch(self, request: Request, subtraction_id: str) -> Response:
        subtraction = selectors.subtraction_get(subtraction_id=subtraction_id)
        services.subtraction_update(subtraction=subtraction, data=validated(SubtractionUpdateSerializer, request))
        return Response(SubtractionSerializer(selectors.subtraction_get(subtraction_id=subtraction_id)).data)

    @extend_schema(responses={204: None, **error_responses(409)})
    def delete(self, request: Request, subtraction_id: str) -> Response:
        services.subtraction_delete(subtraction=selectors.subtraction_get(subtraction_id=subtraction_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubtractionFileView(APIView):
    """GET /subtractions/{id}/files/{filename}."""

    @extend_schema(parameters=[RANGE], responses=ranged_download("application/gzip", "application/octet-stream"))
    def get(self, request: Request, subtraction_id: str, filename: str) -> HttpResponseBase:
        subtraction = selectors.subtraction_get(subtraction_id=subtraction_id)
        path = selectors.subtractions_path(subtraction.pk) / filename
        if filename not in dict(SUBTRACTION_FILES) or not path.exists():
            return error_response("not_found", "Not found", 404)
        return ranged_file_response(request, path, filename)
