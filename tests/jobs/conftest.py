"""Fixtures for the job engine: test workflows, and real Celery workers on the test database."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

import tests.jobs.workflows  # noqa: F401  (registers the test workflows in this process)
from tests.conftest import ROOT, process_env, stop


@pytest.fixture
def start_worker(tmp_path):
    """Start a real Celery worker: `start_worker(queues="small,large", concurrency=2, beat=False, **env)`."""
    workers = []

    def start(*, queues: str = "small,large", concurrency: int = 2, beat: bool = False, **env: str):
        log_path = tmp_path / f"worker-{len(workers)}.log"
        log = log_path.open("w")
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "virtool_site",
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-n",
            f"test{len(workers)}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ]
        if beat:
            command += ["-B", "-s", str(tmp_path / "beat-schedule")]
        environment = process_env(
            VIRTOOL_WORKFLOW_MODULES="tests.jobs.workflows", VIRTOOL_JOB_HEARTBEAT_SECONDS="0.5", **env
        )
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        process.log_path = log_path
        workers.append((process, log))
        deadline = time.monotonic() + 60
        while " ready." not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        return process

    yield start
    for process, log in workers:
        stop(process)
        log.close()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
