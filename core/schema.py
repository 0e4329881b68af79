"""OpenAPI: the session authentication scheme, and the hook that leaves alias routes out of the schema."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SessionScheme(OpenApiAuthenticationExtension):
    """Browser session cookie set by POST /api/account/login."""

    target_class = "core.authentication.OriginCheckedSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


def drop_aliases(endpoints: list) -> list:
    """Leave alias routes (e.g. `/api/references/v1`, the later name of `/api/refs`) out of the schema."""
    from core.api.routes import is_alias

    return [endpoint for endpoint in endpoints if not is_alias(endpoint[0])]
