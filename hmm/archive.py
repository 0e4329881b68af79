"""Finding HMM data in a release archive or a folder, and taking it out safely.

A release archive (Virtool's `vthmm.tar.gz`) is a tar archive, usually gzipped, holding one folder (`hmm/`) with
`profiles.hmm` and `annotations.json`. Any folder name is accepted, or none, and `profiles.hmm.gz` or
`annotations.json.gz` too. Only those two members are ever read out of an archive, each into a path of our own
choosing, so no member name can place a file anywhere else; links in their place, unsafe member names anywhere,
and files larger than `VIRTOOL_HMM_MAX_SIZE` (counted as they are decompressed) are refused.
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings

from hmm.constants import ANNOTATION_NAMES, ARCHIVE_MAX_MEMBERS, PROFILE_NAMES, PROFILES
from hmm.errors import HMMFileError

CHUNK = 1024 * 1024
# What a damaged or foreign file raises while tarfile and gzip read it.
_READ_ERRORS: tuple[type[BaseException], ...] = (tarfile.TarError, EOFError, OSError, zlib.error)
NOT_AN_ARCHIVE = (
    "is not a readable tar archive. Upload Virtool's HMM release archive (vthmm.tar.gz), which holds "
    "profiles.hmm and annotations.json"
)

Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class SourceFiles:
    """The profiles (HMMER3 text) and annotations (JSON, gzip or not) to install."""

    profiles: Path
    annotations: Path


@dataclass(frozen=True)
class ArchiveMembers:
    """The names of the two members an archive's HMM data is read from."""

    profiles: str
    annotations: str


def _limit() -> int:
    return int(settings.VIRTOOL_HMM_MAX_SIZE)


def _too_large(name: str) -> HMMFileError:
    return HMMFileError(
        f"{name} is larger than the {_limit()} bytes this server accepts for HMM data (VIRTOOL_HMM_MAX_SIZE)"
    )


def _safe_parts(name: str) -> tuple[str, ...]:
    """The parts of a member name, refusing names that point outside the archive's own folder."""
    path = PurePosixPath(name.replace("\\", "/"))
    parts = tuple(part for part in path.parts if part not in ("", "."))
    if path.is_absolute() or ".." in parts or (parts and ":" in parts[0]):
        raise HMMFileError(f"The archive holds an unsafe path ({name!r}); nothing was installed")
    return parts


def _choose(found: dict[str, dict[str, list[tarfile.TarInfo]]]) -> tuple[tarfile.TarInfo, tarfile.TarInfo]:
    """The profiles and annotations members: one of each, from the folder holding both."""
    profiles, annotations = found["profiles"], found["annotations"]
    if not profiles:
        raise HMMFileError("The archive holds no profiles.hmm: it is not an HMM release archive")
    if not annotations:
        raise HMMFileError("The archive holds no annotations.json or annotations.json.gz: it is not an HMM release")
    both = sorted(set(profiles) & set(annotations))
    if len(both) == 1:
        folder = both[0]
        chosen_profiles, chosen_annotations = profiles[folder], annotations[folder]
    elif not both and len(profiles) == 1 and len(annotations) == 1:
        # One file of each, in different folders: still unambiguous.
        [chosen_profiles] = profiles.values()
        [chosen_annotations] = annotations.values()
    else:
        folders = both or sorted(set(profiles) | set(annotations))
        raise HMMFileError(
            "The archive holds HMM data in more than one folder ("
            + ", ".join(folder or "(top)" for folder in folders)
            + "): it must hold one profiles.hmm and its annotations"
        )
    return _preferred(chosen_profiles, PROFILE_NAMES), _preferred(chosen_annotations, ANNOTATION_NAMES)


def _preferred(members: list[tarfile.TarInfo], names: tuple[str, ...]) -> tarfile.TarInfo:
    return min(members, key=lambda member: names.index(PurePosixPath(member.name).name))


def _check_member(member: tarfile.TarInfo) -> None:
    label = PurePosixPath(member.name).name
    if member.issym() or member.islnk():
        raise HMMFileError(f"{label} in the archive is a link; the archive must hold the file itself")
    if not member.isreg():
        raise HMMFileError(f"{label} in the archive is not a regular file")
    if member.size == 0:
        raise HMMFileError(f"{label} in the archive is empty")
    if member.size > _limit():
        raise _too_large(label)


def _scan(tar: tarfile.TarFile) -> Iterator[tuple[str, tarfile.TarInfo]]:
    """Each member of interest as ("profiles" | "annotations", member); every member's name is checked."""
    count = 0
    for member in tar:
        count += 1
        if count > ARCHIVE_MAX_MEMBERS:
            raise HMMFileError(f"The archive holds more than {ARCHIVE_MAX_MEMBERS} files: it is not an HMM release")
        parts = _safe_parts(member.name)
        if not parts or member.isdir():
            continue
        if parts[-1] in PROFILE_NAMES:
            yield "profiles", member
        elif parts[-1] in ANNOTATION_NAMES:
            yield "annotations", member


def _folder(member: tarfile.TarInfo) -> str:
    return "/".join(_safe_parts(member.name)[:-1])


@contextmanager
def _open_tar(path: Path, label: str) -> Iterator[tuple[tarfile.TarFile, IO[bytes]]]:
    with path.open("rb") as raw:
        try:
            # Stream mode: one pass, members read in order; gzip, bzip2, xz or none, told by the content.
            with tarfile.open(fileobj=raw, mode="r|*") as tar:
                yield tar, raw
        except _READ_ERRORS as error:
            raise HMMFileError(f"{label} {NOT_AN_ARCHIVE} ({error})") from None


def archive_inspect(*, path: Path, label: str) -> ArchiveMembers:
    """Check that an archive holds HMM data (the two files, safely named, regular, within the size limit)."""
    found: dict[str, dict[str, list[tarfile.TarInfo]]] = {"profiles": {}, "annotations": {}}
    with _open_tar(path, label) as (tar, _):
        for kind, member in _scan(tar):
            found[kind].setdefault(_folder(member), []).append(member)
    profiles, annotations = _choose(found)
    _check_member(profiles)
    _check_member(annotations)
    return ArchiveMembers(profiles=profiles.name, annotations=annotations.name)


def archive_extract(*, path: Path, label: str, target: Path, progress: Progress | None = None) -> SourceFiles:
    """Read the profiles and annotations out of an archive into `target` (profiles decompressed when gzipped)."""
    members = archive_inspect(path=path, label=label)
    target.mkdir(parents=True, exist_ok=True)
    size = max(1, path.stat().st_size)
    report = progress or (lambda done, total: None)
    written: dict[str, Path] = {}
    with _open_tar(path, label) as (tar, raw):
        for _kind, member in _scan(tar):
            if member.name not in (members.profiles, members.annotations) or member.name in written:
                continue
            source = tar.extractfile(member)
            if source is None:  # _check_member made sure it is a regular file; a changed file is not
                raise HMMFileError(f"{label} changed while it was read")
            name = PurePosixPath(member.name).name
            if member.name == members.profiles:
                destination = target / PROFILES
                _copy(
                    source,
                    destination,
                    name=name,
                    gzipped=name.endswith(".gz"),
                    on_chunk=lambda: report(raw.tell(), size),
                )
            else:
                # Annotations keep their own name: reading them tells gzip from plain JSON by the content.
                destination = target / name
                _copy(source, destination, name=name, gzipped=False, on_chunk=lambda: report(raw.tell(), size))
            written[member.name] = destination
            if len(written) == 2:
                break
    report(size, size)
    return SourceFiles(profiles=written[members.profiles], annotations=written[members.annotations])


def _copy(source: IO[bytes], destination: Path, *, name: str, gzipped: bool, on_chunk: Callable[[], None]) -> None:
    """Copy a member's content, decompressing gzip, refusing past the size limit."""
    limit = _limit()
    copied = 0
    reader: IO[bytes] | gzip.GzipFile = gzip.GzipFile(fileobj=source) if gzipped else source
    with destination.open("wb") as out:
        while True:
            try:
                chunk = reader.read(CHUNK)
            except (EOFError, OSError, zlib.error) as error:  # a failing write (a full disk) is not caught here
                raise HMMFileError(
                    f"{name} could not be read to its end: it is damaged or cut short ({error})"
                ) from None
            if not chunk:
                return
            copied += len(chunk)
            if copied > limit:
                raise _too_large(name)
            out.write(chunk)
            on_chunk()


def folder_sources(*, path: Path, target: Path, progress: Progress | None = None) -> SourceFiles:
    """The HMM data in a folder, or in the one subfolder that holds it (a gzipped profiles file is decompressed)."""
    folders = [path, *sorted(child for child in path.iterdir() if child.is_dir())]
    holding = [(folder, files) for folder in folders if (files := _pair_in(folder)) is not None]
    if not holding:
        raise HMMFileError(f"{path} holds no profiles.hmm with annotations.json or annotations.json.gz")
    if holding[0][0] != path and len(holding) > 1:
        names = ", ".join(folder.name for folder, _ in holding)
        raise HMMFileError(f"{path} holds HMM data in more than one folder: {names}")
    profiles, annotations = holding[0][1]
    for file in (profiles, annotations):
        if file.stat().st_size > _limit():
            raise _too_large(file.name)
    if profiles.name.endswith(".gz"):
        target.mkdir(parents=True, exist_ok=True)
        size = max(1, profiles.stat().st_size)
        report = progress or (lambda done, total: None)
        with profiles.open("rb") as source:
            _copy(
                source,
                target / PROFILES,
                name=profiles.name,
                gzipped=True,
                on_chunk=lambda: report(source.tell(), size),
            )
        profiles = target / PROFILES
    return SourceFiles(profiles=profiles, annotations=annotations)


def _pair_in(folder: Path) -> tuple[Path, Path] | None:
    """The profiles and annotations files of a folder (preferred names first), when it holds both."""
    profiles = next((folder / name for name in PROFILE_NAMES if (folder / name).is_file()), None)
    annotations = next((folder / name for name in ANNOTATION_NAMES if (folder / name).is_file()), None)
    return (profiles, annotations) if profiles is not None and annotations is not None else None
