"""Writes for uploads: create from a finished stream, remove, claim and release, expire, and keep the files folder
in sync."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import events
from core.errors import BadRequest, ChecksumMismatch, Conflict, Locked, NotFound, PayloadTooLarge
from files.constants import PARTIAL_PREFIX, READS_HEAD_BYTES, RESUMABLE_FOLDER, UploadType
from files.models import FileReport, Upload
from files.storage import NotAcceptable, check_reads_start, files_path, resumable_path, sha256_of, upload_path

if TYPE_CHECKING:
    from users.models import User

log = logging.getLogger(__name__)


class Reconciled(TypedDict):
    """What a reconciliation did: uploads marked removed (their file was gone), files no upload refers to."""

    removed: list[int]
    unreferenced: list[str]


def _dispatch_gone(upload_ids: list[int]) -> None:
    if upload_ids:
        events.dispatch(interface="uploads", operation="delete", ids=upload_ids, audience=[events.GROUP_ALL])


def upload_unique_name(name: str) -> str:
    """`name`, or `name (1)`, `name (2)`, ... when an upload of that name exists: never an overwrite."""
    taken = set(Upload.objects.filter(removed=False, name__startswith=_stem(name)[0]).values_list("name", flat=True))
    if name not in taken:
        return name
    stem, suffix = _stem(name)
    counter = 1
    while f"{stem} ({counter}){suffix}" in taken:
        counter += 1
    return f"{stem} ({counter}){suffix}"


def _stem(name: str) -> tuple[str, str]:
    for suffix in (".fastq.gz", ".fq.gz", ".fa.gz", ".fasta.gz", ".json.gz", ".tar.gz"):
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    root, ext = os.path.splitext(name)
    return root, ext


def upload_create(
    *,
    name: str,
    upload_type: str,
    user: User | None,
    temp_path: Path,
    size: int,
    sha256: str,
    unique_name: bool = False,
) -> Upload:
    """Make a finished temporary file an upload: insert the row and rename the file into place, together.

    If anything fails, including the commit, neither the row nor the file remains. Call it outside any other
    transaction: the file is renamed before the commit of an outer transaction could roll the row back.
    """
    now = timezone.now()
    lifetime = settings.VIRTOOL_UPLOAD_LIFETIME_DAYS
    final: Path | None = None
    try:
        with transaction.atomic():
            upload = Upload.objects.create(
                name=upload_unique_name(name) if unique_name else name,
                type=upload_type,
                user=user,
                size=size,
                sha256=sha256,
                ready=True,
                created_at=now,
                uploaded_at=now,
                expires_at=now + timedelta(days=lifetime) if lifetime else None,
            )
            upload.name_on_disk = f"{upload.pk}-{upload.name}"
            upload.save(update_fields=["name_on_disk"])
            final = upload_path(upload.name_on_disk)
            os.replace(temp_path, final)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temp_path).unlink(missing_ok=True)
        if final is not None:
            with contextlib.suppress(OSError):
                final.unlink(missing_ok=True)
        raise
    return upload


def upload_remove(*, upload: Upload) -> None:
    """Remove an upload: its file goes and its row is marked removed (refused while a sample is using it)."""
    if upload.reserved:
        raise Conflict("Upload is in use by a sample being created")
    uploads_mark_removed(upload_ids=[upload.pk], delete_files=True)


def uploads_mark_removed(*, upload_ids: list[int], delete_files: bool) -> list[int]:
    """Mark uploads removed (and delete their files); returns the ids that were not removed before.

    An unfinished resumable upload leaves nothing: it never was an upload (not listed, never announced), so its
    row is deleted with its partial file, as a `POST /uploads` cut off half-way leaves nothing.
    """
    with transaction.atomic():
        rows = list(Upload.objects.select_for_update().filter(pk__in=upload_ids, removed=False))
        finished = [row.pk for row in rows if row.ready]
        Upload.objects.filter(pk__in=finished).update(removed=True, removed_at=timezone.now())
        Upload.objects.filter(pk__in=[row.pk for row in rows if not row.ready]).delete()
        _dispatch_gone(finished)
    for row in rows:
        if delete_files and row.name_on_disk:
            upload_path(row.name_on_disk).unlink(missing_ok=True)
        if row.resume_token and not row.ready:
            resumable_path(row.resume_token).unlink(missing_ok=True)
    return [row.pk for row in rows]


def uploads_claim(*, keys: Sequence[int | str], upload_type: str, purpose: str) -> list[Upload]:
    """Take uploads for what is being made from them: look them up, check their type, reserve them.

    The rows are locked (`select_for_update`; on SQLite the IMMEDIATE transaction already holds the write lock), so
    of two requests for one upload one wins and the other gets 409. Call it inside the transaction that creates
    the row using them: the reservation commits, or rolls back, with that row. `keys` are upload ids, or the names
    on disk that Virtool's clients may send (`import_from`). `purpose` completes "Only reads uploads can ...".
    Returns the uploads in the order of `keys`.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("uploads_claim must run inside the transaction that uses the uploads")
    keys = [int(key) if isinstance(key, int) or str(key).isdigit() else str(key) for key in keys]
    if len(set(keys)) != len(keys):
        raise BadRequest("The same file is given more than once")
    ids = [key for key in keys if isinstance(key, int)]
    names = [key for key in keys if isinstance(key, str)]
    rows = (
        Upload.objects.select_for_update()
        .filter(Q(pk__in=ids) | Q(name_on_disk__in=names), removed=False, ready=True)
        .order_by("pk")  # one lock order for every claimant, so two claims of overlapping uploads cannot deadlock
    )
    found = {row.pk: row for row in rows} | {row.name_on_disk: row for row in rows}
    if any(key not in found for key in keys):
        raise BadRequest("File does not exist")
    uploads = [found[key] for key in keys]
    if any(upload.type != upload_type for upload in uploads):
        raise BadRequest(f"Only {upload_type} uploads can {purpose}")
    taken = [upload.name for upload in uploads if upload.reserved]
    if taken:
        raise Conflict(
            f"{'Files are' if len(taken) > 1 else 'The file is'} already in use by a sample, subtraction or import "
            f"being made: {', '.join(taken)}"
        )
    uploads_reserve(upload_ids=[upload.pk for upload in uploads])
    return uploads


@transaction.atomic
def uploads_reserve(*, upload_ids: list[int]) -> None:
    """Reserve uploads for a sample being created: they leave the list and cannot be removed or expire."""
    Upload.objects.filter(pk__in=upload_ids).update(reserved=True)
    _dispatch_gone(list(upload_ids))


@transaction.atomic
def uploads_release(*, upload_ids: list[int]) -> None:
    """Give reserved uploads back (the sample they were for failed), so they can be used again."""
    Upload.objects.filter(pk__in=upload_ids).update(reserved=False)
    events.dispatch(interface="uploads", operation="insert", ids=list(upload_ids))


def uploads_expire() -> list[int]:
    """Remove uploads whose expiry time has passed, except reserved ones."""
    expired = Upload.objects.filter(removed=False, reserved=False, expires_at__lt=timezone.now())
    return uploads_mark_removed(upload_ids=list(expired.values_list("pk", flat=True)), delete_files=True)


# --- Resumable uploads (the tus protocol) -------------------------------------------------------------------


def _resumable_expiry() -> datetime:
    return timezone.now() + timedelta(hours=settings.VIRTOOL_UPLOAD_RESUMABLE_HOURS)


def upload_resumable_create(*, user: User, name: str, upload_type: str, size: int) -> Upload:
    """Open a resumable upload of `size` bytes: a row that is not ready yet and an empty partial file.

    The row belongs to `user`; its `resume_token` (a 128-bit secret) names it in the URL, so any later request of
    the same user, whatever its session or API key, may continue it. It expires VIRTOOL_UPLOAD_RESUMABLE_HOURS
    after the last bytes it receives.
    """
    if size <= 0:
        raise BadRequest(f"{name} is empty")
    if size > settings.VIRTOOL_UPLOAD_MAX_SIZE:
        raise PayloadTooLarge(f"{name} is larger than the {settings.VIRTOOL_UPLOAD_MAX_SIZE} bytes this server accepts")
    token = secrets.token_hex(16)
    with transaction.atomic():
        upload = Upload.objects.create(
            name=name,
            type=upload_type,
            user=user,
            size=size,
            ready=False,
            resume_token=token,
            offset=0,
            expires_at=_resumable_expiry(),
        )
        resumable_path(token).touch(exist_ok=False)
    return upload


def _current(upload: Upload) -> Upload:
    """The row as it is now (another request may have moved it on)."""
    row = Upload.objects.select_related("user").filter(pk=upload.pk, removed=False).first()
    if row is None:
        raise NotFound("Upload does not exist")
    return row


class _Appended:
    """What one PATCH added: bytes counted, and the digest the client's checksum is compared with."""

    def __init__(self, algorithm: str | None) -> None:
        self.size = 0
        self.digest = hashlib.new(algorithm) if algorithm else None


def upload_resumable_append(
    *,
    upload: Upload,
    offset: int,
    chunks: Iterable[bytes],
    length: int | None = None,
    checksum: tuple[str, bytes] | None = None,
) -> Upload:
    """Append one request's bytes at `offset` (tus PATCH); the last byte turns the upload into a normal one.

    One request at a time writes to an upload (an exclusive lock on its partial file; another gets 423). Nothing
    of a request that fails (too many bytes, a checksum that does not match, bytes that are not FASTQ) is kept:
    the file is cut back to `offset`. The bytes are on disk (fsync) before the new offset is recorded, so the
    offset never claims more than the file holds.
    """
    row = _current(upload)
    if row.ready:
        raise Conflict(f"The upload is complete: all {row.size} bytes were received")
    if offset != row.offset:
        raise Conflict(f"Upload-Offset {offset} does not match the {row.offset} bytes received so far")
    if length is not None and offset + length > row.size:
        raise PayloadTooLarge(f"{row.name} is {row.size} bytes: {offset + length - row.size} bytes too many were sent")
    path = resumable_path(row.resume_token or "")
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        uploads_mark_removed(upload_ids=[row.pk], delete_files=True)
        raise NotFound("The partial file of this upload is gone: start the upload again") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked("Another request is writing to this upload: try again in a moment") from None
        row = _current(row)  # under the lock: the offset another request may just have recorded
        if row.ready or offset != row.offset:
            raise Conflict(f"Upload-Offset {offset} does not match the {row.offset} bytes received so far")
        appended = _Appended(checksum[0] if checksum else None)
        try:
            handle.truncate(offset)  # bytes past the offset are a failed request's: never part of the file
            handle.seek(offset)
            for chunk in chunks:
                appended.size += len(chunk)
                if offset + appended.size > row.size:
                    raise PayloadTooLarge(f"{row.name} is {row.size} bytes: more bytes were sent")
                if appended.digest is not None:
                    appended.digest.update(chunk)
                handle.write(chunk)
            if checksum and appended.digest is not None and appended.digest.digest() != checksum[1]:
                raise ChecksumMismatch(f"The {checksum[0]} checksum of the {appended.size} bytes sent does not match")
            handle.flush()
            os.fsync(handle.fileno())
            new_offset = offset + appended.size
            if row.type == UploadType.READS and offset < READS_HEAD_BYTES:
                _check_reads_head(row, handle, new_offset)
        except NotAcceptable as error:
            handle.truncate(offset)
            uploads_mark_removed(upload_ids=[row.pk], delete_files=True)
            raise BadRequest(str(error)) from None
        except BaseException:
            handle.truncate(offset)
            raise
        Upload.objects.filter(pk=row.pk, offset=offset, ready=False).update(
            offset=new_offset, expires_at=_resumable_expiry()
        )
        if new_offset == row.size:
            return _resumable_finish(row, path)
    return _current(row)


def _check_reads_head(row: Upload, handle: Any, received: int) -> None:
    """Refuse a reads upload whose start is not FASTQ, once enough of it (or all of it) has arrived."""
    if received < READS_HEAD_BYTES and received < row.size:
        return
    handle.seek(0)
    check_reads_start(row.name, handle.read(READS_HEAD_BYTES))


def _resumable_finish(row: Upload, path: Path) -> Upload:
    """Every byte is here: hash the file, rename it into the files folder and make the row a normal upload.

    As `upload_create` does, the rename happens in the transaction that marks the row ready: if the commit fails,
    the file goes back to its partial name and the client may send the last request again.
    """
    sha256 = sha256_of(path)
    now = timezone.now()
    lifetime = settings.VIRTOOL_UPLOAD_LIFETIME_DAYS
    name_on_disk = f"{row.pk}-{row.name}"
    final = upload_path(name_on_disk)
    try:
        with transaction.atomic():
            Upload.objects.filter(pk=row.pk, ready=False).update(
                ready=True,
                name_on_disk=name_on_disk,
                sha256=sha256,
                offset=row.size,
                uploaded_at=now,
                expires_at=now + timedelta(days=lifetime) if lifetime else None,
            )
            # Announced as new once it is complete, as a POST /uploads is (the unfinished row never was).
            events.dispatch(interface="uploads", operation="insert", ids=[row.pk])
            os.replace(path, final)
    except BaseException:
        if final.exists() and not path.exists():
            with contextlib.suppress(OSError):
                os.replace(final, path)
        raise
    return _current(row)


def upload_resumable_terminate(*, upload: Upload) -> None:
    """End an unfinished resumable upload (tus termination): its row and its bytes are deleted."""
    row = _current(upload)
    if row.ready:
        raise Conflict("The upload is complete: remove it with DELETE /api/uploads/{id} (permission remove_file)")
    path = resumable_path(row.resume_token or "")
    with contextlib.ExitStack() as stack:
        with contextlib.suppress(FileNotFoundError):
            handle = stack.enter_context(path.open("rb"))
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Locked("Another request is writing to this upload: try again in a moment") from None
        uploads_mark_removed(upload_ids=[row.pk], delete_files=True)


def files_reconcile() -> Reconciled:
    """Make the files folder and the rows agree: rows without a file are marked removed; files without a row
    are reported (never adopted). Partial uploads older than a day (a crashed server's) are deleted.

    The rows are read before the folder is listed: a row committed before the read had its file in place before
    the listing, so a missing file is really missing. Files seemingly without a row are checked again after the
    listing, for rows committed in between.
    """
    folder = files_path()
    live = dict(Upload.objects.filter(removed=False).exclude(name_on_disk="").values_list("name_on_disk", "pk"))
    now = timezone.now().timestamp()
    on_disk: dict[str, os.stat_result] = {}
    for entry in os.scandir(folder):
        try:
            if entry.is_file():
                on_disk[entry.name] = entry.stat()
        except FileNotFoundError:  # renamed or discarded while we looked
            continue
    missing = [pk for name, pk in live.items() if name not in on_disk]
    removed = uploads_mark_removed(upload_ids=missing, delete_files=False)
    for name, stat in on_disk.items():
        if name.startswith(PARTIAL_PREFIX) and stat.st_mtime < now - 86400:
            (folder / name).unlink(missing_ok=True)
    candidates = [name for name in on_disk if name not in live and not name.startswith(PARTIAL_PREFIX)]
    adopted_since = set(
        Upload.objects.filter(removed=False, name_on_disk__in=candidates).values_list("name_on_disk", flat=True)
    )
    unreferenced = [name for name in candidates if name not in adopted_since]
    _resumable_reconcile(folder / RESUMABLE_FOLDER, now)
    for name in unreferenced:
        file_report(
            kind=FileReport.Kind.UNREFERENCED,
            path=folder / name,
            detail="No upload refers to this file; it was left in place.",
        )
    FileReport.objects.filter(kind=FileReport.Kind.UNREFERENCED).exclude(
        path__in=[str(folder / name) for name in unreferenced]
    ).delete()
    stale_reports = [
        r.pk for r in FileReport.objects.filter(kind=FileReport.Kind.NOT_FASTQ) if not Path(r.path).exists()
    ]
    FileReport.objects.filter(pk__in=stale_reports).delete()  # the file was taken away: nothing to look at
    return {"removed": removed, "unreferenced": unreferenced}


def _resumable_reconcile(folder: Path, now: float) -> None:
    """Delete partial files of resumable uploads that no unfinished upload owns (removed, or left by a crash).

    Only files untouched for an hour: a file just created may belong to a row whose transaction has not committed.
    """
    if not folder.is_dir():
        return
    unfinished = Upload.objects.filter(removed=False, ready=False).exclude(resume_token=None)
    owned = set(unfinished.values_list("resume_token", flat=True))
    for entry in os.scandir(folder):
        with contextlib.suppress(FileNotFoundError):
            if entry.name not in owned and entry.stat().st_mtime < now - 3600:
                os.unlink(entry.path)


def file_report(*, kind: str, path: Path, detail: str) -> FileReport:
    """Record (once) and log something an administrator should look at."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    report, created = FileReport.objects.update_or_create(
        kind=kind, path=str(path), defaults={"size": size, "detail": detail}
    )
    if created:
        log.warning("%s: %s (%s)", FileReport.Kind(kind).label, path, detail)
    return report


@transaction.atomic
def uploads_delete(*, uploads: list[Upload]) -> None:
    """Delete upload rows for good (administrators, in the Django admin), and their files."""
    paths = [upload_path(upload.name_on_disk) for upload in uploads if upload.name_on_disk]
    Upload.objects.filter(pk__in=[upload.pk for upload in uploads]).delete()

    def remove_files() -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    transaction.on_commit(remove_files)
