"""Samples and labels API (Virtool paths under /api)."""

from __future__ import annotations

from django.http import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.exceptions import QueryValidationError, error_response
from core.api.files import ranged_file_response
from core.api.pagination import VirtoolPagination, query_ints
from core.api.schema import (
    FIND,
    LOCATION,
    PAGE_PARAMETERS,
    RANGE,
    error_responses,
    int_parameter,
    page_serializer,
    ranged_download,
)
from core.api.serializers import created, validated
from core.caching import cached_response
from core.errors import InsufficientRights
from core.permissions import IsAuthenticated, require_permission
from samples import selectors, services
from samples.api.serializers import (
    LabelCreateSerializer,
    LabelSerializer,
    LabelUpdateSerializer,
    SampleCreateSerializer,
    SampleMinimalSerializer,
    SampleRightsSerializer,
    SampleSerializer,
    SampleUpdateSerializer,
)
from samples.constants import READS_NAMES, SORT_FIELDS, WORKFLOW_CONDITIONS, WORKFLOW_FILTER_KEYS
from users.authentication import request_user


def _labels(request: Request) -> list[int]:
    return query_ints(request.query_params.getlist("label") + request.query_params.getlist("label[]"), "label")


def _workflows(request: Request) -> list[str]:
    """`workflows=pathoscope:ready&workflows=nuvs:none` (or space-separated in one value, as Virtool documents)."""
    values = request.query_params.getlist("workflows") + request.query_params.getlist("workflows[]")
    conditions = [condition for value in values for condition in value.split()]
    for condition in conditions:
        key, _, state = condition.partition(":")
        if key not in WORKFLOW_FILTER_KEYS or state not in WORKFLOW_CONDITIONS:
            expected = f"<{'|'.join(WORKFLOW_FILTER_KEYS)}>:<{'|'.join(WORKFLOW_CONDITIONS)}>"
            raise QueryValidationError({"workflows": [f"'{condition[:50]}' is not {expected}"]}, code="value_error")
    return conditions


class SamplesView(APIView):
    """GET /samples (what the user may read), POST /samples (`create_sample`)."""

    creates_job = True  # its POST queues a job: 503 while the broker cannot be reached

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [IsAuthenticated(), require_permission("create_sample")()]
        return [IsAuthenticated()]

    @extend_schema(
        operation_id="samples_list",
        parameters=[
            FIND,
            int_parameter("label", many=True, description="Only samples carrying every one of these labels."),
            OpenApiParameter(
                "workflows",
                str,
                many=True,
                description="Only samples in these workflow states, e.g. `pathoscope:ready`, `nuvs:none` "
                "(`none|pending|ready`; states of one workflow are alternatives, different workflows must all match).",
            ),
            OpenApiParameter("sort", str, enum=list(SORT_FIELDS)),
            *PAGE_PARAMETERS,
        ],
        responses=page_serializer("SamplePage", SampleMinimalSerializer),
    )
    @cached_response
    def get(self, request: Request) -> Response:
        sort = request.query_params.get("sort", "-created_at")
        if sort not in SORT_FIELDS:
            raise QueryValidationError({"sort": [f"must be one of {', '.join(SORT_FIELDS)}"]}, code="type_error.enum")
        user = request_user(request)
        queryset = selectors.sample_list(
            user=user,
            find=request.query_params.get("find", ""),
            labels=_labels(request),
            workflows=_workflows(request),
            sort=sort,
        )
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=selectors.sample_list(user=user))
        return paginator.get_paginated_response(SampleMinimalSerializer(page["objects"], many=True).data)

    @extend_schema(request=SampleCreateSerializer, responses={201: SampleSerializer}, parameters=[LOCATION])
    def post(self, request: Request) -> Response:
        user = request_user(request)
        sample = services.sample_create(user=user, data=validated(SampleCreateSerializer, request))
        sample = selectors.sample_get(user=user, sample_id=sample.pk)
        return created(SampleSerializer(sample).data, f"/api/samples/{sample.pk}")


class SampleView(APIView):
    """GET/PATCH/DELETE /samples/{id}."""

    @extend_schema(responses={200: SampleSerializer, **error_responses(403)})
    def get(self, request: Request, sample_id: str) -> Response:
        return Response(SampleSerializer(selectors.sample_get(user=request_user(request), sample_id=sample_id)).data)

    @extend_schema(request=SampleUpdateSerializer, responses=SampleSerializer)
    def patch(self, request: Request, sample_id: str) -> Response:
        user = request_user(request)
        sample = selectors.sample_get(user=user, sample_id=sample_id, kind="write")
        services.sample_update(sample=sample, data=validated(SampleUpdateSerializer, request))
        return Response(SampleSerializer(selectors.sample_get(user=user, sample_id=sample_id)).data)

    @extend_schema(responses={204: None, **error_responses(409)})
    def delete(self, request: Request, sample_id: str) -> Response:
        services.sample_delete(
            sample=selectors.sample_get(user=request_user(request), sample_id=sample_id, kind="write")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SampleRetryView(APIView):
    """POST /samples/{id}/retry: create a sample whose creation failed again, from the uploads it keeps reserved
    (write right). Not in Virtool: its failed samples can only be removed."""

    creates_job = True  # queues a job: 503 while the broker cannot be reached

    @extend_schema(request=None, responses={200: SampleSerializer, **error_responses(400, 403, 409)})
    def post(self, request: Request, sample_id: str) -> Response:
        user = request_user(request)
        sample = selectors.sample_get(user=user, sample_id=sample_id, kind="write")
        services.sample_retry(sample=sample, user=user)
        return Response(SampleSerializer(selectors.sample_get(user=user, sample_id=sample_id)).data)


class SampleUpdateJobView(APIView):
    """PUT /samples/{id}/update_job: start the `update_sample` job of a legacy sample (Virtool 2019's path). Needs
    the sample's write right (Virtool 2019 asked only for a login; the job rewrites the sample's files)."""

    creates_job = True  # queues a job: 503 while the broker cannot be reached

    @extend_schema(request=None, responses={200: SampleSerializer, **error_responses(400, 403, 409)})
    def put(self, request: Request, sample_id: str) -> Response:
        user = request_user(request)
        sample = selectors.sample_get(user=user, sample_id=sample_id, kind="write")
        services.sample_update_job_start(sample=sample, user=user)
        return Response(SampleSerializer(selectors.sample_get(user=user, sample_id=sample_id)).data)


class SampleRightsView(APIView):
    """PATCH /samples/{id}/rights: the owner or an administrator."""

    @extend_schema(request=SampleRightsSerializer, responses=SampleSerializer)
    def patch(self, request: Request, sample_id: str) -> Response:
        user = request_user(request)
        sample = selectors.sample_get(user=user, sample_id=sample_id)
        if not (user.is_administrator or sample.user_id == user.pk):
            raise InsufficientRights()
        services.sample_set_rights(sample=sample, data=validated(SampleRightsSerializer, request))
        return Response(SampleSerializer(selectors.sample_get(user=user, sample_id=sample_id)).data)


class SampleReadsView(APIView):
    """GET /samples/{id}/reads/reads_{1|2}.fq.gz."""

    @extend_schema(
        parameters=[RANGE],
        responses={**ranged_download("application/gzip"), **error_responses(403)},
    )
    def get(self, request: Request, sample_id: str, filename: str) -> HttpResponseBase:
        sample = selectors.sample_get(user=request_user(request), sample_id=sample_id)
        path = selectors.samples_path(sample.pk) / filename
        if filename not in READS_NAMES or not path.exists():
            return error_response("not_found", "Not found", 404)
        return ranged_file_response(request, path, filename)


class LabelsView(APIView):
    """GET/POST /labels."""

    @extend_schema(parameters=[FIND], responses=LabelSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            LabelSerializer(selectors.label_list(find=request.query_params.get("find", "")), many=True).data
        )

    @extend_schema(request=LabelCreateSerializer, responses={201: LabelSerializer}, parameters=[LOCATION])
    def post(self, request: Request) -> Response:
        label = services.label_create(**validated(LabelCreateSerializer, request))
        return created(LabelSerializer(selectors.label_get(label_id=label.pk)).data, f"/api/labels/{label.pk}")


class LabelView(APIView):
    """GET/PATCH/DELETE /labels/{id}."""

    @extend_schema(responses=LabelSerializer)
    def get(self, request: Request, label_id: int) -> Response:
        return Response(LabelSerializer(selectors.label_get(label_id=label_id)).data)

    @extend_schema(request=LabelUpdateSerializer, responses=LabelSerializer)
    def patch(self, request: Request, label_id: int) -> Response:
        label = services.label_update(
            label=selectors.label_get(label_id=label_id), data=validated(LabelUpdateSerializer, request)
        )
        return Response(LabelSerializer(selectors.label_get(label_id=label.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, label_id: int) -> Response:
        services.label_delete(label=selectors.label_get(label_id=label_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
