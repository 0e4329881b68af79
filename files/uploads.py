"""A Django upload handler that streams the `file` field of a multipart upload straight into the files folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers
from django.http import HttpRequest

from files.storage import CHUNK, UploadWriter


@dataclass
class ReceivedFile:
    """A complete upload under its temporary name."""

    path: Path
    size: int
    sha256: str


class UploadToFilesHandler(FileUploadHandler):
    """Writes the multipart field `file` through an `UploadWriter` (hashing and checking as it goes)."""

    chunk_size = CHUNK

    def __init__(self, request: HttpRequest, *, name: str, upload_type: str, max_size: int) -> None:
        super().__init__(request)
        self.name = name
        self.upload_type = upload_type
        self.max_size = max_size
        self.writer: UploadWriter | None = None

    def new_file(self, field_name, file_name, *args, **kwargs) -> None:
        if field_name != "file" or self.writer is not None:
            raise SkipFile()
        self.writer = UploadWriter(name=self.name, upload_type=self.upload_type, max_size=self.max_size)
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self.writer is not None:
            self.writer.write(raw_data)

    # Django puts whatever this returns in request.FILES; the stubs expect an UploadedFile, ours is a ReceivedFile.
    def file_complete(self, file_size: int) -> ReceivedFile | None:  # type: ignore[override]
        if self.writer is None:
            return None
        return ReceivedFile(*self.writer.finish())

    def upload_interrupted(self) -> None:
        self.discard()

    def discard(self) -> None:
        """Remove whatever was written (after any failure)."""
        if self.writer is not None:
            self.writer.discard()
