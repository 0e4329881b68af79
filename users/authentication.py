"""Virtool API keys: how they are hashed, and HTTP Basic authentication with a handle and a key."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import TYPE_CHECKING

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.request import Request

if TYPE_CHECKING:  # DRF imports this module from settings, before the models are ready
    from users.models import APIKey, User


def hash_key(raw: str) -> str:
    """API keys are long random secrets, so a SHA-256 is enough to store them (as Virtool does)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def request_user(request: Request) -> User:
    """The signed-in user of an API request, typed as a `User`.

    API views sit behind `IsAuthenticated` (the default permission class), which refuses anonymous clients before
    the view runs; should a view that allows them call this, the client is refused here too.
    """
    user = request.user
    if not user.is_authenticated:
        raise NotAuthenticated()
    return user


class APIKeyAuthentication(BaseAuthentication):
    """`Authorization: Basic base64(handle:key)`; allowed while the instance setting `enable_api` is on."""

    def authenticate(self, request: Request) -> tuple[User, APIKey] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"basic":
            return None
        if len(header) != 2:
            raise AuthenticationFailed("Malformed Authorization header")
        try:
            handle, _, raw = base64.b64decode(header[1], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationFailed("Malformed Authorization header") from None
        from core.selectors import settings_get
        from users.models import APIKey

        if not settings_get().enable_api:
            raise AuthenticationFailed(
                "API key access is disabled on this instance; an administrator can turn on "
                "'enable_api' in the instance settings"
            )
        key = APIKey.objects.select_related("user").filter(key_hash=hash_key(raw), user__handle__iexact=handle).first()
        if key is None or not key.user.is_active:
            raise AuthenticationFailed("Invalid handle or API key")
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="virtool"'
