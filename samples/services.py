"""Writes for samples and labels."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from core import events
from core.errors import BadRequest, Conflict
from core.selectors import settings_get
from files.models import Upload
from files.services import uploads_claim, uploads_release
from jobs.constants import ACTIVE_STATES
from jobs.services import job_attach, job_refuse_delete
from samples.models import Label, Sample
from samples.selectors import samples_path
from subtractions.selectors import subtractions_get

if TYPE_CHECKING:
    from users.models import User


def _labels_counted(label_ids: Iterable[int]) -> None:
    """Label counts changed: send the labels again after commit (m2m edits bypass the save signals)."""
    ids = sorted(set(label_ids))
    if ids:
        events.dispatch(interface="labels", operation="update", ids=ids)


def _check_labels(label_ids: list[int]) -> list[Label]:
    labels = list(Label.objects.filter(pk__in=label_ids))
    missing = sorted(set(label_ids) - {label.pk for label in labels})
    if missing:
        raise BadRequest(f"Labels do not exist: {missing}")
    return labels


@transaction.atomic
def sample_create(*, user: User, data: dict[str, Any]) -> Sample:
    """Create a sample from one or two reads uploads and queue its `create_sample` job."""
    settings = settings_get()
    name = data["name"].strip()
    if settings.sample_unique_names and Sample.objects.filter(name__iexact=name).exists():
        raise BadRequest("Sample name is already in use")
    uploads = uploads_claim(keys=data["files"], upload_type="reads", purpose="make a sample")
    upload_ids = [upload.pk for upload in uploads]
    subtractions = subtractions_get(ids=data.get("subtractions", []))
    labels = _check_labels(data.get("labels", []))
    group: Group | None = None
    if data.get("group") is not None:
        group = Group.objects.filter(pk=data["group"]).first()
        if group is None:
            raise BadRequest("Group does not exist")
    elif settings.sample_group == "force_choice":
        raise BadRequest("A group must be chosen for the sample")
    elif settings.sample_group == "users_primary_group":
        group = user.primary_group
    sample = Sample.objects.create(
        name=name,
        host=data.get("host", ""),
        isolate=data.get("isolate", ""),
        locale=data.get("locale", ""),
        notes=data.get("notes", ""),
        library_type=data.get("library_type", "normal"),
        paired=len(upload_ids) == 2,
        group=group,
        group_read=settings.sample_group_read,
        group_write=settings.sample_group_write,
        all_read=settings.sample_all_read,
        all_write=settings.sample_all_write,
        user=user,
        upload_ids=upload_ids,
    )
    sample.labels.set(labels)
    sample.subtractions.set(subtractions)
    _labels_counted(label.pk for label in labels)
    files = [{"id": upload.pk, "name": upload.name, "size": upload.size} for upload in uploads]
    job_attach(instance=sample, workflow="create_sample", args={"sample_id": sample.pk, "files": files}, user=user)
    return sample


@transaction.atomic
def sample_update(*, sample: Sample, data: dict[str, Any]) -> Sample:
    """Edit a sample's name, metadata and labels."""
    if "name" in data:
        name = data["name"].strip()
        if (
            settings_get().sample_unique_names
            and Sample.objects.filter(name__iexact=name).exclude(pk=sample.pk).exists()
        ):
            raise BadRequest("Sample name is already in use")
        sample.name = name
    for field in ("host", "isolate", "locale", "notes"):
        if field in data:
            setattr(sample, field, data[field])
    if "subtractions" in data:
        sample.subtractions.set(subtractions_get(ids=data["subtractions"]))
    if "labels" in data:
        before = set(sample.labels.values_list("pk", flat=True))
        labels = _check_labels(data["labels"])
        sample.labels.set(labels)
        _labels_counted(before ^ {label.pk for label in labels})
    sample.save()
    return sample


@transaction.atomic
def sample_set_rights(*, sample: Sample, data: dict[str, Any]) -> Sample:
    """Change who may read and write a sample (its owner or an administrator)."""
    before = set(sample_audience(sample=sample))
    if "group" in data:
        group = data["group"]
        if group is not None and not Group.objects.filter(pk=group).exists():
            raise BadRequest("Group does not exist")
        sample.group_id = group
    for field in ("group_read", "group_write", "all_read", "all_write"):
        if field in data:
            setattr(sample, field, data[field])
    # Connections that could read it before and cannot now must see it go. A lost group (say `all`) can hold
    # connections that still may read it through another group (the owner's), so the delete is queued before the
    # save's update: those connections get the sample back right after.
    lost = before - set(sample_audience(sample=sample))
    if lost:
        events.dispatch(interface="samples", operation="delete", ids=[sample.pk], audience=sorted(lost))
    sample.save()
    return sample


def sample_delete(*, sample: Sample) -> None:
    """Delete a sample and its files (refused while its creation job runs); its reserved uploads are released."""
    job_refuse_delete(
        instance=sample,
        busy="The sample is still being created",
        arg="sample_id",
        used="The sample is being analysed: wait for its analyses to finish or cancel them",
    )
    sample_discard(sample_id=sample.pk)


def sample_fail(*, sample_id: str) -> None:
    """Creation failed, was cancelled or was lost: the sample stays listed, failed (its job says why), without the
    partial reads; its uploads stay reserved for it, so that it can be tried again, until it is removed."""
    shutil.rmtree(samples_path(sample_id), ignore_errors=True)
    if Sample.objects.filter(pk=sample_id).exists():
        events.dispatch(interface="samples", operation="update", ids=[sample_id])


@transaction.atomic
def sample_retry(*, sample: Sample, user: User) -> Sample:
    """Create a failed sample again from the same uploads (a new `create_sample` job)."""
    # The row alone is locked (PostgreSQL refuses FOR UPDATE across the outer join of a nullable job).
    sample = Sample.objects.select_for_update().get(pk=sample.pk)
    if sample.ready:
        raise Conflict("The sample is ready: there is nothing to try again")
    job = sample.job
    if job is None or job.state in ACTIVE_STATES:
        raise Conflict("The sample is still being created")
    files = list(job.args.get("files") or [])
    present = set(Upload.objects.filter(pk__in=[f["id"] for f in files], removed=False).values_list("pk", flat=True))
    missing = [f["name"] for f in files if f["id"] not in present]
    if missing:
        raise BadRequest(
            f"The upload {', '.join(missing)} no longer exists: remove the sample and create it from new uploads"
        )
    job_attach(instance=sample, workflow="create_sample", args={"sample_id": sample.pk, "files": files}, user=user)
    transaction.on_commit(lambda: events.dispatch(interface="samples", operation="update", ids=[sample.pk]))
    return sample


def sample_discard(*, sample_id: str) -> None:
    """Remove a sample row and folder, and give its uploads back (creation failed or it was deleted)."""
    with transaction.atomic():
        sample = Sample.objects.filter(pk=sample_id).first()
        if sample is None:
            return
        upload_ids = list(sample.upload_ids)
        _labels_counted(sample.labels.values_list("pk", flat=True))
        still_reserved = list(
            Upload.objects.filter(pk__in=upload_ids, reserved=True, removed=False).values_list("pk", flat=True)
        )
        sample.delete()
        if still_reserved:
            uploads_release(upload_ids=still_reserved)
    shutil.rmtree(samples_path(sample_id), ignore_errors=True)


def sample_audience(*, sample: Sample) -> list[str]:
    """The Channels groups allowed to read a sample."""
    groups = [events.GROUP_ADMINS]
    if sample.user_id:
        groups.append(events.user_group(sample.user_id))
    if sample.all_read:
        groups.append(events.GROUP_ALL)
    if sample.group_id and sample.group_read:
        groups.append(events.member_group(sample.group_id))
    return groups


@transaction.atomic
def label_create(*, name: str, color: str, description: str) -> Label:
    """Create a label; names are unique case-insensitively."""
    if Label.objects.filter(name__iexact=name.strip()).exists():
        raise BadRequest("Label name already exists")
    try:
        with transaction.atomic():
            return Label.objects.create(name=name.strip(), color=color, description=description)
    except IntegrityError:
        raise BadRequest("Label name already exists") from None


@transaction.atomic
def label_update(*, label: Label, data: dict[str, Any]) -> Label:
    """Edit a label."""
    if "name" in data and Label.objects.filter(name__iexact=data["name"].strip()).exclude(pk=label.pk).exists():
        raise BadRequest("Label name already exists")
    for field in ("name", "color", "description"):
        if field in data:
            setattr(label, field, data[field].strip() if field == "name" else data[field])
    label.save()
    return label


def label_delete(*, label: Label) -> None:
    """Delete a label (it disappears from its samples)."""
    label.delete()
