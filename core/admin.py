"""Django admin for instance settings."""

from __future__ import annotations

from django.contrib import admin

from core.models import InstanceSettings


@admin.register(InstanceSettings)
class InstanceSettingsAdmin(admin.ModelAdmin):
    """The single settings row: it can be changed, not added twice or deleted."""

    list_display = ("__str__", "enable_api", "minimum_password_length", "sample_unique_names", "updated_at")

    def has_add_permission(self, request) -> bool:
        return not InstanceSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
