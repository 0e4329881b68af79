"""OpenAPI: the authentication schemes, the errors every operation can give, and the hook that leaves alias routes
out of the schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from core.api.schema import error_responses
from core.permissions import IsAuthenticated

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# An OpenAPI object (an operation, a response, a schema) as drf-spectacular builds it.
Schema = dict[str, Any]


class SessionScheme(OpenApiAuthenticationExtension):
    """Browser session cookie set by POST /api/account/login."""

    target_class = "core.authentication.OriginCheckedSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema: AutoSchema) -> Schema:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class APIKeyScheme(OpenApiAuthenticationExtension):
    """HTTP Basic with a handle and an API key (while the instance setting `enable_api` is on)."""

    target_class = "users.authentication.APIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: AutoSchema) -> Schema:
        return {"type": "http", "scheme": "basic", "description": "handle:API key"}


class VirtoolAutoSchema(AutoSchema):
    """Adds to each operation the errors that follow from how it is served, so views declare only their own."""

    # 400 where a body or a typed query parameter is validated; 413 where there is a body; 401 wherever credentials
    # are read (a wrong API key is refused even on public routes); 403 for writes (the Origin check) and for routes
    # needing a permission or role; 404 where the path names an object.
    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: ComponentRegistry
    ) -> Schema | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code, response in error_responses(*self._implied_errors(operation)).items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(response, str(code))
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _get_response_for_code(
        self, serializer: Any, status_code: str, media_types: list[str] | None = None, direction: str = "response"
    ) -> Schema:
        # drf-spectacular leaves this method unannotated (untyped_calls_exclude does not reach calls through super()).
        response: Schema = super()._get_response_for_code(  # type: ignore[no-untyped-call]
            serializer, status_code, media_types, direction
        )
        body = serializer.response if isinstance(serializer, OpenApiResponse) else serializer
        # A root body declared `allow_null` (GET /instance_message) may be the JSON literal null.
        if getattr(body, "allow_null", False) and not getattr(body, "many", False):
            for content in response.get("content", {}).values():
                content["schema"] = {"allOf": [content["schema"]], "nullable": True}
        return response

    def _implied_errors(self, operation: Schema) -> list[int]:
        codes = []
        query = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        # Any query string can be refused: a NUL character in it is a 400 (core.middleware.QueryStringMiddleware).
        if "requestBody" in operation or query:
            codes.append(400)
        if "requestBody" in operation:
            codes.append(413)  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE (or an upload over VIRTOOL_UPLOAD_MAX_SIZE)
        if self.view.get_authenticators():
            codes.append(401)
        permissions = self.view.get_permissions()
        needs_more = any(not isinstance(p, (IsAuthenticated, AllowAny)) for p in permissions)
        if self.method in UNSAFE_METHODS or needs_more:
            codes.append(403)
        if any(p.get("in") == "path" for p in operation.get("parameters", [])):
            codes.append(404)
        if self.method in ("POST", "PUT") and getattr(self.view, "creates_job", False):
            codes.append(503)  # the job is kept and starts once Redis is back (jobs.services.job_enqueue)
        return codes


def drop_aliases(endpoints: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Leave alias routes (e.g. `/api/references/v1`, the later name of `/api/refs`) out of the schema."""
    from core.api.routes import is_alias

    return [endpoint for endpoint in endpoints if not is_alias(endpoint[0])]
