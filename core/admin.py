"""Django admin for instance settings."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core.models import InstanceSettings


# ModelAdmin is generic only in django-stubs; subscripting it at run time fails (without django_stubs_ext).
@admin.register(InstanceSettings)
class InstanceSettingsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The single settings row: it can be changed, not added twice or deleted."""

    list_display = ("__str__", "enable_api", "minimum_password_length", "sample_unique_names", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not InstanceSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: InstanceSettings | None = None) -> bool:
        return False
