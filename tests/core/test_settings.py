"""Configuration from the environment: deploy checks, the generated secret key, SQLite for concurrent writers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.conftest import ROOT


def run_check(tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DATABASE_URL")}
    environment.update(VIRTOOL_DATA_PATH=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = run_check(tmp_path, VIRTOOL_SECURE="true", ALLOWED_HOSTS="virtool.example.org")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_flags_plain_http_settings(tmp_path):
    assert run_check(tmp_path).returncode != 0


def test_secret_key_is_generated_once_and_kept(tmp_path):
    run_check(tmp_path, VIRTOOL_SECURE="true")
    key_file = tmp_path / "secret_key"
    first = key_file.read_text()
    assert len(first) >= 50
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    run_check(tmp_path, VIRTOOL_SECURE="true")
    assert key_file.read_text() == first


@pytest.mark.django_db
def test_sqlite_uses_wal_and_a_busy_timeout():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-only settings")
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] == 30000


def test_openapi_schema_generates_without_warnings(tmp_path):
    environment = {**os.environ, "VIRTOOL_DATA_PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "/api/jobs/{job_id}/cancel" in (tmp_path / "schema.yml").read_text()
