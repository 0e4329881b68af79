"""A real daphne (`python -m virtool_site.server`) on the test database with extra environment variables, for
tests that need settings of their own in the server process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import ROOT, free_port, process_env, stop, wait_for_port

APPLICATION = "virtool_site.asgi:application"


@contextmanager
def daphne(tmp_path: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yield the server's URL and process; its log is `tmp_path / "daphne.log"`."""
    port = free_port()
    with (tmp_path / "daphne.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "virtool_site.server", "-b", "127.0.0.1", "-p", str(port), APPLICATION],
            cwd=ROOT,
            env={**process_env(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process)
            yield f"http://127.0.0.1:{port}", process
        finally:
            stop(process)
