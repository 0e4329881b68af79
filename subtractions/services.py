"""Writes for subtractions: create (with its job), edit, delete, and the job's finish and discard."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from django.db import transaction

from core.errors import BadRequest, Conflict
from files.models import Upload
from files.services import uploads_claim, uploads_mark_removed, uploads_release
from jobs.services import job_attach, job_refuse_delete
from subtractions.models import Subtraction
from subtractions.selectors import subtractions_path

if TYPE_CHECKING:
    from users.models import User


@transaction.atomic
def subtraction_create(*, user: User, data: dict[str, Any]) -> Subtraction:
    """Create a subtraction from a `subtraction` upload and queue its `create_subtraction` job."""
    [upload] = uploads_claim(keys=[data["upload_id"]], upload_type="subtraction", purpose="make a subtraction")
    subtraction = Subtraction.objects.create(
        name=data["name"].strip(),
        nickname=data.get("nickname", "").strip(),
        file={"id": upload.pk, "name": upload.name},
        user=user,
    )
    job_attach(
        instance=subtraction,
        workflow="create_subtraction",
        args={"subtraction_id": subtraction.pk, "files": [{"id": upload.pk, "name": upload.name}]},
        user=user,
    )
    return subtraction


@transaction.atomic
def subtraction_update(*, subtraction: Subtraction, data: dict[str, Any]) -> Subtraction:
    """Edit name and nickname."""
    if "name" in data:
        if not data["name"].strip():
            raise BadRequest("Name is required")
        subtraction.name = data["name"].strip()
    if "nickname" in data:
        subtraction.nickname = data["nickname"].strip()
    subtraction.save()
    return subtraction


def subtraction_delete(*, subtraction: Subtraction) -> None:
    """Delete a subtraction and its files; refused while samples use it or its job runs."""
    if subtraction.samples.exists():
        names = ", ".join(subtraction.samples.order_by("name").values_list("name", flat=True)[:5])
        raise Conflict(f"Subtraction is linked to samples: {names}")
    job_refuse_delete(
        instance=subtraction,
        busy="The subtraction is still being created",
        arg="subtractions",
        used="The subtraction is used by running analyses: wait for them to finish or cancel them",
    )
    subtraction_id = subtraction.pk
    subtraction.delete()
    shutil.rmtree(subtractions_path(subtraction_id), ignore_errors=True)


@transaction.atomic
def subtraction_finish(*, subtraction_id: str, count: int, gc: dict[str, float], upload_id: int) -> None:
    """The job succeeded: store the statistics, mark ready, use up the upload."""
    subtraction = Subtraction.objects.select_for_update().get(pk=subtraction_id)
    subtraction.count = count
    subtraction.gc = gc
    subtraction.ready = True
    subtraction.save()
    transaction.on_commit(lambda: uploads_mark_removed(upload_ids=[upload_id], delete_files=True))


def subtraction_discard(*, subtraction_id: str, upload_id: int | None) -> None:
    """The job failed or was cancelled: remove the subtraction and its files, give the upload back."""
    with transaction.atomic():
        Subtraction.objects.filter(pk=subtraction_id).delete()
        if upload_id is not None and Upload.objects.filter(pk=upload_id, removed=False).exists():
            uploads_release(upload_ids=[upload_id])
    shutil.rmtree(subtractions_path(subtraction_id), ignore_errors=True)
