"""OpenAPI descriptions of Virtool's two authentication schemes (for drf-spectacular)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SessionScheme(OpenApiAuthenticationExtension):
    """Browser session cookie set by POST /api/account/login."""

    target_class = "core.authentication.OriginCheckedSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class APIKeyScheme(OpenApiAuthenticationExtension):
    """HTTP Basic with the user's handle and an API key (when the `enable_api` setting is on)."""

    target_class = "core.authentication.APIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": "handle:API key"}


def drop_aliases(endpoints: list) -> list:
    """Leave alias routes (e.g. `/api/references/v1`, the later name of `/api/refs`) out of the schema."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith("/api/references/v1")]
