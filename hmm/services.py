"""Writes for HMMs: install HMM data (profiles and annotations, pressed once) and purge it; keep the newest release
of the `hmm_slug` repository known (the release refresher) and install it."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from django.db import connection, transaction
from django.utils import timezone
from pyhmmer.errors import AlphabetMismatch
from pyhmmer.plan7 import HMM as ProfileHMM
from pyhmmer.plan7 import HMMFile

from core import events, seqio
from core.errors import BadRequest, Conflict, Problem
from core.github import GitHubError, is_newer, now_iso, release_get
from core.ids import new_id
from core.refresh import run_once
from core.selectors import settings_get
from files.constants import UploadType
from files.models import Upload
from files.services import uploads_claim, uploads_mark_removed, uploads_release
from files.storage import upload_path
from hmm.archive import archive_extract, archive_inspect, folder_sources
from hmm.constants import ANNOTATIONS, INSTALL_WORKFLOW, PROFILE_PREFIX, PROFILES, RELEASE_REFRESHER
from hmm.errors import HMMFileError
from hmm.models import HMM, HMMStatus
from hmm.selectors import CLUSTER_MAX, hmm_install_job, hmm_root, hmm_status_get, install_folder
from jobs.services import job_attach, job_refuse_delete
from users.models import User

__all__ = [
    "HMMData",
    "HMMFileError",
    "hmm_files_activate",
    "hmm_files_check",
    "hmm_files_press",
    "hmm_install_discard",
    "hmm_install_files",
    "hmm_install_finish",
    "hmm_install_path",
    "hmm_install_release",
    "hmm_install_upload",
    "hmm_purge",
    "hmm_release_check",
    "hmm_release_refresh",
    "read_annotations",
    "read_profiles",
]

log = logging.getLogger(__name__)

MAX_PROBLEMS = 200
# Annotation messages per dispatch: each batch is read and sent on its own after the install commits.
DISPATCH_BATCH = 200
# Progress within a step, as a fraction; and of a named stage (the command's progress bar).
Fraction = Callable[[float], None]
StageProgress = Callable[[str, float], None]
_NUMBERS = {"count": int, "length": int, "mean_entropy": float, "total_entropy": float}
_READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    UnicodeDecodeError,
    ValueError,
    *seqio.DECOMPRESSION_ERRORS,
)


def _problem(loc: list[str | int], msg: str) -> Problem:
    return {"loc": loc, "msg": msg}


def read_annotations(path: Path) -> list[dict[str, Any]]:
    """Read and check `annotations.json.gz` (gzip or plain JSON): a list of cluster annotations."""
    try:
        with seqio.open_read(path, threads=0) as handle:
            data = json.loads(handle.read().decode("utf-8"))
    except _READ_ERRORS as error:
        raise HMMFileError(f"The annotations file could not be read as (gzip) JSON: {error}") from None
    if not isinstance(data, list):
        raise HMMFileError("The annotations file must hold a list of cluster annotations")
    problems: list[Problem] = []
    seen: set[int] = set()
    ids: set[str] = set()
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            problems.append(_problem([index], "must be an object"))
            continue
        cluster = record.get("cluster")
        if not isinstance(cluster, int) or isinstance(cluster, bool) or not 0 <= cluster <= CLUSTER_MAX:
            problems.append(_problem([index, "cluster"], "must be a whole number"))
        elif cluster in seen:
            problems.append(_problem([index, "cluster"], f"cluster {cluster} is annotated twice"))
        else:
            seen.add(cluster)
        problems.extend(_record_problems(index, record, ids))
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        count = len(problems)
        raise HMMFileError(
            f"The annotations file has {count}{'+' if count >= MAX_PROBLEMS else ''} problem"
            f"{'s' if count != 1 else ''}; nothing was installed",
            errors=problems,
        )
    return data


def _is_number(value: Any, *, whole: bool) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return not whole or (value == int(value) and 0 <= value <= CLUSTER_MAX)


def _record_problems(index: int, record: dict[str, Any], ids: set[str]) -> list[Problem]:
    """What is wrong with one annotation record besides its cluster; `ids` collects the ids seen so far."""
    problems: list[Problem] = []
    key_id = "id" if "id" in record else "_id"
    record_id = record.get(key_id)
    if record_id is not None:
        # Annotations keep their ids (NuVs results name their hits by them): they must fit and be unique.
        if not isinstance(record_id, str) or not 0 < len(record_id) <= 8:
            problems.append(_problem([index, key_id], "must be an id of 1 to 8 characters"))
        elif record_id in ids:
            problems.append(_problem([index, key_id], f"id {record_id} is used twice"))
        else:
            ids.add(record_id)
    for key, kind in _NUMBERS.items():
        if not _is_number(record.get(key, 0), whole=kind is int):
            problems.append(_problem([index, key], f"must be a {'whole ' if kind is int else ''}number"))
    names = record.get("names", [])
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        problems.append(_problem([index, "names"], "must be a list of names"))
    for key in ("families", "genera"):
        counts = record.get(key, {})
        if not isinstance(counts, dict) or not all(_is_number(value, whole=True) for value in counts.values()):
            problems.append(_problem([index, key], "must be an object of counts"))
    entries = record.get("entries", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        problems.append(_problem([index, "entries"], "must be a list"))
    return problems


def read_profiles(path: Path) -> list[ProfileHMM[Any]]:
    """Read the profile HMMs (HMMER3 text format), each named `vFam_<cluster>`."""
    try:
        with HMMFile(path) as handle:
            profiles = list(handle)
    except (OSError, EOFError, ValueError, AlphabetMismatch) as error:
        raise HMMFileError(f"The profiles file could not be read as HMMER3 profiles: {error}") from None
    if not profiles:
        raise HMMFileError("The profiles file holds no profile HMM")
    bad = [profile.name for profile in profiles if _cluster_of(profile) is None]
    if bad:
        raise HMMFileError(f"Profiles must be named {PROFILE_PREFIX}<cluster>: {', '.join(map(str, bad[:10]))}")
    clusters = [_cluster_of(profile) for profile in profiles]
    twice = sorted({cluster for cluster in clusters if clusters.count(cluster) > 1 and cluster is not None})
    if twice:
        raise HMMFileError(
            "The profiles file holds a profile more than once: " + ", ".join(f"{PROFILE_PREFIX}{c}" for c in twice[:10])
        )
    return profiles


def _cluster_of(profile: ProfileHMM[Any]) -> int | None:
    name = profile.name if isinstance(profile.name, str) else bytes(profile.name or b"").decode()
    suffix = name.removeprefix(PROFILE_PREFIX)
    if not name.startswith(PROFILE_PREFIX) or not suffix.isdigit() or int(suffix) > CLUSTER_MAX:
        return None
    return int(suffix)


@dataclass(frozen=True)
class HMMData:
    """Checked HMM data: the annotation records and the profiles they annotate."""

    records: list[dict[str, Any]]
    profiles: list[ProfileHMM[Any]]


def hmm_files_check(*, profiles: Path, annotations: Path, progress: Fraction | None = None) -> HMMData:
    """Read and check the annotations and the profiles, and that every profile is annotated."""
    report = progress or (lambda fraction: None)
    records = read_annotations(annotations)
    report(0.5)
    hmms = read_profiles(profiles)
    annotated = {record["cluster"] for record in records}
    unannotated = sorted(
        cluster for hmm in hmms if (cluster := _cluster_of(hmm)) is not None and cluster not in annotated
    )
    if unannotated:
        raise HMMFileError(
            f"{len(unannotated)} profile{'s have' if len(unannotated) != 1 else ' has'} no annotation: "
            + ", ".join(f"{PROFILE_PREFIX}{cluster}" for cluster in unannotated[:10])
        )
    report(1.0)
    return HMMData(records=records, profiles=hmms)


def hmm_files_press(*, data: HMMData, profiles: Path, folder: str) -> Path:
    """Put the profiles, their pressed database and the annotations in a new folder of `hmm_root()`.

    The folder is removed again when anything fails (a cancellation too), so a failed install leaves nothing.
    """
    target = hmm_root() / folder
    target.mkdir(parents=True)
    try:
        shutil.copyfile(profiles, target / PROFILES)
        with seqio.open_gzip_write(target / ANNOTATIONS, threads=0) as handle:
            handle.write(json.dumps(data.records).encode())
        _press(data.profiles, target / PROFILES)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def hmm_files_activate(
    *,
    data: HMMData,
    folder: str,
    user: User | None,
    installed: dict[str, Any],
    job_id: str | None = None,
) -> int:
    """Make pressed data the installed HMMs: swap the annotations in one transaction, then remove the old folder.

    A NuVs analysis that has already opened the old files reads them to the end. Returns how many profiles there are.
    """
    try:
        old = _replace(records=data.records, folder=folder, user=user, installed=installed, job_id=job_id)
    except BaseException:
        shutil.rmtree(hmm_root() / folder, ignore_errors=True)
        raise
    if old:
        # After the commit (at once when there is no outer transaction): until then the old data is the installed one.
        transaction.on_commit(lambda: shutil.rmtree(hmm_root() / old, ignore_errors=True))
    log.info("installed %d HMM profiles in %s", len(data.profiles), hmm_root() / folder)
    return len(data.profiles)


def hmm_install_files(
    *,
    profiles: Path,
    annotations: Path,
    user: User | None,
    installed: dict[str, Any] | None = None,
    progress: Fraction | None = None,
    folder: str | None = None,
    job_id: str | None = None,
) -> int:
    """Install HMM data from a profiles file and its annotations; returns how many profiles were installed.

    Everything is checked before anything changes: the annotations, the profiles, and that every profile is
    annotated. The profiles are pressed once here (pyhmmer's `hmmpress`), so that no analysis presses them. The
    new data gets a folder of its own (`folder`, else a new name); the annotations replace the old ones in one
    transaction, after which the old folder goes. `progress` may raise to stop the install: it is never called
    once the swap has begun.
    """
    report = progress or (lambda fraction: None)
    data = hmm_files_check(profiles=profiles, annotations=annotations, progress=lambda fraction: report(0.4 * fraction))
    name = folder or f"{timezone.now():%Y%m%d%H%M%S}-{new_id()}"
    target = hmm_files_press(data=data, profiles=profiles, folder=name)
    try:
        report(0.8)
        report(1.0)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return hmm_files_activate(data=data, folder=name, user=user, installed=installed or {}, job_id=job_id)


def _press(hmms: list[ProfileHMM[Any]], target: Path) -> None:
    """Write the pressed database beside `target` (target.h3m, .h3i, .h3f, .h3p), as `hmmpress target` does."""
    from pyhmmer.hmmer import hmmpress

    hmmpress(hmms, target)


def _search_text(record: dict[str, Any]) -> str:
    return "\n".join([*record.get("names", [])[:3], *record.get("families", {})])


def _annotation(record: dict[str, Any]) -> HMM:
    return HMM(
        id=record.get("id") or record.get("_id") or new_id(),
        cluster=record["cluster"],
        count=int(record.get("count", 0)),
        names=list(record.get("names", []))[:3],
        families=dict(record.get("families", {})),
        genera=dict(record.get("genera", {})),
        entries=list(record.get("entries", [])),
        length=int(record.get("length", 0)),
        mean_entropy=float(record.get("mean_entropy", 0.0)),
        total_entropy=float(record.get("total_entropy", 0.0)),
        hidden=bool(record.get("hidden", False)),
        search=_search_text(record),
    )


def _delete_all_annotations() -> list[str]:
    """Delete every annotation with one statement; returns their ids.

    `QuerySet.delete()` would load every row (entries and all) to send a signal for each: the websocket message
    goes out once, with all the ids, instead.
    """
    ids = list(HMM.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(HMM._meta.db_table)}")
    return ids


def _dispatch_annotations(*, removed: list[str], inserted: list[str], updated: list[str]) -> None:
    """Tell browsers which annotations went, came and changed (bulk writes send no signals)."""
    if removed:
        events.dispatch(interface="hmm", operation="delete", ids=removed, audience=[events.GROUP_ALL])
    changes: tuple[tuple[events.Operation, list[str]], ...] = (("insert", inserted), ("update", updated))
    for operation, ids in changes:
        # One message per annotation, sent in batches so that no single send of a large release takes long.
        for start in range(0, len(ids), DISPATCH_BATCH):
            events.dispatch(interface="hmm", operation=operation, ids=ids[start : start + DISPATCH_BATCH])


def _update_entry(*, installed: dict[str, Any], user: User | None, ready: bool, job_id: str | None) -> dict[str, Any]:
    """Virtool's update document: what is (being) installed, when, by whom, and whether it is ready."""
    return {
        **{key: value for key, value in installed.items() if key != "folder"},
        "created_at": _now(),
        "ready": ready,
        "user": {"id": user.pk, "handle": user.handle} if user is not None else None,
        "job": {"id": job_id} if job_id else None,
    }


def _now() -> str:
    return timezone.now().isoformat().replace("+00:00", "Z")


@transaction.atomic
def _replace(
    *,
    records: list[dict[str, Any]],
    folder: str,
    user: User | None,
    installed: dict[str, Any],
    job_id: str | None,
) -> str | None:
    """Swap the annotations and point the status at the new folder; returns the old folder (to remove)."""
    status = HMMStatus.objects.select_for_update().get(pk=hmm_status_get().pk)
    old = (status.installed or {}).get("folder")
    before = set(_delete_all_annotations())
    annotations = [_annotation(record) for record in records]
    HMM.objects.bulk_create(annotations, batch_size=500)
    after = [annotation.pk for annotation in annotations]
    update = _update_entry(installed=installed, user=user, ready=True, job_id=job_id)
    status.installed = {**update, "folder": folder, "count": len(records)}
    pending = [entry for entry in status.updates if job_id and (entry.get("job") or {}).get("id") == job_id]
    status.updates = (
        [({**entry, "ready": True} if entry in pending else entry) for entry in status.updates]
        if pending
        else [*status.updates, update]
    )
    status.errors = []
    if status.release:
        status.release = {**status.release, "newer": release_newer(release=status.release, installed=status.installed)}
    status.updated_at = timezone.now()
    status.save()
    _dispatch_annotations(
        removed=sorted(before - set(after)),
        inserted=[pk for pk in after if pk not in before],
        updated=[pk for pk in after if pk in before],
    )
    return old if old != folder else None


@transaction.atomic
def hmm_purge() -> int:
    """Remove the installed HMM data: annotations, files, the installed record and its updates; returns how many
    annotations went. Refused (409) while HMMs are being installed."""
    status = HMMStatus.objects.select_for_update().get(pk=hmm_status_get().pk)
    job_refuse_delete(instance=status, busy="HMMs cannot be purged while they are being installed")
    folder = (status.installed or {}).get("folder")
    removed = _delete_all_annotations()
    status.installed = None
    status.updates = []
    status.job = None
    if status.release:
        status.release = {**status.release, "newer": True}  # nothing is installed: any release is newer
    status.updated_at = timezone.now()
    status.save()
    _dispatch_annotations(removed=removed, inserted=[], updated=[])
    if folder:
        transaction.on_commit(lambda: shutil.rmtree(hmm_root() / folder, ignore_errors=True))
    return len(removed)


@transaction.atomic
def hmm_install_upload(*, user: User, upload_id: int) -> HMMStatus:
    """Start installing HMM data from an uploaded release archive: the `install_hmms` job.

    The archive is checked now (it must hold the two files), so a wrong file changes nothing; refused (409) while
    another install runs. The upload is reserved for the job, and used up once the data is installed.
    """
    status = HMMStatus.objects.select_for_update().get(pk=hmm_status_get().pk)
    if hmm_install_job(status=status) is not None:
        raise Conflict("HMMs are already being installed: wait for that install to finish")
    [upload] = uploads_claim(keys=[upload_id], upload_type=UploadType.HMM, purpose="be installed as HMMs")
    archive_inspect(path=upload_path(upload.name_on_disk), label=upload.name)
    installed = {"name": upload.name, "filename": upload.name, "size": upload.size, "source": "upload"}
    job = job_attach(
        instance=status,
        workflow=INSTALL_WORKFLOW,
        args={"upload_id": upload.pk, "name": upload.name, "size": upload.size},
        user=user,
    )
    status.updates = [*status.updates, _update_entry(installed=installed, user=user, ready=False, job_id=job.pk)]
    status.updated_at = timezone.now()
    status.save(update_fields=["updates", "updated_at"])
    return status


def hmm_install_finish(*, upload_id: int) -> None:
    """An install from an upload succeeded: the upload is used up (its file goes)."""
    uploads_mark_removed(upload_ids=[upload_id], delete_files=True)


def hmm_install_discard(*, job_id: str, upload_id: int | None) -> None:
    """An install job failed, was cancelled or died: remove its partial files and pending update, give the upload
    back; the HMMs installed before stay as they were. Safe to call more than once, and after a success."""
    with transaction.atomic():
        status = HMMStatus.objects.select_for_update().get(pk=hmm_status_get().pk)
        updates = [
            entry for entry in status.updates if entry.get("ready") or (entry.get("job") or {}).get("id") != job_id
        ]
        if updates != status.updates:
            status.updates = updates
            status.updated_at = timezone.now()
            status.save(update_fields=["updates", "updated_at"])
        if upload_id is not None and Upload.objects.filter(pk=upload_id, removed=False, reserved=True).exists():
            uploads_release(upload_ids=[upload_id])
        installed_folder = (status.installed or {}).get("folder")
    folder = install_folder(job_id)
    if folder != installed_folder:
        shutil.rmtree(hmm_root() / folder, ignore_errors=True)


def hmm_install_path(*, path: Path, user: User | None, progress: StageProgress | None = None) -> int:
    """Install HMM data from a folder (profiles.hmm and annotations.json[.gz]) or a release archive, in this process.

    Refused while an install job runs. The files are taken out into a staging folder beside the installed data
    (the same disk), which goes again whatever happens. Returns how many profiles were installed.
    """
    job = hmm_install_job()
    if job is not None:
        raise Conflict(f"HMMs are being installed by job {job.pk}: wait for it to finish")
    report = progress or (lambda stage, fraction: None)
    staging = hmm_root() / f".staging-{new_id()}"
    try:
        if path.is_dir():
            sources = folder_sources(
                path=path, target=staging, progress=lambda done, total: report("Decompressing", done / total)
            )
            installed: dict[str, Any] = {"name": path.name, "source": "folder"}
        else:
            sources = archive_extract(
                path=path,
                label=path.name,
                target=staging,
                progress=lambda done, total: report("Decompressing", done / total),
            )
            installed = {"name": path.name, "filename": path.name, "size": path.stat().st_size, "source": "archive"}
        return hmm_install_files(
            profiles=sources.profiles,
            annotations=sources.annotations,
            user=user,
            installed=installed,
            progress=lambda fraction: report("Installing", fraction),
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --- Releases of the `hmm_slug` repository ------------------------------------------------------------------------

# What an install from a release keeps of it (Virtool's `UPDATE_COPY_KEYS`), and what its job needs besides.
RELEASE_COPY_KEYS = ("body", "filename", "html_url", "id", "name", "newer", "published_at", "size")
NO_TARGET_RELEASE = "Target release does not exist"


def release_newer(*, release: dict[str, Any], installed: dict[str, Any] | None) -> bool:
    """Whether `release` is newer than the installed data: by version against an installed release, always when
    nothing is installed or what is installed came from elsewhere (an upload, a folder: its version is unknown)."""
    if not installed or installed.get("source") != "release":
        return True
    return is_newer(release.get("name"), installed.get("name"))


def _slug_of(release: dict[str, Any] | None) -> str | None:
    """The repository a stored release came from, read from its page address (github.com/<slug>/releases/...)."""
    url = (release or {}).get("html_url") or ""
    if "/releases/" not in url:
        return None
    parts = url.split("/releases/", 1)[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else None


def hmm_release_refresh() -> dict[str, Any] | None:
    """Ask GitHub for the latest release of the `hmm_slug` repository and record it in the HMM status.

    Conditional on the stored release's ETag: a 304 only renews `retrieved_at`. A failure (GitHub unreachable, rate
    limited, no such repository) is written into the status's `errors` and never raised; the release known before is
    kept. Success clears the errors. Returns the release now recorded (None when none is known).
    """
    slug = settings_get().hmm_slug
    stored = hmm_status_get().release
    etag = stored.get("etag") if stored and _slug_of(stored) == slug else None
    try:
        fetched = release_get(slug, etag=etag)
    except GitHubError as error:
        log.warning("HMM release check of %s failed: %s", slug, error)
        return _release_record(release=None, error=f"Could not check for a new HMM release of {slug}: {error}")
    return _release_record(release=fetched, error=None)


def hmm_release_check() -> dict[str, Any] | None:
    """Check for a new release now (`GET /hmms/status/release`), one check at a time with the refresher; the stored
    release when another worker is checking at this moment."""
    try:
        release = run_once(RELEASE_REFRESHER, hmm_release_refresh)
    except redis.exceptions.RedisError:
        # Without Redis there is no lock to share: check anyway (two checks at once cost a 304 at worst).
        release = hmm_release_refresh()
    return release if release is not None else hmm_status_get().release


@transaction.atomic
def _release_record(*, release: dict[str, Any] | None, error: str | None) -> dict[str, Any] | None:
    """Store a fetched release (None: unchanged since the stored one, or a failure) and the check's outcome."""
    status = HMMStatus.objects.select_for_update().get(pk=hmm_status_get().pk)
    if error is not None:
        status.errors = [error]
    else:
        current = release if release is not None else status.release
        if current is not None:
            status.release = {
                **current,
                "newer": release_newer(release=current, installed=status.installed),
                "retrieved_at": now_iso(),
            }
        status.errors = []
    status.updated_at = timezone.now()
    status.save(update_fields=["release", "errors", "updated_at"])
    return status.release


def hmm_install_release(*, user: User) -> HMMStatus:
    """Start installing the newest known release of the `hmm_slug` repository: the `install_hmms` job, which
    downloads the release's archive first and then installs it as an uploaded one.

    With no release known yet, GitHub is asked first (outside any transaction); 400 "Target release does not exist"
    when it still is not known. Refused (409) while another install runs.
    """
    if hmm_status_get().release is None:
        hmm_release_refresh()
    return _install_release_start(user=user)


@transaction.atomic
def _install_release_start(*, user: User) -> HMMStatus:
    status = HMMStatus.objects.select_for_update().get(pk=hmm_status_get().pk)
    if hmm_install_job(status=status) is not None:
        raise Conflict("HMMs are already being installed: wait for that install to finish")
    release = status.release
    if not release or not release.get("download_url"):
        raise BadRequest(NO_TARGET_RELEASE)
    installed = {key: release.get(key) for key in RELEASE_COPY_KEYS} | {"source": "release"}
    job = job_attach(
        instance=status,
        workflow=INSTALL_WORKFLOW,
        args={
            "release": {**installed, "download_url": release["download_url"]},
            "name": release.get("name") or release.get("filename"),
            "size": release.get("size"),
        },
        user=user,
    )
    status.updates = [*status.updates, _update_entry(installed=installed, user=user, ready=False, job_id=job.pk)]
    status.updated_at = timezone.now()
    status.save(update_fields=["updates", "updated_at"])
    return status
