"""Uploads API (Virtool paths under /api): list, upload (streamed), download (with ranges), remove."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.exceptions import QueryValidationError, error_response
from core.api.files import ranged_file_response
from core.api.pagination import ItemsPagination, query_int
from core.api.schema import (
    LOCATION,
    PAGE_PARAMETERS,
    RANGE,
    error_responses,
    int_parameter,
    page_serializer,
    ranged_download,
)
from core.api.serializers import created
from core.permissions import IsAuthenticated, require_permission
from files import selectors, services
from files.api.serializers import UploadQuerySerializer, UploadSerializer
from files.constants import UploadType
from files.storage import CHUNK, MAX_NAME_BYTES, NotAcceptable, UploadWriter, name_fits, safe_name, upload_path
from files.uploads import ReceivedFile, UploadToFilesHandler
from users.authentication import request_user


def _query(request: Request) -> dict:
    serializer = UploadQuerySerializer(data=request.query_params.dict())
    if not serializer.is_valid():
        raise QueryValidationError(serializer.errors)
    return serializer.validated_data


def _receive(request: Request, *, name: str, upload_type: str) -> ReceivedFile:
    """Stream the body (multipart field `file`, or the raw body) into the files folder."""
    django_request = request._request
    max_size = settings.VIRTOOL_UPLOAD_MAX_SIZE
    if django_request.content_type == "multipart/form-data":
        handler = UploadToFilesHandler(django_request, name=name, upload_type=upload_type, max_size=max_size)
        django_request.upload_handlers = [handler]
        try:
            # UploadToFilesHandler.file_complete put a ReceivedFile there, not an UploadedFile.
            received = cast("ReceivedFile | None", django_request.FILES.get("file"))
        except BaseException:
            handler.discard()
            raise
        if received is None:
            handler.discard()
            raise NotAcceptable("The upload has no file: send it in the multipart field 'file'")
        return received
    writer = UploadWriter(name=name, upload_type=upload_type, max_size=max_size)
    try:
        while chunk := django_request.read(CHUNK):
            writer.write(chunk)
        return ReceivedFile(*writer.finish())
    except BaseException:
        writer.discard()
        raise


class UploadsView(APIView):
    """GET /uploads (any user), POST /uploads?name=&type= (`upload_file`)."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [IsAuthenticated(), require_permission("upload_file")()]
        return [IsAuthenticated()]

    @extend_schema(
        operation_id="uploads_list",
        parameters=[
            int_parameter("user", minimum=1, description="Only this user's uploads."),
            OpenApiParameter("type", str, enum=UploadType.values),
            OpenApiParameter("upload_type", str, enum=UploadType.values, description="The same as `type`."),
            *PAGE_PARAMETERS,
        ],
        responses=page_serializer("UploadPage", UploadSerializer, key="items"),
    )
    def get(self, request: Request) -> Response:
        upload_type = request.query_params.get("type") or request.query_params.get("upload_type")
        if upload_type and upload_type not in UploadType.values:
            raise QueryValidationError(
                {"type": [f"must be one of {', '.join(UploadType.values)}"]}, code="type_error.enum"
            )
        user = request.query_params.get("user")
        user_id = query_int(request, "user", 0) if user else None
        paginator = ItemsPagination()
        page = paginator.paginate(
            request=request,
            queryset=selectors.upload_list(user_id=user_id, upload_type=upload_type),
            total_queryset=selectors.upload_list(),
        )
        return paginator.get_paginated_response(UploadSerializer(page["objects"], many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("name", str, required=True),
            OpenApiParameter("type", str, enum=UploadType.values, required=True),
            LOCATION,
        ],
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            },
            "application/octet-stream": OpenApiTypes.BINARY,
        },
        responses={201: UploadSerializer, **error_responses(413)},
    )
    def post(self, request: Request) -> Response:
        params = _query(request)
        name = safe_name(params["name"])
        if not name:
            raise QueryValidationError({"name": ["The file name is empty"]})
        if not name_fits(name):
            raise QueryValidationError({"name": [f"The file name is longer than {MAX_NAME_BYTES} bytes"]})
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.VIRTOOL_UPLOAD_MAX_SIZE + 64 * 1024:
            return error_response(
                "payload_too_large",
                f"The file is larger than the {settings.VIRTOOL_UPLOAD_MAX_SIZE} bytes this server accepts",
                413,
            )
        try:
            received = _receive(request, name=name, upload_type=params["type"])
        except NotAcceptable as error:
            return error_response("bad_request", str(error), 400)
        upload = services.upload_create(
            name=name,
            upload_type=params["type"],
            user=request_user(request),
            temp_path=received.path,
            size=received.size,
            sha256=received.sha256,
        )
        upload = selectors.upload_get(upload_id=upload.pk)
        return created(UploadSerializer(upload).data, f"/api/uploads/{upload.pk}")


class UploadView(APIView):
    """GET /uploads/{id} downloads the file; DELETE /uploads/{id} removes it (`remove_file`)."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "DELETE":
            return [IsAuthenticated(), require_permission("remove_file")()]
        return [IsAuthenticated()]

    # The content type follows the file's name (Django's FileResponse guesses it).
    @extend_schema(parameters=[RANGE], responses=ranged_download("*/*"))
    def get(self, request: Request, upload_id: int) -> HttpResponseBase:
        upload = selectors.upload_get(upload_id=upload_id)
        path = upload_path(upload.name_on_disk)
        if not path.exists():
            return error_response("not_found", "The file of this upload is missing", 404)
        return ranged_file_response(request, path, upload.name)

    @extend_schema(responses={204: None, **error_responses(409)})
    def delete(self, request: Request, upload_id: int) -> Response:
        services.upload_remove(upload=selectors.upload_get(upload_id=upload_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
