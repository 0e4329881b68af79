"""The browser's navigation: every concern registers its page here, in menu order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


@dataclass(frozen=True)
class NavItem:
    """One entry of the top navigation."""

    key: str
    label: str
    url: str
    administrators_only: bool = False


# Filled by the apps' `ready()` in INSTALLED_APPS order: users adds Home and Administration first, so the others
# can place themselves before Administration (the default) or before each other.
NAVIGATION: list[NavItem] = []


def nav_register(item: NavItem, *, before: str | None = "administration") -> None:
    """Add a page to the navigation (apps call this from `AppConfig.ready`)."""
    if any(existing.key == item.key for existing in NAVIGATION):
        return
    keys = [existing.key for existing in NAVIGATION]
    NAVIGATION.insert(keys.index(before) if before in keys else len(NAVIGATION), item)


def nav_for(user: AbstractBaseUser | AnonymousUser) -> list[NavItem]:
    """The entries a user sees."""
    # Core knows no user model: the administrator role is read by name.
    is_admin = bool(getattr(user, "is_authenticated", False) and getattr(user, "administrator_role", None))
    return [item for item in NAVIGATION if is_admin or not item.administrators_only]
