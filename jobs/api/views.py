"""Jobs API (Virtool paths under /api): list with counts, get, cancel, remove, clear."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.exceptions import QueryValidationError
from core.api.pagination import ItemsPagination, VirtoolPagination, query_bool, query_ints
from core.api.schema import PAGE_PARAMETERS, error_responses, int_parameter, page_serializer
from core.permissions import IsAuthenticated, require_permission
from jobs import selectors, services
from jobs.api.serializers import (
    JobCountsSerializer,
    JobCountsV2Serializer,
    JobMinimalSerializer,
    JobsClearedSerializer,
    JobSerializer,
    JobV2MinimalSerializer,
    JobV2Serializer,
    TaskSerializer,
)
from jobs.constants import CLEAR_FILTERS, JobState, JobStateV2
from jobs.subjects import jobs_subjects
from users.authentication import request_user

# Our own jobs page lists all engine work; Virtool's lists leave out what Virtool calls tasks (`/api/tasks`).
TASKS_PARAMETER = OpenApiParameter(
    "include_tasks",
    bool,
    description="Also list the work Virtool runs as tasks (reference import and clone, HMM install).",
)


def _list_param(request: Request, name: str) -> list[str]:
    values = request.query_params.getlist(name) + request.query_params.getlist(f"{name}[]")
    return [value for raw in values for value in raw.split(",") if value]


class JobsView(APIView):
    """GET /jobs (any user: the jobs they may see), DELETE /jobs?filter=complete|failed|finished (`remove_job`).

    A job that works on a sample is seen only by those who may read the sample, the user who started it and
    administrators (`jobs.subjects`): for anyone else it is not in the list, the counts or `found_count`.
    """

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "DELETE":
            return [IsAuthenticated(), require_permission("remove_job")()]
        return [IsAuthenticated()]

    @extend_schema(
        operation_id="jobs_list",
        parameters=[
            OpenApiParameter("state", str, many=True, enum=JobState.values),
            int_parameter("user", many=True),
            TASKS_PARAMETER,
            *PAGE_PARAMETERS,
        ],
        responses=page_serializer("JobPage", JobMinimalSerializer, counts=JobCountsSerializer()),
    )
    def get(self, request: Request) -> Response:
        states = _list_param(request, "state")
        bad = [state for state in states if state not in JobState.values]
        if bad:
            raise QueryValidationError(
                {"state": [f"value is not a valid enumeration member; permitted: {', '.join(JobState.values)}"]},
                code="type_error.enum",
            )
        users = query_ints(_list_param(request, "user"), "user")
        tasks = query_bool(request, "include_tasks") or False
        viewer = request_user(request)
        paginator = VirtoolPagination()
        page = paginator.paginate(
            request=request,
            queryset=selectors.job_list(viewer=viewer, states=states, user_ids=users, tasks=tasks),
            total_queryset=selectors.job_list(viewer=viewer, tasks=tasks),
        )
        objects = list(page["objects"])
        context = {"subjects": jobs_subjects(objects)}
        response = paginator.get_paginated_response(JobMinimalSerializer(objects, many=True, context=context).data)
        response.data["counts"] = selectors.job_counts(viewer=viewer, tasks=tasks)
        return response

    @extend_schema(
        parameters=[OpenApiParameter("filter", str, enum=list(CLEAR_FILTERS))],
        responses={200: JobsClearedSerializer},
        operation_id="jobs_clear",
    )
    def delete(self, request: Request) -> Response:
        which = request.query_params.get("filter", "finished")
        if which not in CLEAR_FILTERS:
            raise QueryValidationError(
                {"filter": [f"must be one of {', '.join(CLEAR_FILTERS)}"]}, code="type_error.enum"
            )
        return Response(JobsClearedSerializer({"removed": services.jobs_clear(which=which)}).data)


class JobsV2View(APIView):
    """GET /jobs/v2 (any user): Virtool 36.x's second jobs API, v2 state names (`state=pending&state=running`).

    The same jobs as `/api/jobs` (a job that works on a sample is seen only by readers of the sample, its user and
    administrators), with `items` and `counts[v2 state][workflow]`.
    """

    @extend_schema(
        operation_id="jobs_v2_list",
        parameters=[OpenApiParameter("state", str, many=True, enum=JobStateV2.values), *PAGE_PARAMETERS],
        responses=page_serializer("JobV2Page", JobV2MinimalSerializer, key="items", counts=JobCountsV2Serializer()),
    )
    def get(self, request: Request) -> Response:
        states = _list_param(request, "state")
        bad = [state for state in states if state not in JobStateV2.values]
        if bad:
            raise QueryValidationError(
                {"state": [f"value is not a valid enumeration member; permitted: {', '.join(JobStateV2.values)}"]},
                code="type_error.enum",
            )
        viewer = request_user(request)
        paginator = ItemsPagination()
        page = paginator.paginate(
            request=request,
            queryset=selectors.job_list_v2(viewer=viewer, states=states),
            total_queryset=selectors.job_list_v2(viewer=viewer),
        )
        response = paginator.get_paginated_response(JobV2MinimalSerializer(page["objects"], many=True).data)
        response.data["counts"] = selectors.job_counts_v2(viewer=viewer)
        return response


class JobV2View(APIView):
    """GET /jobs/v2/{id} (any user who may see the job, else 404): the job with its claim and steps."""

    @extend_schema(operation_id="jobs_v2_get", responses={200: JobV2Serializer, **error_responses(404)})
    def get(self, request: Request, job_id: str) -> Response:
        return Response(JobV2Serializer(selectors.job_get_v2(job_id=job_id, viewer=request_user(request))).data)


class JobCountsView(APIView):
    """GET /jobs/counts: `{state: {workflow: count}}`."""

    @extend_schema(parameters=[TASKS_PARAMETER], responses=JobCountsSerializer)
    def get(self, request: Request) -> Response:
        tasks = query_bool(request, "include_tasks") or False
        return Response(JobCountsSerializer(selectors.job_counts(viewer=request_user(request), tasks=tasks)).data)


class JobView(APIView):
    """GET /jobs/{id} (any user who may see the job, else 404), DELETE /jobs/{id} (`remove_job`, finished jobs only).

    A job that works on a sample is seen only by those who may read the sample, the user who started it and
    administrators (`jobs.subjects`).
    """

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "DELETE":
            return [IsAuthenticated(), require_permission("remove_job")()]
        return [IsAuthenticated()]

    @extend_schema(responses=JobSerializer)
    def get(self, request: Request, job_id: str) -> Response:
        return Response(JobSerializer(selectors.job_get(job_id=job_id, viewer=request_user(request))).data)

    @extend_schema(responses={204: None, **error_responses(409)})
    def delete(self, request: Request, job_id: str) -> Response:
        services.job_remove(job=selectors.job_get(job_id=job_id, viewer=request_user(request)))
        return Response(status=status.HTTP_204_NO_CONTENT)


class JobCancelView(APIView):
    """PUT /jobs/{id}/cancel (`cancel_job`): waiting jobs stop at once, running ones within seconds."""

    permission_classes = [IsAuthenticated, require_permission("cancel_job")]

    @extend_schema(request=None, responses={200: JobSerializer, **error_responses(409)})
    def put(self, request: Request, job_id: str) -> Response:
        viewer = request_user(request)
        job = services.job_cancel(job=selectors.job_get(job_id=job_id, viewer=viewer))
        return Response(JobSerializer(selectors.job_get(job_id=job.pk, viewer=viewer)).data)


class TasksView(APIView):
    """GET /tasks (any user): what Virtool runs as tasks (reference import and clone, HMM install), newest first."""

    @extend_schema(operation_id="tasks_list", responses=TaskSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(TaskSerializer(selectors.task_list(viewer=request_user(request)), many=True).data)


class TaskView(APIView):
    """GET /tasks/{id} (any user who may see its job, else 404)."""

    @extend_schema(operation_id="tasks_get", responses={200: TaskSerializer, **error_responses(404)})
    def get(self, request: Request, task_id: int) -> Response:
        return Response(TaskSerializer(selectors.task_get(task_id=task_id, viewer=request_user(request))).data)
