"""Reads for users, groups and API keys."""

from __future__ import annotations

from typing import Literal

from django.contrib.auth.models import Group
from django.db.models import Prefetch, QuerySet

from core.errors import NotFound
from users.constants import PERMISSION_NAMES
from users.models import APIKey, User


def _permission_map(codenames: set[str]) -> dict[str, bool]:
    return {name: name in codenames for name in PERMISSION_NAMES}


def _codenames(group: Group) -> set[str]:
    return {p.codename for p in group.permissions.all() if p.content_type.app_label == "users"}


def group_permissions(*, group: Group) -> dict[str, bool]:
    """Virtool's `{name: bool}` map of the permissions a group grants."""
    return _permission_map(_codenames(group))


def user_permissions(*, user: User) -> dict[str, bool]:
    """The OR of the permissions of the user's groups, as Virtool shows them."""
    codenames: set[str] = set()
    for group in user.groups.all():
        codenames |= _codenames(group)
    return _permission_map(codenames)


def key_effective_permissions(*, key: APIKey) -> dict[str, bool]:
    """What a key may do: the key's permissions intersected with its user's."""
    held = user_permissions(user=key.user)
    if key.user.is_superuser:
        held = dict.fromkeys(PERMISSION_NAMES, True)
    return {name: bool(key.permissions.get(name)) and held[name] for name in PERMISSION_NAMES}


def _group_prefetch() -> Prefetch[Literal["groups"], QuerySet[Group], str]:
    return Prefetch(
        "groups",
        queryset=Group.objects.order_by("name").prefetch_related("permissions__content_type"),
    )


def user_queryset() -> QuerySet[User]:
    """Users with everything their API document needs, in a fixed number of queries."""
    return User.objects.select_related("primary_group").prefetch_related(_group_prefetch())


def user_list(*, find: str = "", active: bool | None = None, administrator: bool | None = None) -> QuerySet[User]:
    """Users whose handle contains `find`, optionally only active (or inactive) ones, only administrators (or
    only users without an administrator role)."""
    queryset = user_queryset().order_by("handle")
    if find:
        queryset = queryset.filter(handle__icontains=find)
    if active is not None:
        queryset = queryset.filter(is_active=active)
    if administrator is not None:
        queryset = queryset.filter(administrator_role__isnull=not administrator)
    return queryset


def user_get(*, user_id: int) -> User:
    """One user, or 404 "User does not exist"."""
    try:
        return user_queryset().get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("User does not exist") from None


def user_exists() -> bool:
    """Whether any user exists (False means first-user setup is open)."""
    return User.objects.exists()


def group_queryset() -> QuerySet[Group]:
    """Groups with their permissions and members prefetched."""
    return Group.objects.order_by("name").prefetch_related(
        "permissions__content_type", Prefetch("user_set", queryset=User.objects.order_by("handle"))
    )


def group_list(*, find: str = "") -> QuerySet[Group]:
    """Groups whose name contains `find`."""
    queryset = group_queryset()
    return queryset.filter(name__icontains=find) if find else queryset


def group_get(*, group_id: int) -> Group:
    """One group, or 404."""
    try:
        return group_queryset().get(pk=group_id)
    except (Group.DoesNotExist, ValueError, TypeError):
        raise NotFound("Group does not exist") from None


def groups_get_many(*, group_ids: list[int]) -> list[Group]:
    """The groups with these ids; raises 400-worthy NotFound naming the first missing one."""
    groups = {group.pk: group for group in Group.objects.filter(pk__in=group_ids)}
    missing = [group_id for group_id in group_ids if group_id not in groups]
    if missing:
        from core.errors import BadRequest

        raise BadRequest("Group does not exist" if len(missing) == 1 else f"Groups do not exist: {missing}")
    return [groups[group_id] for group_id in group_ids]


def key_list(*, user: User) -> QuerySet[APIKey]:
    """A user's API keys."""
    return APIKey.objects.filter(user=user).select_related("user").order_by("created_at", "pk")


def key_get(*, user: User, key_id: str) -> APIKey:
    """One of the user's API keys, or 404."""
    key = key_list(user=user).filter(key_id=key_id).first()
    if key is None:
        raise NotFound()
    return key
