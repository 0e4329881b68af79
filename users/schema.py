"""OpenAPI description of Virtool's API-key scheme (for drf-spectacular)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class APIKeyScheme(OpenApiAuthenticationExtension):
    """HTTP Basic with the user's handle and an API key (when the `enable_api` setting is on)."""

    target_class = "users.authentication.APIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": "handle:API key"}
