"""Reads for uploads."""

from __future__ import annotations

from django.db.models import QuerySet

from core.errors import NotFound
from files.models import Upload


def upload_list(*, user_id: int | None = None, upload_type: str | None = None) -> QuerySet[Upload]:
    """Uploads that can be used: not removed, not reserved by a sample being created (as Virtool lists them)."""
    queryset = Upload.objects.select_related("user").filter(removed=False, reserved=False, ready=True)
    if user_id is not None:
        queryset = queryset.filter(user_id=user_id)
    if upload_type:
        queryset = queryset.filter(type=upload_type)
    return queryset.order_by("-created_at", "-pk")


def upload_get(*, upload_id: int) -> Upload:
    """One upload that still has its file, or 404 (an unfinished resumable upload is not one yet)."""
    upload = Upload.objects.select_related("user").filter(pk=upload_id, removed=False, ready=True).first()
    if upload is None:
        raise NotFound("Upload does not exist")
    return upload


def upload_resumable_get(*, token: str, user_id: int) -> Upload:
    """The resumable upload named by `token`, if it is `user_id`'s (anyone else gets 404: the token is no key)."""
    upload = (
        Upload.objects.select_related("user")
        .filter(resume_token=token, user_id=user_id, removed=False)
        .exclude(resume_token=None)
        .first()
    )
    if upload is None:
        raise NotFound("Upload does not exist")
    return upload
