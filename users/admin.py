"""Django admin for users and API keys; groups and their permissions use Django's own GroupAdmin."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpRequest

from users.models import APIKey, User


class UserCreateForm(UserCreationForm):
    """Create a user by handle."""

    class Meta:
        model = User
        fields = ("handle",)


class UserEditForm(UserChangeForm):
    """Edit a user."""

    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users: handle, role, groups; Virtool's permissions come from groups."""

    form = UserEditForm
    add_form = UserCreateForm
    list_display = ("handle", "administrator_role", "is_active", "force_reset", "last_login")
    list_filter = ("administrator_role", "is_active", "groups")
    search_fields = ("handle", "email")
    ordering = ("handle",)
    filter_horizontal = ("groups",)
    readonly_fields = ("last_login", "last_password_change", "created_at")
    fieldsets = (
        (None, {"fields": ("handle", "password")}),
        ("Profile", {"fields": ("email", "settings")}),
        ("Access", {"fields": ("is_active", "force_reset", "administrator_role", "groups", "primary_group")}),
        ("Dates", {"fields": ("last_login", "last_password_change", "created_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("handle", "password1", "password2")}),)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        """Users are deactivated (`is_active`), never deleted, as in Virtool: the samples, analyses, jobs and history
        they made keep their author, which Virtool's client requires of every nested user."""
        return False


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    """API keys can be inspected and revoked here; secrets are never stored."""

    list_display = ("key_id", "name", "user", "created_at")
    search_fields = ("key_id", "name", "user__handle")
    readonly_fields = ("user", "key_id", "key_hash", "created_at")

    def has_add_permission(self, request) -> bool:
        return False
