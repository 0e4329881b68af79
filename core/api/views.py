"""Core API: the root document, instance settings and the instance message."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.routes import api_endpoints
from core.api.serializers import InstanceMessageSerializer, SettingsSerializer, SettingsUpdateSerializer, validated
from core.permissions import IsAuthenticated, require_role
from core.selectors import settings_get
from core.services import instance_message_document, instance_message_set, settings_update
from core.version import get_version


class RootView(APIView):
    """GET /api: version, whether first-user setup is open, and the endpoint map. Public."""

    permission_classes = [AllowAny]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        from django.contrib.auth import get_user_model

        return Response(
            {
                "endpoints": api_endpoints(),
                "first_user": not get_user_model().objects.exists(),
                "version": get_version(),
                "dev": settings.DEBUG,
            }
        )


class SettingsView(APIView):
    """GET /settings (any user), PATCH /settings (administrators with the `settings` role)."""

    def get_permissions(self):
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

    def get_permissions(self):
        if self.request.method in ("PUT", "PATCH"):
            return [IsAuthenticated(), require_role("settings")()]
        return [IsAuthenticated()]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> JsonResponse:
        # DRF renders None as an empty body; Virtool's client expects the JSON literal null.
        return JsonResponse(instance_message_document(settings_get()), safe=False)

    @extend_schema(request=InstanceMessageSerializer, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request) -> Response:
        data = validated(InstanceMessageSerializer, request)
        instance = instance_message_set(message=data.get("message"), color=data.get("color"), active=data.get("active"))
        # Unlike GET, the editor gets the stored message back even while it is inactive.
        return Response(
            {"message": instance.message, "color": instance.message_color or "grey", "active": instance.message_active}
        )

    put = patch
