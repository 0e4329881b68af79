"""Resumable uploads: the tus 1.0 protocol under /api/uploads/tus (creation, HEAD offset, PATCH append, termination,
expiration and checksum), beside Virtool's one-request `POST /api/uploads`.

The headers are parsed here, strictly (a malformed one is a 400 in Virtool's error shape, never a 5xx); the writes
are `files.services.upload_resumable_*`. A finished upload is an ordinary upload: same row, same file name on disk,
same checks and the same `uploads` websocket message as `POST /api/uploads`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.exceptions import error_response
from core.api.schema import LOCATION, error_responses
from core.errors import BadRequest
from core.permissions import IsAuthenticated, require_permission
from files import selectors, services
from files.api.serializers import UploadSerializer
from files.constants import TUS_CHECKSUM_ALGORITHMS, TUS_EXTENSIONS, TUS_VERSION, UploadType
from files.models import Upload
from files.storage import CHUNK, MAX_NAME_BYTES, name_fits, safe_name
from users.authentication import request_user

OFFSET_TYPE = "application/offset+octet-stream"
_DIGITS = re.compile(r"[0-9]{1,19}")
_METADATA_KEY = re.compile(r"[^\s,]+")
# The headers a browser script may read from a tus answer (the tus client reads them; same origin needs no more).
_EXPOSED = "Location, Upload-Offset, Upload-Length, Upload-Expires, Tus-Resumable, Tus-Version, Virtool-Upload-Id"


def _header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    return None if value is None else value.strip()


def _integer(request: Request, name: str, *, required: bool) -> int | None:
    """A non-negative integer header; a missing required one or a malformed one is a 400."""
    value = _header(request, name)
    if value is None:
        if required:
            raise BadRequest(f"The {name} header is required")
        return None
    if not _DIGITS.fullmatch(value) or int(value) > 2**63 - 1:
        raise BadRequest(f"The {name} header must be a non-negative integer, not {value[:40]!r}")
    return int(value)


def _metadata(request: Request) -> dict[str, str]:
    """Upload-Metadata: `key base64value` pairs separated by commas (a value may be absent), decoded as UTF-8."""
    value = _header(request, "Upload-Metadata") or ""
    out: dict[str, str] = {}
    for pair in value.split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        encoded = encoded.strip()
        if not _METADATA_KEY.fullmatch(key) or " " in encoded or key in out:
            raise BadRequest(f"Upload-Metadata is malformed near {pair[:40]!r}")
        try:
            out[key] = base64.b64decode(encoded, validate=True).decode() if encoded else ""
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(f"The Upload-Metadata value of {key!r} is not base64-encoded UTF-8") from None
    return out


def _checksum(request: Request) -> tuple[str, bytes] | None:
    """Upload-Checksum: `algorithm base64digest`, with one of the algorithms offered."""
    value = _header(request, "Upload-Checksum")
    if value is None:
        return None
    algorithm, _, encoded = value.partition(" ")
    if algorithm not in TUS_CHECKSUM_ALGORITHMS:
        offered = ", ".join(TUS_CHECKSUM_ALGORITHMS)
        raise BadRequest(f"Upload-Checksum algorithm {algorithm[:20]!r} is not one of {offered}")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise BadRequest("The Upload-Checksum digest is not base64") from None
    return algorithm, digest


def _expires(moment: datetime | None) -> dict[str, str]:
    return {"Upload-Expires": http_date(moment.timestamp())} if moment else {}


def _body_chunks(request: Request) -> Iterator[bytes]:
    django_request = request._request
    while chunk := django_request.read(CHUNK):
        yield chunk


def _tus_response(status: int, headers: dict[str, str] | None = None) -> Response:
    """An answer without a body: tus says everything in headers."""
    return Response(status=status, headers=headers or {})


class _TusView(APIView):
    """What every tus resource shares: `upload_file`, the Tus-Resumable check and header, no body parsing."""

    parser_classes: list[Any] = []  # the body is read as a stream by PATCH, never parsed

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated(), require_permission("upload_file")()]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        version = _header(request, "Tus-Resumable")
        if version is None and request.method not in ("OPTIONS", "GET"):  # GET is ours, not tus's
            raise TusVersionError(f"The Tus-Resumable header is required (this server speaks tus {TUS_VERSION})")
        if version not in (None, TUS_VERSION):
            raise TusVersionError(f"This server speaks tus {TUS_VERSION} only, not {version[:20]!r}")

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, TusVersionError):
            response = error_response("precondition_failed", str(exc), 412)
            response["Tus-Version"] = TUS_VERSION
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = TUS_VERSION
        response["Access-Control-Expose-Headers"] = _EXPOSED
        response["Cache-Control"] = "no-store"
        return response


class TusVersionError(Exception):
    """The client speaks no tus, or another version (412 with Tus-Version)."""


class ResumableUploadSerializer(UploadSerializer):
    """An upload as its resumable resource shows it: the upload, and how many of its bytes have arrived."""

    offset = serializers.IntegerField()


TUS_RESUMABLE = OpenApiParameter("Tus-Resumable", str, OpenApiParameter.HEADER, required=True, enum=[TUS_VERSION])


class ResumableUploadsView(_TusView):
    """POST /uploads/tus creates a resumable upload (tus creation); OPTIONS describes the server (tus discovery)."""

    @extend_schema(
        operation_id="uploads_tus_create",
        summary="Create a resumable upload (tus 1.0 creation)",
        description=(
            "`Upload-Length` is the file's size; `Upload-Metadata` must carry `name` (or `filename`) and `type` "
            f"({', '.join(UploadType.values)}), base64-encoded as tus wants. Answers 201 with the upload's URL in "
            "`Location`; send the bytes there with PATCH."
        ),
        parameters=[
            TUS_RESUMABLE,
            OpenApiParameter("Upload-Length", int, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("Upload-Metadata", str, OpenApiParameter.HEADER, required=True),
            LOCATION,
        ],
        request=None,
        responses={
            201: OpenApiResponse(None, description="Created: `Location`, `Upload-Expires`, `Virtool-Upload-Id`."),
            **error_responses(400, 412, 413),
        },
    )
    def post(self, request: Request) -> Response:
        if _header(request, "Upload-Defer-Length") is not None:
            raise BadRequest("Upload-Defer-Length is not supported: send Upload-Length")
        size = _integer(request, "Upload-Length", required=True)
        assert size is not None
        if int(request.META.get("CONTENT_LENGTH") or 0) > 0:
            raise BadRequest("The creation request takes no body: send the bytes with PATCH")
        metadata = _metadata(request)
        name = safe_name(metadata.get("name") or metadata.get("filename") or "")
        if not name:
            raise BadRequest("Upload-Metadata must give the file's name as 'name'")
        if not name_fits(name):
            raise BadRequest(f"The file name is longer than {MAX_NAME_BYTES} bytes")
        upload_type = metadata.get("type", "")
        if upload_type not in UploadType.values:
            raise BadRequest(f"Upload-Metadata 'type' must be one of {', '.join(UploadType.values)}")
        upload = services.upload_resumable_create(
            user=request_user(request), name=name, upload_type=upload_type, size=size
        )
        return _tus_response(
            201,
            {
                "Location": f"/api/uploads/tus/{upload.resume_token}",
                "Virtool-Upload-Id": str(upload.pk),
                **_expires(upload.expires_at),
            },
        )

    @extend_schema(
        operation_id="uploads_tus_options",
        summary="What this tus server offers",
        request=None,
        responses={204: OpenApiResponse(None, description="`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`.")},
    )
    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        return _tus_response(
            204,
            {
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": ",".join(TUS_EXTENSIONS),
                "Tus-Max-Size": str(settings.VIRTOOL_UPLOAD_MAX_SIZE),
                "Tus-Checksum-Algorithm": ",".join(TUS_CHECKSUM_ALGORITHMS),
            },
        )


class ResumableUploadView(_TusView):
    """HEAD (offset), PATCH (append), DELETE (terminate) and GET (the document) of one resumable upload."""

    def _upload(self, request: Request, token: str) -> Upload:
        return selectors.upload_resumable_get(token=token, user_id=request_user(request).pk)

    @staticmethod
    def _state(upload: Upload) -> dict[str, str]:
        return {
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.size),
            "Virtool-Upload-Id": str(upload.pk),
            **({} if upload.ready else _expires(upload.expires_at)),
        }

    @extend_schema(
        operation_id="uploads_tus_offset",
        summary="How many bytes of a resumable upload the server has (tus HEAD)",
        parameters=[TUS_RESUMABLE],
        responses={
            200: OpenApiResponse(None, description="`Upload-Offset`, `Upload-Length`."),
            **error_responses(404, 412),
        },
    )
    def head(self, request: Request, token: str) -> Response:
        return _tus_response(200, self._state(self._upload(request, token)))

    @extend_schema(
        operation_id="uploads_tus_get",
        summary="A resumable upload's document",
        responses={200: ResumableUploadSerializer, **error_responses(404)},
    )
    def get(self, request: Request, token: str) -> Response:
        upload = self._upload(request, token)
        return Response(ResumableUploadSerializer(upload).data, headers=self._state(upload))

    @extend_schema(
        operation_id="uploads_tus_append",
        summary="Append bytes to a resumable upload (tus PATCH)",
        description=(
            "The body (`Content-Type: application/offset+octet-stream`) is appended at `Upload-Offset`, which must "
            "be the number of bytes the server has (HEAD tells). With `Upload-Checksum` (sha1, sha256 or md5) the "
            "bytes are kept only if they match (460 otherwise). The request that brings the last byte makes the "
            "upload an ordinary one (`Virtool-Upload-Id`)."
        ),
        parameters=[
            TUS_RESUMABLE,
            OpenApiParameter("Upload-Offset", int, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("Upload-Checksum", str, OpenApiParameter.HEADER),
        ],
        request={OFFSET_TYPE: OpenApiTypes.BINARY},
        responses={
            204: OpenApiResponse(None, description="Appended: `Upload-Offset` is the new offset."),
            **error_responses(400, 404, 409, 412, 413, 415, 423, 460),
        },
    )
    def patch(self, request: Request, token: str) -> Response:
        upload = self._upload(request, token)
        content_type = (request.META.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if content_type != OFFSET_TYPE:
            return error_response(
                "unsupported_media_type", f"The body of a tus PATCH must be sent as {OFFSET_TYPE}", 415
            )
        offset = _integer(request, "Upload-Offset", required=True)
        assert offset is not None
        checksum = _checksum(request)
        length = request.META.get("CONTENT_LENGTH")
        upload = services.upload_resumable_append(
            upload=upload,
            offset=offset,
            chunks=_body_chunks(request),
            length=int(length) if length and length.isdigit() else None,
            checksum=checksum,
        )
        return _tus_response(204, self._state(upload))

    @extend_schema(
        operation_id="uploads_tus_terminate",
        summary="End an unfinished resumable upload (tus termination)",
        parameters=[TUS_RESUMABLE],
        responses={204: None, **error_responses(404, 409, 412, 423)},
    )
    def delete(self, request: Request, token: str) -> Response:
        services.upload_resumable_terminate(upload=self._upload(request, token))
        return _tus_response(204)
