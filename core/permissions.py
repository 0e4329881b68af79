"""DRF permission classes: authentication, Virtool's group permissions and administrator roles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports the permission classes named in settings: no cycle at run time
    from rest_framework.views import APIView


def has_virtool_permission(request: Request, name: str) -> bool:
    """True when the client holds Virtool permission `name`; an API key can only narrow the user's set."""
    user = request.user
    if not (user and user.is_authenticated):
        return False
    if not user.has_perm(f"users.{name}"):
        return False
    key = request.auth
    return key is None or not hasattr(key, "permissions") or bool(key.permissions.get(name, False))


class IsAuthenticated(BasePermission):
    """Any signed-in user or API key."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated)


def require_permission(name: str) -> type[BasePermission]:
    """A permission class requiring Virtool permission `name` (e.g. `create_sample`)."""

    class HasVirtoolPermission(BasePermission):
        message = "Insufficient rights"

        def has_permission(self, request: Request, view: APIView) -> bool:
            return has_virtool_permission(request, name)

    HasVirtoolPermission.__name__ = f"Has_{name}"
    return HasVirtoolPermission


def require_role(role: str) -> type[BasePermission]:
    """A permission class requiring administrator role `role` or a higher one."""

    class HasRole(BasePermission):
        message = "Insufficient rights"

        def has_permission(self, request: Request, view: APIView) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.has_role(role))

    HasRole.__name__ = f"HasRole_{role}"
    return HasRole
