"""Django admin: uploads, and the reports of files that need an administrator's eye."""

from __future__ import annotations

from django.contrib import admin

from files.models import FileReport, Upload
from files.services import uploads_delete


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    """Uploads."""

    list_display = ("id", "name", "type", "user", "size", "reserved", "removed", "created_at", "expires_at")
    list_filter = ("type", "reserved", "removed")
    search_fields = ("name", "name_on_disk", "sha256")
    readonly_fields = ("name_on_disk", "size", "sha256", "created_at", "uploaded_at", "removed_at")

    def delete_model(self, request, obj: Upload) -> None:
        uploads_delete(uploads=[obj])

    def delete_queryset(self, request, queryset) -> None:
        uploads_delete(uploads=list(queryset))


@admin.register(FileReport)
class FileReportAdmin(admin.ModelAdmin):
    """Files found in the files folder without an upload, and watch-folder files that are not FASTQ."""

    list_display = ("kind", "path", "size", "detected_at", "detail")
    list_filter = ("kind",)
    readonly_fields = ("kind", "path", "size", "detected_at", "detail")

    def has_add_permission(self, request) -> bool:
        return False
