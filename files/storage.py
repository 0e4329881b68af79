"""Where uploads live on disk, and the streaming writer that fills them."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TypedDict

from django.conf import settings

from core import seqio
from files.constants import PARTIAL_PREFIX, RESUMABLE_FOLDER, UploadType

CHUNK = 1024 * 1024


def files_path() -> Path:
    """`<data_path>/files`, created on first use."""
    path = Path(settings.DATA_PATH) / "files"
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_path(name_on_disk: str) -> Path:
    """The file of an upload."""
    return files_path() / name_on_disk


def resumable_path(token: str) -> Path:
    """The partial file of an unfinished resumable upload: `<data_path>/files/.resumable/<token>`.

    A folder of its own, so that the file manager (which looks at the files folder's files only) leaves it alone,
    and on the same file system as the files folder, so that the finished file is renamed into place, not copied.
    """
    folder = files_path() / RESUMABLE_FOLDER
    folder.mkdir(exist_ok=True)
    return folder / token


MAX_NAME_BYTES = 200  # `<id>-<name>` must fit the file system's 255-byte limit on names


def safe_name(name: str) -> str:
    """An upload name without folders or control characters."""
    name = os.path.basename(name.replace("\\", "/")).strip()
    return "".join(character for character in name if character.isprintable())


def name_fits(name: str) -> bool:
    """Whether an upload name is short enough to be stored (counted in UTF-8 bytes, as file systems do)."""
    return len(name.encode()) <= MAX_NAME_BYTES


class NotAcceptable(Exception):
    """The content is not what the upload type requires."""


def check_reads_start(name: str, head: bytes) -> None:
    """Refuse a reads upload whose first bytes are not FASTQ (plain or gzip)."""
    try:
        text = seqio.decompressed_start(head)
    except seqio.SequenceFormatError:
        raise NotAcceptable(f"{name} is not a valid gzip file") from None
    if not text:
        return  # a gzip header alone: nothing decompressed yet, judge later
    if not text.lstrip(b"\r\n").startswith(b"@"):
        raise NotAcceptable(f"{name} is not a FASTQ file: a FASTQ file starts with a line beginning with '@'")


class UploadWriter:
    """Writes an upload under a temporary name in the files folder, hashing it and checking its start.

    Nothing becomes visible until `finish()`'s caller renames the file; `discard()` leaves no trace.
    """

    def __init__(self, *, name: str, upload_type: str, max_size: int) -> None:
        self.name = name
        self.upload_type = upload_type
        self.max_size = max_size
        self.path = files_path() / f"{PARTIAL_PREFIX}{uuid.uuid4().hex}"
        self.handle = self.path.open("wb")
        self.hash = hashlib.sha256()
        self.size = 0
        self.head = b""

    def write(self, chunk: bytes) -> None:
        """Append a chunk."""
        if not chunk:
            return
        self.size += len(chunk)
        if self.size > self.max_size:
            raise NotAcceptable(f"{self.name} is larger than the {self.max_size} bytes this server accepts")
        if self.upload_type == UploadType.READS and len(self.head) < 64 * 1024:
            self.head += chunk[: 64 * 1024 - len(self.head)]
            if len(self.head) >= 64 * 1024:
                check_reads_start(self.name, self.head)
        self.hash.update(chunk)
        self.handle.write(chunk)

    def finish(self) -> tuple[Path, int, str]:
        """Close the file; returns (temporary path, size, sha256). Raises NotAcceptable for empty or bad files."""
        self.handle.close()
        if self.size == 0:
            self.discard()
            raise NotAcceptable(f"{self.name} is empty")
        if self.upload_type == UploadType.READS and len(self.head) < 64 * 1024:
            try:
                check_reads_start(self.name, self.head)
            except NotAcceptable:
                self.discard()
                raise
        return self.path, self.size, self.hash.hexdigest()

    def discard(self) -> None:
        """Remove the partial file."""
        if not self.handle.closed:
            self.handle.close()
        self.path.unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def looks_like_fastq(path: Path) -> bool:
    """Whether a file starts like FASTQ (plain or gzip)."""
    try:
        with seqio.open_read(path, threads=0) as handle:
            start = handle.read(4096)
    except seqio.DECOMPRESSION_ERRORS:
        return False
    return start.lstrip(b"\r\n").startswith(b"@")


class FileDocument(TypedDict):
    """A file of a build present on disk, as the API lists it."""

    name: str
    type: str
    size: int
    download_url: str


def files_present(folder: Path, expected: Iterable[tuple[str, str]], url_prefix: str) -> list[FileDocument]:
    """`[{name, type, size, download_url}]` of the `(name, type)` files found in `folder`, in the order given."""
    out: list[FileDocument] = []
    for name, kind in expected:
        path = folder / name
        if path.exists():
            out.append(
                {"name": name, "type": kind, "size": path.stat().st_size, "download_url": f"{url_prefix}/{name}"}
            )
    return out
