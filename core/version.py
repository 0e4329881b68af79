"""The running version: `git describe --tags`, else the VERSION file."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


@functools.cache
def get_version() -> str:
    """Version string shown by `GET /api` and sent to Sentry."""
    try:
        result = subprocess.run(
            ["git", "describe", "--tags"],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return (BASE_DIR / "VERSION").read_text().strip()
    except OSError:
        return "unknown"
