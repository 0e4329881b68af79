"""HMM API (/hmms): annotations, the status of the installed data, installs and purges (`modify_hmm` writes)."""

from __future__ import annotations

from django.http import HttpResponseBase, JsonResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.exceptions import error_response
from core.api.files import ranged_file_response
from core.api.pagination import VirtoolPagination
from core.api.schema import LOCATION, PAGE_PARAMETERS, RANGE, error_responses, page_serializer, ranged_download
from core.api.serializers import created, validated
from core.permissions import IsAuthenticated, require_permission
from hmm import selectors, services
from hmm.api.serializers import (
    HMMInstalledSerializer,
    HMMInstallSerializer,
    HMMMinimalSerializer,
    HMMReleaseSerializer,
    HMMSerializer,
    HMMStatusSerializer,
)
from users.authentication import request_user


class _Writes(APIView):
    def get_permissions(self) -> list[BasePermission]:
        if self.request.method in ("POST", "PATCH", "DELETE"):
            return [IsAuthenticated(), require_permission("modify_hmm")()]
        return [IsAuthenticated()]


def _status_document() -> dict:
    return HMMStatusSerializer(selectors.hmm_status_read()).data


class HMMsView(_Writes):
    """GET /hmms (?find, pages, with the `status` document), DELETE /hmms (purge)."""

    @extend_schema(
        operation_id="hmms_list",
        parameters=[
            OpenApiParameter("find", str, description="Names or families containing this, or a cluster number."),
            *PAGE_PARAMETERS,
        ],
        responses=page_serializer("HMMPage", HMMMinimalSerializer, status=HMMStatusSerializer()),
    )
    def get(self, request: Request) -> Response:
        paginator = VirtoolPagination()
        page = paginator.paginate(
            request=request,
            queryset=selectors.hmm_list(find=request.query_params.get("find", "")),
            total_queryset=selectors.hmm_list_total(),
        )
        response = paginator.get_paginated_response(HMMMinimalSerializer(page["objects"], many=True).data)
        response.data["status"] = _status_document()
        return response

    @extend_schema(responses={204: None, **error_responses(409)})
    def delete(self, request: Request) -> Response:
        services.hmm_purge()
        return Response(status=status.HTTP_204_NO_CONTENT)


class HMMStatusView(APIView):
    """GET /hmms/status."""

    @extend_schema(responses=HMMStatusSerializer)
    def get(self, request: Request) -> Response:
        return Response(_status_document())


class HMMReleaseView(APIView):
    """GET /hmms/status/release: asks GitHub for the latest release of the `hmm_slug` repository (as Virtool does;
    conditional on the stored ETag) and answers the release now known: null while none is. A failed check keeps the
    release known before and is told in the status's `errors`."""

    @extend_schema(responses=HMMReleaseSerializer(allow_null=True))
    def get(self, request: Request) -> JsonResponse:
        # DRF renders None as an empty body; a client reads the JSON literal null.
        return JsonResponse(services.hmm_release_check(), safe=False)


class HMMUpdatesView(_Writes):
    """GET /hmms/status/updates (newest first), POST /hmms/status/updates: install the newest known release (an
    empty body, as Virtool's client sends) or an uploaded archive (`upload_id`)."""

    creates_job = True  # its POST queues a job: 503 while the broker cannot be reached

    @extend_schema(responses=HMMInstalledSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(list(reversed(HMMStatusSerializer(selectors.hmm_status_read()).data["updates"])))

    @extend_schema(
        request=HMMInstallSerializer,
        responses={201: HMMStatusSerializer, **error_responses(409)},
        parameters=[LOCATION],
    )
    def post(self, request: Request) -> Response:
        data = validated(HMMInstallSerializer, request)
        if data.get("upload_id") is None:
            services.hmm_install_release(user=request_user(request))
        else:
            services.hmm_install_upload(user=request_user(request), upload_id=data["upload_id"])
        return created(_status_document(), "/api/hmms/status")


class HMMView(APIView):
    """GET /hmms/{id}."""

    @extend_schema(responses=HMMSerializer)
    def get(self, request: Request, hmm_id: str) -> Response:
        return Response(HMMSerializer(selectors.hmm_get(hmm_id=hmm_id)).data)


class HMMFileView(APIView):
    """GET /hmms/files/{annotations.json.gz|profiles.hmm}: the installed files (what a NuVs runner fetches)."""

    filename = ""

    def get(self, request: Request) -> HttpResponseBase:
        files = selectors.hmm_files()
        if files is None:
            return error_response("not_found", "HMM data is not installed", 404)
        path = files.annotations if self.filename == files.annotations.name else files.profiles
        return ranged_file_response(request, path, self.filename)


class HMMAnnotationsFileView(HMMFileView):
    """GET /hmms/files/annotations.json.gz."""

    filename = "annotations.json.gz"

    @extend_schema(parameters=[RANGE], responses={**ranged_download("application/gzip"), **error_responses(404)})
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)


class HMMProfilesFileView(HMMFileView):
    """GET /hmms/files/profiles.hmm."""

    filename = "profiles.hmm"

    @extend_schema(
        parameters=[RANGE], responses={**ranged_download("application/octet-stream"), **error_responses(404)}
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)
