"""Fixtures for the job engine tests: the test workflows are registered in this process."""

from __future__ import annotations

import tests.jobs.workflows  # noqa: F401  (registers the test workflows in this process)
from tests.conftest import wait_for

__all__ = ["wait_for"]
