"""A throwaway Virtool for benchmarks that run the real services and jobs in-process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


@contextmanager
def sandbox(
    *, prefix: str, redis_url: str, database_url: str | None = None, keep: bool = False, root: Path = ROOT
) -> Iterator[Path]:
    """A temp data path with its own SQLite database (or `database_url`), migrated, and Django set up in this
    process on it; the temp dir is removed afterwards unless `keep`."""
    temp = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="virtool_site.settings",
        VIRTOOL_DATA_PATH=str(temp / "data"),
        DATABASE_URL=database_url or f"sqlite:///{temp / 'bench.sqlite3'}",
        REDIS_URL=redis_url,
        VIRTOOL_CHANNEL_PREFIX=prefix,
        VIRTOOL_LOG_LEVEL="WARNING",
    )
    os.environ.pop("SENTRY_DSN", None)
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, check=True)
        sys.path.insert(0, str(root))
        import django

        django.setup()
        yield temp
    finally:
        if keep:
            print(f"kept {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)


def stored_upload(user, path: Path, upload_type: str):
    """Store a file as a ready upload of `upload_type`, as POST /api/uploads would."""
    import hashlib

    from files.models import Upload
    from files.storage import upload_path

    digest = hashlib.sha256()
    with path.open("rb") as handle:  # in blocks: the reads of a real-size sample are gigabytes
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    upload = Upload.objects.create(
        name=path.name, type=upload_type, user=user, size=path.stat().st_size, ready=True, sha256=digest.hexdigest()
    )
    upload.name_on_disk = f"{upload.pk}-{path.name}"
    upload.save()
    upload_path(upload.name_on_disk).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, upload_path(upload.name_on_disk))
    return upload
