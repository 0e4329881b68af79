"""Writes for samples and labels."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from core import events, seqio
from core.errors import BadRequest, Conflict
from core.selectors import settings_get
from files.models import Upload
from files.services import uploads_claim, uploads_release
from jobs.constants import ACTIVE_STATES
from jobs.services import job_attach, job_refuse_delete
from samples.constants import LEGACY_READS_NAMES, READS_NAMES, VIRTOOL_QUALITY_KEYS
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
        busy="The sample is being updated"
        if sample.job is not None and sample.job.workflow == "update_sample"
        else "The sample is still being created",
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


@dataclass(frozen=True)
class LegacyCheck:
    """What `sample_legacy_detect` found: why the sample is legacy (empty: it is not), its read files in mate
    order (`[{name, size}]`, as stored) and its 2019 `srna` flag (None when the document has none)."""

    reasons: list[str] = dataclasses.field(default_factory=list)
    files: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    srna: bool | None = None

    @property
    def is_legacy(self) -> bool:
        """Whether the sample needs an `update_sample` job."""
        return bool(self.reasons)


def _mate(name: str) -> int | None:
    """0 or 1 for a read file name Virtool ever used (reads_1.fastq ... reads_2.fq.gz), else None."""
    for index, names in enumerate(LEGACY_READS_NAMES):
        if name in names:
            return index
    return None


def _document_files(document: Mapping[str, Any], folder: Path | None) -> list[dict[str, Any]]:
    """The read files a Virtool sample document names (2019 `files`, mature `reads`), or else those in `folder`."""
    listed = document.get("files") or document.get("reads") or []
    files = [
        {"name": str(entry.get("name_on_disk") or entry.get("name")), "size": entry.get("size")}
        for entry in listed
        if isinstance(entry, Mapping) and (entry.get("name_on_disk") or entry.get("name"))
    ]
    if not files and folder is not None and folder.is_dir():
        for names in LEGACY_READS_NAMES:
            found = next((folder / name for name in names if (folder / name).is_file()), None)
            if found is not None:
                files.append({"name": found.name, "size": found.stat().st_size})
    return sorted(files, key=lambda entry: (_mate(entry["name"]) is None, _mate(entry["name"]) or 0, entry["name"]))


def sample_legacy_detect(*, document: Mapping[str, Any], folder: Path | None = None) -> LegacyCheck:
    """Whether a Virtool sample document (2019 or 36.x shape) describes a legacy sample, and why, in words.

    Legacy (as Virtool's `check_is_legacy`, widened as issue 17 asks): reads uncompressed or under an old name
    (2019's `reads_1.fastq`), no quality report or one from an older release, the 2019 `srna` flag instead of a
    `library_type`, or Virtool's own `is_legacy`. Files Virtool marked `raw` are today's uploads, not legacy.
    With `folder` (where the sample's reads are now), the files on disk are checked too: missing ones are named,
    and a file named `.gz` that is not gzip counts as uncompressed.
    """
    files = _document_files(document, folder)
    reasons: list[str] = []
    raw = bool(document.get("files")) and all(
        isinstance(entry, Mapping) and entry.get("raw") for entry in document.get("files") or []
    )
    if document.get("is_legacy") is True and not raw:
        reasons.append("Virtool marked the sample as legacy")
    uncompressed = []
    renamed = []
    for index, entry in enumerate(files):
        name = entry["name"]
        path = folder / name if folder is not None else None
        if path is not None and not path.is_file():
            raise BadRequest(f"The sample's read file {name} is missing from {folder}")
        gzip = seqio.is_gzip(path) if path is not None else name.endswith(".gz")
        if not gzip:
            uncompressed.append(name)
        if index < len(READS_NAMES) and name != READS_NAMES[index]:
            renamed.append(f"{name} instead of {READS_NAMES[index]}")
    if uncompressed and not raw:
        reasons.append(f"The reads are stored uncompressed ({', '.join(uncompressed)})")
    if renamed and not raw:
        reasons.append(f"The reads have the file names of an older release ({', '.join(renamed)})")
    quality = document.get("quality")
    if not quality:
        reasons.append("The sample has no quality report")
    elif not isinstance(quality, Mapping) or any(key not in quality for key in VIRTOOL_QUALITY_KEYS):
        missing = [key for key in VIRTOOL_QUALITY_KEYS if not isinstance(quality, Mapping) or key not in quality]
        reasons.append(f"The quality report is from an older release (it lacks {', '.join(missing)})")
    srna = document.get("srna")
    srna_flag = bool(srna) if isinstance(srna, bool) else None
    if srna_flag is not None and not document.get("library_type"):
        reasons.append("The library type is given by the 2019 small-RNA (srna) flag")
    return LegacyCheck(reasons=reasons, files=files, srna=srna_flag)


@transaction.atomic
def sample_legacy_mark(*, sample: Sample, check: LegacyCheck) -> Sample:
    """Record on a (just imported) sample what `sample_legacy_detect` found: a legacy sample keeps its old read
    files and `srna` flag until `update_sample` converts them; one that is not legacy is left as it is."""
    if not check.is_legacy:
        return sample
    sample.is_legacy = True
    sample.files = [dict(entry) for entry in check.files]
    sample.srna = check.srna
    sample.paired = len(check.files) == 2
    sample.save(update_fields=["is_legacy", "files", "srna", "paired"])
    return sample


@transaction.atomic
def sample_update_job_start(*, sample: Sample, user: User | None) -> Sample:
    """Queue the `update_sample` job that brings a legacy sample's reads into today's form (Virtool's
    `PUT /samples/{id}/update_job`; the importer calls it for every legacy sample it brings in)."""
    # The row alone is locked (PostgreSQL refuses FOR UPDATE across the outer join of a nullable job): two starts
    # at once queue one job.
    sample = Sample.objects.select_for_update().get(pk=sample.pk)
    if not sample.is_legacy:
        raise Conflict("The sample is not a legacy sample: its reads are already in today's form")
    job = sample.job
    if job is not None and job.state in ACTIVE_STATES:
        if job.workflow == "update_sample":
            raise Conflict("The sample is already being updated")
        raise Conflict("The sample is still being created")
    if not sample.files:
        raise BadRequest("The sample lists no read files: it was imported without them, so it cannot be updated")
    job_attach(instance=sample, workflow="update_sample", args={"sample_id": sample.pk}, user=user)
    transaction.on_commit(lambda: events.dispatch(interface="samples", operation="update", ids=[sample.pk]))
    return sample
