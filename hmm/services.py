"""Writes for HMMs: install HMM data (profiles and annotations, pressed once) and purge it."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from pyhmmer.errors import AlphabetMismatch
from pyhmmer.plan7 import HMM as ProfileHMM
from pyhmmer.plan7 import HMMFile

from core import seqio
from core.errors import BadRequest, Problem
from core.ids import new_id
from hmm.constants import ANNOTATIONS, PROFILE_PREFIX, PROFILES
from hmm.models import HMM, HMMStatus
from hmm.selectors import hmm_root, hmm_status_get
from users.models import User

log = logging.getLogger(__name__)

MAX_PROBLEMS = 200
_NUMBERS = {"count": int, "length": int, "mean_entropy": float, "total_entropy": float}
_READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    UnicodeDecodeError,
    ValueError,
    *seqio.DECOMPRESSION_ERRORS,
)


class HMMFileError(BadRequest):
    """The files cannot become installed HMM data; `errors` lists every problem found."""

    error_id = "invalid_input"


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
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            problems.append(_problem([index], "must be an object"))
            continue
        cluster = record.get("cluster")
        if not isinstance(cluster, int) or isinstance(cluster, bool) or cluster < 0:
            problems.append(_problem([index, "cluster"], "must be a whole number"))
        elif cluster in seen:
            problems.append(_problem([index, "cluster"], f"cluster {cluster} is annotated twice"))
        else:
            seen.add(cluster)
        for key, kind in _NUMBERS.items():
            value = record.get(key, 0)
            if not isinstance(value, int | float) or isinstance(value, bool) or (kind is int and value != int(value)):
                problems.append(_problem([index, key], f"must be a {'whole ' if kind is int else ''}number"))
        if not isinstance(record.get("names", []), list):
            problems.append(_problem([index, "names"], "must be a list of names"))
        for key in ("families", "genera"):
            if not isinstance(record.get(key, {}), dict):
                problems.append(_problem([index, key], "must be an object of counts"))
        if not isinstance(record.get("entries", []), list):
            problems.append(_problem([index, "entries"], "must be a list"))
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


def read_profiles(path: Path) -> list[ProfileHMM[Any]]:
    """Read the profile HMMs (HMMER3 text format), each named `vFam_<cluster>`."""
    try:
        with HMMFile(path) as handle:
            profiles = list(handle)
    except (OSError, EOFError, ValueError, AlphabetMismatch) as error:
        raise HMMFileError(f"The profiles file could not be read as HMMER3 profiles: {error}") from None
    if not profiles:
        raise HMMFileError("The profiles file holds no profile HMM")
    bad = [profile.name for profile in profiles if not _cluster_of(profile)]
    if bad:
        raise HMMFileError(f"Profiles must be named {PROFILE_PREFIX}<cluster>: {', '.join(map(str, bad[:10]))}")
    return profiles


def _cluster_of(profile: ProfileHMM[Any]) -> int | None:
    name = profile.name if isinstance(profile.name, str) else bytes(profile.name or b"").decode()
    suffix = name.removeprefix(PROFILE_PREFIX)
    return int(suffix) if name.startswith(PROFILE_PREFIX) and suffix.isdigit() else None


def hmm_install_files(
    *,
    profiles: Path,
    annotations: Path,
    user: User | None,
    installed: dict[str, Any] | None = None,
    progress: Callable[[float], None] | None = None,
) -> int:
    """Install HMM data from a profiles file and its annotations; returns how many profiles were installed.

    Everything is checked before anything changes: the annotations, the profiles, and that every profile is
    annotated. The profiles are pressed once here (pyhmmer's `hmmpress`), so that no analysis presses them. The
    new data gets a folder of its own; the annotations replace the old ones in one transaction, after which the
    old folder goes. A NuVs analysis that has already opened the old files reads them to the end.
    """
    report = progress or (lambda fraction: None)
    records = read_annotations(annotations)
    report(0.2)
    hmms = read_profiles(profiles)
    report(0.4)
    annotated = {record["cluster"] for record in records}
    clusters = [_cluster_of(hmm) for hmm in hmms]
    unannotated = sorted(cluster for cluster in clusters if cluster is not None and cluster not in annotated)
    if unannotated:
        raise HMMFileError(
            f"{len(unannotated)} profile{'s have' if len(unannotated) != 1 else ' has'} no annotation: "
            + ", ".join(f"{PROFILE_PREFIX}{cluster}" for cluster in unannotated[:10])
        )
    folder_name = f"{timezone.now():%Y%m%d%H%M%S}-{new_id()}"
    folder = hmm_root() / folder_name
    folder.mkdir(parents=True)
    try:
        shutil.copyfile(profiles, folder / PROFILES)
        with seqio.open_gzip_write(folder / ANNOTATIONS, threads=0) as handle:
            handle.write(json.dumps(records).encode())
        _press(hmms, folder / PROFILES)
        report(0.8)
        old = _replace(records=records, folder=folder_name, user=user, installed=installed or {})
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    report(1.0)
    if old:
        transaction.on_commit(lambda: shutil.rmtree(hmm_root() / old, ignore_errors=True))
    log.info("installed %d HMM profiles in %s", len(hmms), folder)
    return len(hmms)


def _press(hmms: list[ProfileHMM[Any]], target: Path) -> None:
    """Write the pressed database beside `target` (target.h3m, .h3i, .h3f, .h3p), as `hmmpress target` does."""
    from pyhmmer.hmmer import hmmpress

    hmmpress(hmms, target)


@transaction.atomic
def _replace(*, records: list[dict[str, Any]], folder: str, user: User | None, installed: dict[str, Any]) -> str | None:
    """Swap the annotations and point the status at the new folder; returns the old folder (to remove)."""
    status = HMMStatus.objects.select_for_update().get(pk=hmm_status_get().pk)
    old = (status.installed or {}).get("folder")
    HMM.objects.all().delete()
    HMM.objects.bulk_create(
        [
            HMM(
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
            )
            for record in records
        ],
        batch_size=500,
    )
    status.installed = {
        **installed,
        "folder": folder,
        "ready": True,
        "user": {"id": user.pk, "handle": user.handle} if user is not None else None,
        "created_at": timezone.now().isoformat().replace("+00:00", "Z"),
        "count": len(records),
    }
    status.errors = []
    status.updated_at = timezone.now()
    status.save()
    return old if old != folder else None


@transaction.atomic
def hmm_purge() -> int:
    """Remove the installed HMM data: annotations, files and the installed record; returns how many went."""
    status = HMMStatus.objects.select_for_update().get(pk=hmm_status_get().pk)
    folder = (status.installed or {}).get("folder")
    removed, _ = HMM.objects.all().delete()
    status.installed = None
    status.updated_at = timezone.now()
    status.save()
    if folder:
        transaction.on_commit(lambda: shutil.rmtree(hmm_root() / folder, ignore_errors=True))
    return removed
