"""Users with Virtool's handle and administrator role, and their API keys."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import Group, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from users.constants import ACCOUNT_SETTINGS_DEFAULTS, PERMISSIONS, ROLE_RANK, AdministratorRole


def default_account_settings() -> dict[str, Any]:
    """A fresh copy of Virtool's account-settings defaults."""
    return dict(ACCOUNT_SETTINGS_DEFAULTS)


class UserManager(BaseUserManager["User"]):
    """Create users by handle."""

    def create_user(self, handle: str, password: str | None = None, **extra: Any) -> User:
        """Create an ordinary user."""
        user = self.model(handle=handle, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, handle: str, password: str | None = None, **extra: Any) -> User:
        """Create an administrator with the full role (used by `createsuperuser`)."""
        extra.setdefault("administrator_role", AdministratorRole.FULL)
        return self.create_user(handle, password, **extra)

    def get_by_natural_key(self, handle: str | None) -> User:
        """Handles are unique case-insensitively, so look them up that way."""
        return self.get(handle__iexact=handle)


class User(AbstractBaseUser, PermissionsMixin):
    """A Virtool user: a handle, an optional administrator role and group memberships."""

    handle = models.CharField(max_length=64, unique=True)
    email = models.EmailField(blank=True, default="")
    is_active = models.BooleanField("active", default=True)
    administrator_role = models.CharField(
        max_length=16, choices=AdministratorRole.choices, null=True, blank=True, default=None
    )
    force_reset = models.BooleanField(default=False)
    last_password_change = models.DateTimeField(default=timezone.now)
    settings = models.JSONField(default=default_account_settings)
    primary_group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "handle"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["handle"]
        constraints = [models.UniqueConstraint(Lower("handle"), name="users_user_handle_ci_unique")]
        permissions = list(PERMISSIONS.items())

    def __str__(self) -> str:
        return self.handle

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The Django admin site follows the Virtool role: only full administrators get every Django permission.
        self.is_superuser = self.administrator_role == AdministratorRole.FULL
        if kwargs.get("update_fields") is not None and "administrator_role" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "is_superuser"}
        super().save(*args, **kwargs)

    @property
    def is_staff(self) -> bool:
        """Any administrator may open the Django admin site."""
        return self.administrator_role is not None

    @property
    def is_administrator(self) -> bool:
        """True for any administrator role."""
        return self.administrator_role is not None

    def has_role(self, role: str) -> bool:
        """True when the user's administrator role is `role` or above it."""
        if self.administrator_role is None:
            return False
        return ROLE_RANK[AdministratorRole(self.administrator_role)] >= ROLE_RANK[AdministratorRole(role)]


class APIKey(models.Model):
    """An API key: only its SHA-256 is stored; the secret is shown once, when it is created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    key_id = models.CharField(max_length=140)
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    permissions = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    # The secret, set only on a key just created, for the one answer that shows it (not stored).
    raw_key: str

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "key_id"], name="users_apikey_user_key_id_unique")]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.user.handle}: {self.key_id}"
