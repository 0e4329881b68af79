"""Writes for accounts, users, groups and API keys."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify

from core import events
from core.errors import BadRequest, Conflict
from core.models import InstanceSettings
from core.selectors import settings_get
from users.authentication import hash_key
from users.constants import PERMISSION_NAMES, RESERVED_HANDLES
from users.models import APIKey, User
from users.selectors import user_permissions

RESET_SECONDS = 600  # Virtool: reset sessions last 10 minutes
REMEMBER_SECONDS = 30 * 24 * 3600  # Virtool: 30 days with "remember"


def password_check(*, password: str) -> None:
    """Refuse a password shorter than the instance's `minimum_password_length`."""
    minimum = settings_get().minimum_password_length
    if len(password) < minimum:
        raise BadRequest(f"Password does not meet minimum length requirement ({minimum})")


def _set_password(user: User, password: str) -> None:
    password_check(password=password)
    user.set_password(password)
    user.last_password_change = timezone.now()


def _refresh_sockets(user_ids: list[int]) -> None:
    """Ask the users' open websockets to re-read their groups (or close, when deactivated)."""
    events.control([events.user_group(user_id) for user_id in user_ids], "refresh")


@transaction.atomic
def user_create(
    *, handle: str, password: str, force_reset: bool = False, administrator_role: str | None = None
) -> User:
    """Create a user; handles are unique case-insensitively and "virtool" is reserved."""
    handle = handle.strip()
    if handle.lower() in RESERVED_HANDLES:
        raise BadRequest("Reserved user name: virtool")
    if User.objects.filter(handle__iexact=handle).exists():
        raise BadRequest("User already exists")
    user = User(handle=handle, force_reset=force_reset, administrator_role=administrator_role)
    _set_password(user, password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise BadRequest("User already exists") from None
    return user


@transaction.atomic
def user_create_first(*, handle: str, password: str) -> User:
    """Create the first user, a full administrator; refused once any user exists."""
    # Lock the settings row so that two simultaneous setup requests cannot both see an empty table.
    InstanceSettings.objects.get_or_create(pk=1)
    InstanceSettings.objects.select_for_update().get(pk=1)
    if User.objects.exists():
        raise Conflict("Virtool already has at least one user")
    return user_create(handle=handle, password=password, administrator_role="full")


@transaction.atomic
def user_update(*, user: User, data: dict[str, Any], actor: User | None = None) -> User:
    """Edit a user as an administrator: active, force_reset, password, groups, primary_group.

    Administrators cannot deactivate themselves: that could lock every administrator out.
    """
    if actor is not None and actor.pk == user.pk and data.get("active") is False:
        raise BadRequest("Administrators cannot deactivate themselves")
    fields: set[str] = set()
    if "password" in data:
        _set_password(user, data["password"])
        fields |= {"password", "last_password_change"}
    for name, attribute in (("active", "is_active"), ("force_reset", "force_reset")):
        if name in data:
            setattr(user, attribute, data[name])
            fields.add(attribute)
    if "groups" in data:
        changed = set(user.groups.values_list("pk", flat=True)) ^ {group.pk for group in data["groups"]}
        user.groups.set(data["groups"])
        if changed:  # their member lists changed
            events.dispatch(interface="groups", operation="update", ids=sorted(changed))
        if user.primary_group_id is not None and user.primary_group not in data["groups"]:
            user.primary_group = None
            fields.add("primary_group")
    if "primary_group" in data:
        group = data["primary_group"]
        if group is not None and not user.groups.filter(pk=group.pk).exists():
            raise BadRequest("User is not a member of group")
        user.primary_group = group
        fields.add("primary_group")
    # Queued first, so that open sockets have rejoined their groups before the change itself arrives.
    _refresh_sockets([user.pk])
    if fields:
        user.save(update_fields=fields)
    else:
        events.dispatch_instance(user)
    return user


@transaction.atomic
def user_set_role(*, user: User, role: str | None, actor: User | None = None) -> User:
    """Give a user an administrator role, or take it away with None; nobody changes their own role."""
    if actor is not None and actor.pk == user.pk:
        raise BadRequest("Administrators cannot change their own role")
    user.administrator_role = role
    _refresh_sockets([user.pk])
    user.save(update_fields=["administrator_role"])
    return user


# --- Account -------------------------------------------------------------------------------------------------


def account_login(*, request: HttpRequest, handle: str, password: str, remember: bool) -> dict[str, Any]:
    """Log in; a user who must reset their password gets a reset code instead of a session."""
    user = authenticate(request, handle=handle, password=password)
    if user is None:
        raise BadRequest("Invalid handle or password")
    if user.force_reset:
        code = secrets.token_hex(16)
        request.session.cycle_key()
        request.session.update(
            {"reset_user_id": user.pk, "reset_code": code, "reset_remember": remember, "remember": False}
        )
        request.session.set_expiry(RESET_SECONDS)
        return {"reset": True, "reset_code": code}
    _login(request, user, remember)
    return {"reset": False}


def _login(request: HttpRequest, user: User, remember: bool) -> None:
    login(request, user, backend="users.backends.CachedModelBackend")
    request.session["remember"] = remember
    request.session.set_expiry(REMEMBER_SECONDS if remember else settings.SESSION_IDLE_SECONDS)


@transaction.atomic
def account_reset(*, request: HttpRequest, password: str, reset_code: str) -> User:
    """Finish a forced password reset with the code login gave, then log the user in."""
    session = request.session
    user_id = session.get("reset_user_id")
    if not user_id or not secrets.compare_digest(str(session.get("reset_code", "")), reset_code):
        raise BadRequest("Invalid reset code")
    user = User.objects.get(pk=user_id)
    _set_password(user, password)
    user.force_reset = False
    user.save(update_fields=["password", "last_password_change", "force_reset"])
    remember = bool(session.get("reset_remember"))
    for key in ("reset_user_id", "reset_code", "reset_remember"):
        session.pop(key, None)
    _login(request, user, remember)
    return user


def account_logout(*, request: HttpRequest) -> None:
    """End the session and close the websockets opened with it."""
    user_id, session_key = request.user.pk, request.session.session_key
    logout(request)
    if user_id is not None and session_key:
        events.control([events.user_group(user_id)], "session_ended", session_key=session_key)


@transaction.atomic
def account_update(*, request: HttpRequest, user: User, data: dict[str, Any]) -> User:
    """Change one's own email and/or password; a new password needs the old one."""
    fields: set[str] = set()
    if "password" in data:
        if not user.check_password(data.get("old_password", "")):
            raise BadRequest("Invalid credentials")
        _set_password(user, data["password"])
        fields |= {"password", "last_password_change"}
    if "email" in data:
        user.email = data["email"]
        fields.add("email")
    if fields:
        user.save(update_fields=fields)
    if "password" in data:
        # Keep this session; every other session of the user ends because the password hash changed.
        update_session_auth_hash(request, user)
    return user


@transaction.atomic
def account_settings_update(*, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """Change one's own display settings."""
    merged: dict[str, Any] = {**user.settings, **data}
    user.settings = merged
    user.save(update_fields=["settings"])
    return merged


# --- Groups ---------------------------------------------------------------------------------------------------


def _virtool_permissions() -> dict[str, Permission]:
    return {
        p.codename: p for p in Permission.objects.filter(content_type__app_label="users", codename__in=PERMISSION_NAMES)
    }


@transaction.atomic
def group_create(*, name: str) -> Group:
    """Create a group with no permissions; names are unique case-insensitively."""
    name = name.strip()
    if Group.objects.filter(name__iexact=name).exists():
        raise BadRequest("Group already exists")
    return Group.objects.create(name=name)


@transaction.atomic
def group_update(*, group: Group, name: str | None = None, permissions: dict[str, bool] | None = None) -> Group:
    """Rename a group and/or grant or revoke some of its permissions."""
    if name is not None and name.strip() != group.name:
        if Group.objects.filter(name__iexact=name.strip()).exclude(pk=group.pk).exists():
            raise BadRequest("Group already exists")
        group.name = name.strip()
        group.save(update_fields=["name"])
        member_ids = list(group.user_set.values_list("pk", flat=True))
        if member_ids:  # their documents embed the group's name
            events.dispatch(interface="users", operation="update", ids=member_ids)
    if permissions:
        available = _virtool_permissions()
        group.permissions.add(*[available[n] for n, granted in permissions.items() if granted])
        group.permissions.remove(*[available[n] for n, granted in permissions.items() if not granted])
        events.dispatch_instance(group)
        member_ids = list(group.user_set.values_list("pk", flat=True))
        if member_ids:
            events.dispatch(interface="users", operation="update", ids=member_ids)
    return group


@transaction.atomic
def group_delete(*, group: Group) -> None:
    """Delete a group; its members lose what it granted."""
    member_ids = list(group.user_set.values_list("pk", flat=True))
    group.delete()
    if member_ids:
        events.dispatch(interface="users", operation="update", ids=member_ids)
        _refresh_sockets(member_ids)


# --- API keys -------------------------------------------------------------------------------------------------


@transaction.atomic
def key_create(*, user: User, name: str, permissions: dict[str, bool]) -> tuple[APIKey, str]:
    """Create an API key; returns the row and the secret, which is never shown again.

    Permissions the user does not hold are set false rather than refused, as Virtool does.
    """
    held = user_permissions(user=user)
    granted = {n: bool(permissions.get(n)) and (held[n] or user.is_superuser) for n in PERMISSION_NAMES}
    base = slugify(name).replace("-", "_") or "key"
    existing = set(APIKey.objects.filter(user=user, key_id__startswith=f"{base}_").values_list("key_id", flat=True))
    counter = 0
    while f"{base}_{counter}" in existing:
        counter += 1
    raw = secrets.token_hex(16)
    key = APIKey.objects.create(
        user=user, key_id=f"{base}_{counter}", name=name, key_hash=hash_key(raw), permissions=granted
    )
    return key, raw


@transaction.atomic
def key_update(*, key: APIKey, permissions: dict[str, bool]) -> APIKey:
    """Change some of a key's permissions (never beyond the user's)."""
    held = user_permissions(user=key.user)
    for name, value in permissions.items():
        key.permissions[name] = bool(value) and (held[name] or key.user.is_superuser)
    key.save(update_fields=["permissions"])
    return key


def key_delete(*, key: APIKey) -> None:
    """Delete one API key."""
    key.delete()


def keys_purge(*, user: User) -> None:
    """Delete all of a user's API keys."""
    APIKey.objects.filter(user=user).delete()
