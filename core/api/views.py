"""Core API: the root document, instance settings and the instance message."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.routes import api_endpoints
from core.api.serializers import (
    InstanceMessageSerializer,
    InstanceMessageUpdateSerializer,
    RootSerializer,
    SettingsSerializer,
    SettingsUpdateSerializer,
    validated,
)
from core.permissions import IsAuthenticated, require_role
from core.selectors import settings_get
from core.services import instance_message_document, instance_message_set, settings_update
from core.version import get_version


class RootView(APIView):
    """GET /api: version, whether first-user setup is open, and the endpoint map. Public."""

    permission_classes = [AllowAny]

    @extend_schema(responses=RootSerializer)
    def get(self, request: Request) -> Response:
        from django.contrib.auth import get_user_model

        document = {
            "endpoints": api_endpoints(),
            "first_user": not get_user_model().objects.exists(),
            "version": get_version(),
            "dev": settings.DEBUG,
        }
        return Response(RootSerializer(document).data)


class SettingsView(APIView):
    """GET /settings (any user), PATCH /settings (administrators with the `settings` role)."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "PATCH":
            return [IsAuthenticated(), require_role("settings")()]
        return [IsAuthenticated()]

    @extend_schema(responses=SettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(SettingsSerializer(settings_get()).data)

    @extend_schema(request=SettingsUpdateSerializer, responses=SettingsSerializer)
    def patch(self, request: Request) -> Response:
        data = validated(SettingsUpdateSerializer, request)
        return Response(SettingsSerializer(settings_update(data=data)).data)


class InstanceMessageView(APIView):
    """GET /instance_message (`null` when none is active); PUT/PATCH for administrators (`settings` role)."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method in ("PUT", "PATCH"):
            return [IsAuthenticated(), require_role("settings")()]
        return [IsAuthenticated()]

    @extend_schema(responses=InstanceMessageSerializer(allow_null=True))
    def get(self, request: Request) -> JsonResponse:
        document = instance_message_document(instance=settings_get())
        # DRF renders None as an empty body; Virtool's client expects the JSON literal null.
        return JsonResponse(None if document is None else InstanceMessageSerializer(document).data, safe=False)

    @extend_schema(request=InstanceMessageUpdateSerializer, responses=InstanceMessageSerializer)
    def patch(self, request: Request) -> Response:
        data = validated(InstanceMessageUpdateSerializer, request)
        instance = instance_message_set(message=data.get("message"), color=data.get("color"), active=data.get("active"))
        # Unlike GET, the editor gets the stored message back even while it is inactive.
        document = {
            "message": instance.message,
            "color": instance.message_color or "grey",
            "active": instance.message_active,
        }
        return Response(InstanceMessageSerializer(document).data)

    put = patch
