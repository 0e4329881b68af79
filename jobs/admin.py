"""Django admin for jobs (read-mostly: jobs change through the job engine)."""

from __future__ import annotations

from django.contrib import admin

from jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Inspect jobs and their status history."""

    list_display = ("id", "workflow", "state", "progress", "user", "created_at", "worker")
    list_filter = ("state", "workflow", "size")
    search_fields = ("id", "workflow", "user__handle")
    readonly_fields = [field.name for field in Job._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
