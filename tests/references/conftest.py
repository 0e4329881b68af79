"""Helpers for reference tests: uploads of reference files and jobs run in this process."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import SHARED, run_waiting_jobs, stored_upload

REFERENCES = SHARED / "data" / "references"
DEMO = REFERENCES / "demo-plant-viruses.json.gz"
EXPORT_20 = REFERENCES / "virtool-export-20-otus.json.gz"


@pytest.fixture(autouse=True)
def _run_jobs_here(jobs_here):
    """Jobs are run in this process by the tests (a real worker runs them in tests/jobs)."""


def make_reference_upload(user, *, source: Path | None = None, data: bytes | None = None, name: str | None = None):
    """An uploaded `reference` file from a path or bytes."""
    content = data if data is not None else source.read_bytes()
    name = name or (source.name if source else "reference.json.gz")
    return stored_upload(user, content, name=name, upload_type="reference")


def gz_json(document: dict) -> bytes:
    """A document as reference.json.gz bytes."""
    return gzip.compress(json.dumps(document).encode())


def load(path: Path) -> dict:
    """A reference file as a document."""
    return json.loads(gzip.decompress(path.read_bytes()))


def import_reference(client, user, source: Path | None = None, data: bytes | None = None, **fields) -> dict:
    """Import a reference file through the API and run its job; returns the reference document."""
    upload = make_reference_upload(user, source=source, data=data)
    response = client.post("/api/refs", {"import_from": upload.name_on_disk, **fields}, format="json")
    assert response.status_code == 201, response.json()
    assert run_waiting_jobs() == ["complete"]
    return client.get(f"/api/refs/{response.json()['id']}").json()
