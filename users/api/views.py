"""Users API: account, login, API keys, users, administrator roles and groups (Virtool paths under /api)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import ItemsPagination, VirtoolPagination, query_bool
from core.api.schema import FIND, LOCATION, PAGE_PARAMETERS, error_responses, one_of, page_serializer
from core.api.serializers import created, validated
from core.caching import cached_response
from core.errors import InsufficientRights
from core.permissions import IsAuthenticated, require_role
from users import selectors, services
from users.api.serializers import (
    AccountSerializer,
    AccountSettingsSerializer,
    AccountSettingsUpdateSerializer,
    AccountUpdateSerializer,
    APIKeyCreatedSerializer,
    APIKeySerializer,
    FirstUserSerializer,
    GroupCreateSerializer,
    GroupMinimalSerializer,
    GroupSerializer,
    GroupUpdateSerializer,
    KeyCreateSerializer,
    KeyUpdateSerializer,
    LoginResultSerializer,
    LoginSerializer,
    ResetSerializer,
    RoleSerializer,
    RoleUpdateSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from users.authentication import request_user
from users.constants import ROLE_DESCRIPTIONS, AdministratorRole
from users.models import User


def _account_data(user: User) -> dict[str, Any]:
    return AccountSerializer(selectors.user_get(user_id=user.pk)).data


# --- Account ------------------------------------------------------------------------------------------------


class AccountView(APIView):
    """GET/PATCH /account: one's own account."""

    @extend_schema(responses=AccountSerializer)
    @cached_response
    def get(self, request: Request) -> Response:
        return Response(_account_data(request_user(request)))

    @extend_schema(request=AccountUpdateSerializer, responses=AccountSerializer)
    def patch(self, request: Request) -> Response:
        data = validated(AccountUpdateSerializer, request)
        user = request_user(request)
        services.account_update(request=request, user=user, data=data)
        return Response(_account_data(user))


class AccountSettingsView(APIView):
    """GET/PATCH /account/settings."""

    # The stored settings are sent as they are; the serializer describes them.
    @extend_schema(responses=AccountSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(request_user(request).settings)

    @extend_schema(request=AccountSettingsUpdateSerializer, responses=AccountSettingsSerializer)
    def patch(self, request: Request) -> Response:
        data = validated(AccountSettingsUpdateSerializer, request)
        return Response(services.account_settings_update(user=request_user(request), data=data))


class LoginView(APIView):
    """POST /account/login: start a session (`remember` keeps it for 30 days)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=LoginSerializer, responses={201: LoginResultSerializer, **error_responses(429)})
    def post(self, request: Request) -> Response:
        data = validated(LoginSerializer, request)
        result = services.account_login(
            request=request._request, handle=data["handle"], password=data["password"], remember=data["remember"]
        )
        return Response(LoginResultSerializer(result).data, status=status.HTTP_201_CREATED)


class LogoutView(APIView):
    """GET or POST /account/logout: end the session."""

    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={204: None})
    def get(self, request: Request) -> Response:
        if request.user.is_authenticated and request.auth is None:
            services.account_logout(request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    post = get


class ResetView(APIView):
    """POST /account/reset: finish a forced password reset and log in."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=ResetSerializer, responses=LoginResultSerializer)
    def post(self, request: Request) -> Response:
        data = validated(ResetSerializer, request)
        services.account_reset(request=request._request, password=data["password"], reset_code=data["reset_code"])
        return Response(LoginResultSerializer({"reset": False}).data)


class KeysView(APIView):
    """GET/POST/DELETE /account/keys."""

    @extend_schema(responses=APIKeySerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(APIKeySerializer(selectors.key_list(user=request_user(request)), many=True).data)

    @extend_schema(request=KeyCreateSerializer, responses={201: APIKeyCreatedSerializer}, parameters=[LOCATION])
    def post(self, request: Request) -> Response:
        data = validated(KeyCreateSerializer, request)
        key, raw = services.key_create(user=request_user(request), name=data["name"], permissions=data["permissions"])
        key.raw_key = raw  # shown once, in this answer
        return created(APIKeyCreatedSerializer(key).data, f"/api/account/keys/{key.key_id}")

    @extend_schema(responses={204: None}, operation_id="account_keys_purge")
    def delete(self, request: Request) -> Response:
        services.keys_purge(user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class KeyView(APIView):
    """GET/PATCH/DELETE /account/keys/{key_id}."""

    @extend_schema(responses=APIKeySerializer)
    def get(self, request: Request, key_id: str) -> Response:
        return Response(APIKeySerializer(selectors.key_get(user=request_user(request), key_id=key_id)).data)

    @extend_schema(request=KeyUpdateSerializer, responses=APIKeySerializer)
    def patch(self, request: Request, key_id: str) -> Response:
        key = selectors.key_get(user=request_user(request), key_id=key_id)
        data = validated(KeyUpdateSerializer, request)
        return Response(APIKeySerializer(services.key_update(key=key, permissions=data["permissions"])).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, key_id: str) -> Response:
        services.key_delete(key=selectors.key_get(user=request_user(request), key_id=key_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Users --------------------------------------------------------------------------------------------------


class FirstUserView(APIView):
    """PUT /users/first: create the first user, an administrator, and log in. Only while no user exists."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=FirstUserSerializer, responses={201: UserSerializer, **error_responses(409)}, parameters=[LOCATION]
    )
    def put(self, request: Request) -> Response:
        data = validated(FirstUserSerializer, request)
        user = services.user_create_first(handle=data["handle"], password=data["password"])
        services.account_login(request=request._request, handle=user.handle, password=data["password"], remember=False)
        return created(UserSerializer(selectors.user_get(user_id=user.pk)).data, f"/api/users/{user.pk}")


class UsersView(APIView):
    """GET/POST /users (administrators with the `users` role)."""

    permission_classes = [IsAuthenticated, require_role(AdministratorRole.USERS)]

    @extend_schema(
        operation_id="users_list",
        parameters=[
            FIND,
            OpenApiParameter("term", str, description="The same as `find` (Virtool's client sends `term`)."),
            OpenApiParameter("active", bool),
            OpenApiParameter("administrator", bool, description="Only users with (or without) an administrator role."),
            *PAGE_PARAMETERS,
        ],
        responses=page_serializer(
            "UserPage",
            UserSerializer,
            items=serializers.ListSerializer(
                child=UserSerializer(), help_text="The same users as `documents` (Virtool's client reads `items`)."
            ),
        ),
    )
    def get(self, request: Request) -> Response:
        queryset = selectors.user_list(
            find=request.query_params.get("find") or request.query_params.get("term", ""),
            active=query_bool(request, "active"),
            administrator=query_bool(request, "administrator"),
        )
        paginator = VirtoolPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=selectors.user_list())
        response = paginator.get_paginated_response(UserSerializer(page["objects"], many=True).data)
        # Virtool 36.x's users and administrators pages read `items`; the reference member picker `documents`.
        response.data["items"] = response.data["documents"]
        return response

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer}, parameters=[LOCATION])
    def post(self, request: Request) -> Response:
        data = validated(UserCreateSerializer, request)
        user = services.user_create(**data)
        return created(UserSerializer(selectors.user_get(user_id=user.pk)).data, f"/api/users/{user.pk}")


@extend_schema_view(
    get=extend_schema(operation_id="admin_users_list"), post=extend_schema(operation_id="admin_users_create")
)
class AdminUsersView(UsersView):
    """GET/POST /admin/users: the same as /users, under Virtool's administration path."""


class UserView(APIView):
    """GET/PATCH /users/{id}: administrators, or a user reading their own document."""

    @extend_schema(responses={200: UserSerializer, **error_responses(403)})
    def get(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        if actor.pk != pk and not actor.has_role(AdministratorRole.USERS):
            raise InsufficientRights()
        return Response(UserSerializer(selectors.user_get(user_id=pk)).data)

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        if not actor.has_role(AdministratorRole.USERS):
            raise InsufficientRights()
        user = selectors.user_get(user_id=pk)
        data = validated(UserUpdateSerializer, request)
        services.user_update(user=user, data=data, actor=actor)
        return Response(UserSerializer(selectors.user_get(user_id=pk)).data)


class RolesView(APIView):
    """GET /admin/roles: the administrator roles, highest first."""

    permission_classes = [IsAuthenticated, require_role(AdministratorRole.BASE)]

    @extend_schema(responses=RoleSerializer(many=True))
    def get(self, request: Request) -> Response:
        roles = [
            {"id": role.value, "name": role.label, "description": ROLE_DESCRIPTIONS[role]} for role in AdministratorRole
        ]
        return Response(RoleSerializer(roles, many=True).data)


class UserRoleView(APIView):
    """PUT /admin/users/{id}/role: set or clear a user's administrator role (full administrators only)."""

    permission_classes = [IsAuthenticated, require_role(AdministratorRole.FULL)]

    @extend_schema(request=RoleUpdateSerializer, responses=UserSerializer)
    def put(self, request: Request, pk: int) -> Response:
        user = selectors.user_get(user_id=pk)
        data = validated(RoleUpdateSerializer, request)
        services.user_set_role(user=user, role=data["role"], actor=request_user(request))
        return Response(UserSerializer(selectors.user_get(user_id=pk)).data)


# --- Groups -------------------------------------------------------------------------------------------------


class GroupsView(APIView):
    """GET /groups (a bare array unless ?paginate=true), POST /groups (administrators)."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [IsAuthenticated(), require_role(AdministratorRole.BASE)()]
        return [IsAuthenticated()]

    @extend_schema(
        operation_id="groups_list",
        parameters=[
            FIND,
            OpenApiParameter("paginate", bool, description="Answer with a page (`items`) instead of a bare list."),
            *PAGE_PARAMETERS,
        ],
        responses=one_of(
            "GroupList",
            GroupMinimalSerializer(many=True),
            page_serializer("GroupPage", GroupMinimalSerializer, key="items"),
        ),
    )
    def get(self, request: Request) -> Response:
        queryset = selectors.group_list(find=request.query_params.get("find", ""))
        if not query_bool(request, "paginate"):
            return Response(GroupMinimalSerializer(queryset, many=True).data)
        paginator = ItemsPagination()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=selectors.group_list())
        return paginator.get_paginated_response(GroupMinimalSerializer(page["objects"], many=True).data)

    @extend_schema(request=GroupCreateSerializer, responses={201: GroupSerializer}, parameters=[LOCATION])
    def post(self, request: Request) -> Response:
        data = validated(GroupCreateSerializer, request)
        group = services.group_create(name=data["name"])
        return created(GroupSerializer(selectors.group_get(group_id=group.pk)).data, f"/api/groups/{group.pk}")


class GroupView(APIView):
    """GET/PATCH/DELETE /groups/{id}."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method in ("PATCH", "DELETE"):
            return [IsAuthenticated(), require_role(AdministratorRole.BASE)()]
        return [IsAuthenticated()]

    @extend_schema(responses=GroupSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(GroupSerializer(selectors.group_get(group_id=pk)).data)

    @extend_schema(request=GroupUpdateSerializer, responses=GroupSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        group = selectors.group_get(group_id=pk)
        data = validated(GroupUpdateSerializer, request)
        services.group_update(group=group, name=data.get("name"), permissions=data.get("permissions"))
        return Response(GroupSerializer(selectors.group_get(group_id=pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.group_delete(group=selectors.group_get(group_id=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
