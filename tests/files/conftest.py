"""Fixtures for uploads: an isolated data folder per test, real FASTQ files, and uploads made through the service."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "samples"

FASTQ_TEXT = b"@read1\nACGTACGT\n+\nIIIIIIII\n@read2\nTTGGCCAA\n+\nIIIIIIII\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listing(folder: Path) -> list[str]:
    """Every name in `folder` (hidden `.partial-*` files included), sorted."""
    return sorted(entry.name for entry in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def data_path(settings, tmp_path) -> Path:
    """A data folder of this test's own (the files folder is `<data_path>/files`)."""
    settings.DATA_PATH = tmp_path / "data"
    settings.WATCH_PATH = tmp_path / "watch"
    settings.DATA_PATH.mkdir()
    return settings.DATA_PATH


@pytest.fixture
def files_dir(data_path) -> Path:
    """`<data_path>/files`, created."""
    path = data_path / "files"
    path.mkdir()
    return path


@pytest.fixture
def fastq() -> Path:
    """A real gzipped FASTQ file."""
    return SAMPLES / "small_50bp_1.fq.gz"


@pytest.fixture
def make_upload(files_dir):
    """Create an upload through `upload_create` from bytes: `make_upload("a.fq.gz", content, reserved=True)`."""
    from files.services import upload_create
    from files.storage import files_path

    counter = iter(range(10**6))

    def make(name: str = "a.fq.gz", content: bytes = FASTQ_TEXT, *, upload_type: str = "reads", user=None, **fields):
        temp = files_path() / f".partial-fixture-{next(counter)}"
        temp.write_bytes(content)
        upload = upload_create(
            name=name,
            upload_type=upload_type,
            user=user,
            temp_path=temp,
            size=len(content),
            sha256=sha256(content),
        )
        if fields:
            for key, value in fields.items():
                setattr(upload, key, value)
            upload.save(update_fields=list(fields))
        return upload

    return make
