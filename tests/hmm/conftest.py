"""HMM test helpers: release archives made from the real vFam data, HMM uploads, an isolated data folder."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.conftest import SHARED, stored_upload

DATA = SHARED / "data" / "hmm"


def annotations() -> list[dict]:
    """The real annotation records."""
    return json.loads(gzip.decompress((DATA / "annotations.json.gz").read_bytes()))


def tar_bytes(members: dict[str, bytes], *, compression: str = "gz") -> bytes:
    """A tar archive (gzipped by default) of regular files named as given."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=f"w:{compression}" if compression else "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def release_archive(*, folder: str = "hmm", gzip_profiles: bool = False, plain_annotations: bool = True) -> bytes:
    """A release archive as Virtool's `vthmm.tar.gz` ships it: `hmm/profiles.hmm` and `hmm/annotations.json`."""
    profiles = (DATA / "profiles.hmm").read_bytes()
    prefix = f"{folder}/" if folder else ""
    members = {
        f"{prefix}profiles.hmm{'.gz' if gzip_profiles else ''}": gzip.compress(profiles) if gzip_profiles else profiles,
    }
    if plain_annotations:
        members[f"{prefix}annotations.json"] = json.dumps(annotations()).encode()
    else:
        members[f"{prefix}annotations.json.gz"] = (DATA / "annotations.json.gz").read_bytes()
    return tar_bytes(members)


def hmm_upload(user, data: bytes | None = None, *, name: str = "vthmm.tar.gz"):
    """A ready upload of type `hmm` (a release archive unless `data` says otherwise)."""
    return stored_upload(user, release_archive() if data is None else data, name=name, upload_type="hmm")


@pytest.fixture
def data_path(settings, tmp_path) -> Path:
    """A data folder of the test's own: installs and uploads land there."""
    settings.DATA_PATH = tmp_path / "data"
    settings.DATA_PATH.mkdir()
    return settings.DATA_PATH
