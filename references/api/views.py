"""References API: /refs (and its alias /references/v1), export and members (OTUs, history and indexes of a
reference are served by otus/api and indexes/api)."""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import seqio
from core.api.exceptions import QueryValidationError
from core.api.pagination import VirtoolPagination
from core.api.schema import FIND, LOCATION, PAGE_PARAMETERS, binary, error_responses, page_serializer
from core.api.serializers import created, validated
from core.errors import BadRequest
from core.permissions import IsAuthenticated, require_permission
from indexes import selectors as index_selectors
from references import selectors, services
from references.api.serializers import (
    GroupMemberCreateSerializer,
    ReferenceCreateSerializer,
    ReferenceGroupMemberSerializer,
    ReferenceMinimalSerializer,
    ReferenceSerializer,
    ReferenceUpdateSerializer,
    ReferenceUserMemberSerializer,
    ReleaseEntrySerializer,
    ReleasePreviewSerializer,
    ReleaseSerializer,
    RightsSerializer,
    UserMemberCreateSerializer,
    member_document,
)
from references.constants import MemberKind
from users.authentication import request_user


def _document(reference_id: str) -> dict:
    return ReferenceSerializer(selectors.reference_get(reference_id=reference_id)).data


class ReferencesView(APIView):
    """GET /refs (every user may read references), POST /refs (`create_ref`)."""

    creates_job = True  # its POST queues a job: 503 while the broker cannot be reached

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [IsAuthenticated(), require_permission("create_ref")()]
        return [IsAuthenticated()]

    @extend_schema(
        operation_id="refs_list",
        parameters=[FIND, *PAGE_PARAMETERS],
        responses=page_serializer(
            "ReferencePage",
            ReferenceMinimalSerializer,
            official_installed=serializers.BooleanField(help_text="The official plant virus reference is installed."),
        ),
    )
    def get(self, request: Request) -> Response:
        paginator = VirtoolPagination()
        page = paginator.paginate(
            request=request,
            queryset=selectors.reference_list(find=request.query_params.get("find", "")),
            total_queryset=selectors.reference_list(),
        )
        context = {"latest_builds": selectors.reference_latest_builds(references=page["objects"])}
        documents = ReferenceMinimalSerializer(page["objects"], many=True, context=context).data
        response = paginator.get_paginated_response(documents)
        response.data["official_installed"] = selectors.official_installed()
        return response

    @extend_schema(
        request=ReferenceCreateSerializer,
        responses={201: ReferenceSerializer, **error_responses(409, 502)},
        parameters=[LOCATION],
    )
    def post(self, request: Request) -> Response:
        reference = services.reference_create(
            user=request_user(request), data=validated(ReferenceCreateSerializer, request)
        )
        return created(_document(reference.pk), f"/api/refs/{reference.pk}")


class ReferenceView(APIView):
    """GET/PATCH/DELETE /refs/{id}."""

    @extend_schema(responses=ReferenceSerializer)
    def get(self, request: Request, ref_id: str) -> Response:
        return Response(_document(ref_id))

    @extend_schema(request=ReferenceUpdateSerializer, responses=ReferenceSerializer)
    def patch(self, request: Request, ref_id: str) -> Response:
        reference = selectors.reference_get(reference_id=ref_id)
        selectors.reference_require(user=request_user(request), reference=reference, right="modify")
        services.reference_update(reference=reference, data=validated(ReferenceUpdateSerializer, request))
        return Response(_document(ref_id))

    @extend_schema(responses={204: None, **error_responses(409)})
    def delete(self, request: Request, ref_id: str) -> Response:
        reference = selectors.reference_get(reference_id=ref_id)
        selectors.reference_require(user=request_user(request), reference=reference, right="remove")
        services.reference_delete(reference=reference)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReferenceExportView(APIView):
    """GET /refs/{id}/export?scope=built|unbuilt|remote: the reference as `reference.json.gz`."""

    @extend_schema(
        parameters=[OpenApiParameter("scope", str, enum=["built", "unbuilt", "remote"])],
        responses=binary("application/gzip"),
    )
    def get(self, request: Request, ref_id: str) -> HttpResponse:
        scope = request.query_params.get("scope", "unbuilt")
        if scope not in ("built", "unbuilt", "remote"):
            raise QueryValidationError({"scope": ["must be one of built, unbuilt, remote"]}, code="type_error.enum")
        reference = selectors.reference_get(reference_id=ref_id)
        document = index_selectors.reference_document(reference=reference, scope=scope)
        body = seqio.gzip_bytes(json.dumps(document).encode())
        response = HttpResponse(body, content_type="application/gzip")
        response["Content-Disposition"] = f'attachment; filename="{reference.pk}.{scope}.json.gz"'
        return response


class ReferenceMembersView(APIView):
    """GET/POST /refs/{id}/users or /groups (POST: right `modify`)."""

    kind: MemberKind = "user"

    @extend_schema(operation_id="refs_users_list", responses=ReferenceUserMemberSerializer(many=True))
    def get(self, request: Request, ref_id: str) -> Response:
        reference = selectors.reference_get(reference_id=ref_id)
        members = reference.members.filter(**{f"{self.kind}__isnull": False}).select_related("user", "group")
        return Response([member_document(m) for m in members])

    @extend_schema(
        request=UserMemberCreateSerializer, responses={201: ReferenceUserMemberSerializer}, parameters=[LOCATION]
    )
    def post(self, request: Request, ref_id: str) -> Response:
        reference = selectors.reference_get(reference_id=ref_id)
        selectors.reference_require(user=request_user(request), reference=reference, right="modify")
        serializer = UserMemberCreateSerializer if self.kind == "user" else GroupMemberCreateSerializer
        data = validated(serializer, request)
        member_id = data.pop(f"{self.kind}_id")
        member = services.member_add(reference=reference, kind=self.kind, member_id=member_id, rights=data)
        return created(member_document(member), f"/api/refs/{ref_id}/{self.kind}s/{member_id}")


class ReferenceGroupMembersView(ReferenceMembersView):
    """GET/POST /refs/{id}/groups."""

    kind: MemberKind = "group"

    @extend_schema(operation_id="refs_groups_list", responses=ReferenceGroupMemberSerializer(many=True))
    def get(self, request: Request, ref_id: str) -> Response:
        return super().get(request, ref_id)

    @extend_schema(
        request=GroupMemberCreateSerializer, responses={201: ReferenceGroupMemberSerializer}, parameters=[LOCATION]
    )
    def post(self, request: Request, ref_id: str) -> Response:
        return super().post(request, ref_id)


class ReferenceMemberView(APIView):
    """GET/PATCH/DELETE /refs/{id}/users/{uid} or /groups/{gid} (writes: right `modify`)."""

    kind: MemberKind = "user"

    @extend_schema(responses=ReferenceUserMemberSerializer)
    def get(self, request: Request, ref_id: str, member_id: int) -> Response:
        reference = selectors.reference_get(reference_id=ref_id)
        return Response(member_document(services._member(reference, self.kind, member_id)))

    @extend_schema(request=RightsSerializer, responses=ReferenceUserMemberSerializer)
    def patch(self, request: Request, ref_id: str, member_id: int) -> Response:
        reference = selectors.reference_get(reference_id=ref_id)
        selectors.reference_require(user=request_user(request), reference=reference, right="modify")
        rights = validated(RightsSerializer, request)
        member = services.member_update(reference=reference, kind=self.kind, member_id=member_id, rights=rights)
        return Response(member_document(member))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, ref_id: str, member_id: int) -> Response:
        reference = selectors.reference_get(reference_id=ref_id)
        selectors.reference_require(user=request_user(request), reference=reference, right="modify")
        services.member_remove(reference=reference, kind=self.kind, member_id=member_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(responses=ReferenceGroupMemberSerializer),
    patch=extend_schema(request=RightsSerializer, responses=ReferenceGroupMemberSerializer),
)
class ReferenceGroupMemberView(ReferenceMemberView):
    """GET/PATCH/DELETE /refs/{id}/groups/{gid}."""

    kind: MemberKind = "group"


class ReferenceReleaseView(APIView):
    """GET /refs/{id}/release: the newest release of a remote reference, asked of GitHub now (as Virtool does)."""

    @extend_schema(responses={200: ReleaseSerializer(allow_null=True), **error_responses(400)})
    def get(self, request: Request, ref_id: str) -> JsonResponse:
        reference = selectors.reference_get(reference_id=ref_id)
        if not reference.remotes_from:
            raise BadRequest("Not a remote reference")
        release = services.reference_release_refresh(reference_id=reference.pk)
        return JsonResponse(release, safe=False)  # DRF renders None as an empty body; clients read null


class ReferenceUpdatesView(APIView):
    """GET /refs/{id}/updates (every install and update of a remote reference), POST (right `modify`): install the
    newest known release."""

    creates_job = True  # its POST queues a task: 503 while the broker cannot be reached

    @extend_schema(responses=ReleaseEntrySerializer(many=True))
    def get(self, request: Request, ref_id: str) -> Response:
        return Response(list(reversed(selectors.reference_get(reference_id=ref_id).updates)))

    @extend_schema(
        request=None, responses={201: ReleaseEntrySerializer, **error_responses(400, 409)}, parameters=[LOCATION]
    )
    def post(self, request: Request, ref_id: str) -> Response:
        reference = selectors.reference_get(reference_id=ref_id)
        user = request_user(request)
        selectors.reference_require(user=user, reference=reference, right="modify")
        entry = services.reference_update_start(reference=reference, user=user)
        return created(entry, f"/api/refs/{ref_id}/updates")


class ReferenceUpdatePreviewView(APIView):
    """GET /refs/{id}/updates/preview: what installing the newest known release would change (OTUs updated, with
    local edits an update replaces; created; removed; made here and kept), before anyone starts it."""

    @extend_schema(responses={200: ReleasePreviewSerializer, **error_responses(400, 502)})
    def get(self, request: Request, ref_id: str) -> Response:
        reference = selectors.reference_get(reference_id=ref_id)
        return Response(services.reference_release_preview(reference=reference))
