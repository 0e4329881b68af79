"""Software API (/software): the release status, for administrators only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsAuthenticated, require_role
from software.api.serializers import SoftwareStatusSerializer
from software.selectors import software_document


class SoftwareView(APIView):
    """GET /software: the running version and the newest release of this software (administrators only)."""

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated(), require_role("base")()]

    @extend_schema(responses=SoftwareStatusSerializer)
    def get(self, request: Request) -> Response:
        return Response(SoftwareStatusSerializer(software_document()).data)
