"""Shared fixtures: fast settings, users and clients, and real daphne/Celery processes on the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

pytest_plugins = ["tests.github_server"]  # the `github` fixture: a fake GitHub on 127.0.0.1, for every test

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _clean_redis(settings) -> None:
    """Forget channel groups and queued messages of earlier tests (only in the test suite's own Redis)."""
    import redis

    if settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] == "virtool":
        return  # not the test configuration of bin/test: never wipe a Redis that may be in use
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(autouse=True)
def _dispatch_never_fails(request, caplog):
    """A change that cannot reach the browsers is logged, not raised: fail the test that caused it instead."""
    yield
    if request.node.get_closest_marker("dispatch_errors_expected"):
        return
    records = caplog.get_records("call")
    failures = [r.getMessage() for r in records if r.name == "core.events" and r.levelname == "ERROR"]
    assert not failures, f"websocket dispatch failed: {failures}"


@pytest.fixture(autouse=True)
def _fast_isolated_settings(settings) -> None:
    """Cheap password hashing and a test host; the real hasher is checked in its own test. GitHub is nowhere (the
    discard port) unless a test asks for the fake one (`github`): nothing reaches the internet."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # No test reaches NCBI: E-utilities is a closed port unless a test points it at its recording
    # (tests/otus/eutils_server.py); servers and workers the test starts get the same (`process_env`).
    settings.VIRTOOL_NCBI_EUTILS_URL = "http://127.0.0.1:9/entrez/eutils"
    settings.VIRTOOL_GITHUB_API_URL = "http://127.0.0.1:9"


# --- Uploads ---------------------------------------------------------------------------------------------------


def stored_upload(user, data: bytes, *, name: str, upload_type: str):
    """A ready upload of `upload_type` holding `data`, as if it had been sent through POST /api/uploads."""
    import hashlib

    from files.models import Upload
    from files.storage import upload_path

    upload = Upload.objects.create(
        name=name, type=upload_type, user=user, size=len(data), ready=True, sha256=hashlib.sha256(data).hexdigest()
    )
    upload.name_on_disk = f"{upload.pk}-{name}"
    upload.save()
    upload_path(upload.name_on_disk).write_bytes(data)
    return upload


# --- Jobs run in the test process ------------------------------------------------------------------------------


@pytest.fixture
def jobs_here(mocker):
    """Queue nothing on Celery: the test runs the waiting jobs itself (`run_waiting_jobs`); tests/jobs use workers."""
    mocker.patch("jobs.services.job_enqueue")


def run_waiting_jobs() -> list[str]:
    """Run every waiting job in this process, in creation order; returns their final states."""
    from jobs.models import Job
    from jobs.runner import job_execute

    return [job_execute(job_id=job.pk) for job in Job.objects.filter(state="waiting").order_by("created_at")]


# --- Users and clients --------------------------------------------------------------------------------------


@pytest.fixture
def make_user(db):
    """Create a user: `make_user("bob", role="full", permissions=["create_sample"])`."""
    from django.contrib.auth.models import Group, Permission

    from users.models import User

    def make(
        handle: str = "bob",
        *,
        password: str = "hunter2hunter2",
        role: str | None = None,
        permissions: list[str] = (),
        **extra,
    ) -> User:
        user = User.objects.create_user(handle, password, administrator_role=role, **extra)
        if permissions:
            group = Group.objects.create(name=f"{handle}-group")
            group.permissions.set(Permission.objects.filter(content_type__app_label="users", codename__in=permissions))
            user.groups.add(group)
        return user

    return make


@pytest.fixture
def admin_user(make_user):
    """A full administrator."""
    return make_user("admin", role="full")


@pytest.fixture
def user(make_user):
    """An ordinary user with no permissions."""
    return make_user("bob")


def client_for(user) -> APIClient:
    """An API client logged in as `user` through a real session."""
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin_user) -> APIClient:
    """API client of a full administrator."""
    return client_for(admin_user)


@pytest.fixture
def user_client(user) -> APIClient:
    """API client of an ordinary user without permissions."""
    return client_for(user)


@pytest.fixture
def anon_client() -> APIClient:
    """API client without credentials."""
    return APIClient()


# --- Real processes on the test database ----------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so that fixtures can tell at teardown whether it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def failed(request) -> bool:
    """Whether the requesting test failed (in set-up or in its body)."""
    return any(getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call"))


def show_log_if_failed(request, name: str, path: Path, lines: int = 80) -> None:
    """Print the end of a server or worker log after a failed test: pytest shows it with the failure."""
    if failed(request) and path.exists():
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- last {len(tail)} lines of the {name} log ({path.name}) ---", *tail, sep="\n")  # noqa: T201


def database_url() -> str:
    """A DATABASE_URL pointing other processes at the test database."""
    from django.db import connection

    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{params['NAME']}"
    auth = quote(params["USER"] or "")
    if params.get("PASSWORD"):
        auth += ":" + quote(params["PASSWORD"])
    host = params["HOST"] or "127.0.0.1"
    return f"postgres://{auth}@{host}:{params['PORT'] or 5432}/{params['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    """Environment for a daphne, Celery or manage.py process sharing the test database and Redis."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=django_settings.REDIS_URL,
        VIRTOOL_DATA_PATH=str(django_settings.DATA_PATH),
        VIRTOOL_CHANNEL_PREFIX=django_settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        ALLOWED_HOSTS="127.0.0.1,localhost",
        VIRTOOL_NCBI_EUTILS_URL=django_settings.VIRTOOL_NCBI_EUTILS_URL,
        PYTHONUNBUFFERED="1",
        # The fake GitHub when the test asked for it before starting the process (`github` first), else nowhere.
        VIRTOOL_GITHUB_API_URL=django_settings.VIRTOOL_GITHUB_API_URL,
        VIRTOOL_SOFTWARE_SLUG=django_settings.VIRTOOL_SOFTWARE_SLUG,
    )
    env.update(extra)  # a test may point a process elsewhere (e.g. REDIS_URL at a Redis of its own)
    return env


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    """Wait until something listens on `port`, failing early if `process` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


def stop(process: subprocess.Popen) -> None:
    """Terminate a child process, killing it when it does not stop."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def live_server_url(request, transactional_db, tmp_path) -> Iterator[str]:
    """A real daphne serving the ASGI app (HTTP and websockets) on the test database."""
    port = free_port()
    log = (tmp_path / "daphne.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "virtool_site.server",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "virtool_site.asgi:application",
        ],
        cwd=ROOT,
        env=process_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()
        show_log_if_failed(request, "daphne", tmp_path / "daphne.log")


@pytest.fixture
def run_manage():
    """Run `manage.py` in a separate process on the test database."""

    def run(*args: str, input_text: str | None = None, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=process_env(**env),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


def session_cookie_for(user) -> str:
    """A committed Django session for `user`, as the value of the `sessionid` cookie (for real servers)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.fixture
def channel_reader(settings):
    """Join fresh channels to Channels groups on the real Redis layer and read what arrives.

    Each reader has its own layer instance and event loop: channels_redis binds a channel's receive buffer
    to the loop that first reads it.
    """
    import asyncio

    from channels_redis.core import RedisChannelLayer

    readers = []

    class Reader:
        def __init__(self) -> None:
            self.loop = asyncio.new_event_loop()
            self.layer = RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
            self.channel = self.loop.run_until_complete(self.layer.new_channel())
            readers.append(self)

        def join(self, *groups: str) -> Reader:
            for group in groups:
                self.loop.run_until_complete(self.layer.group_add(group, self.channel))
            return self

        def receive(self, timeout: float = 5.0) -> dict | None:
            try:
                return self.loop.run_until_complete(asyncio.wait_for(self.layer.receive(self.channel), timeout))
            except TimeoutError:
                return None

        def messages(self, timeout: float = 0.5) -> list[dict]:
            out = []
            while (event := self.receive(timeout)) is not None:
                if event["type"] == "virtool.event":  # control messages (refresh, ...) are for consumers
                    out.append(event["message"])
            return out

    yield Reader
    for reader in readers:
        reader.loop.run_until_complete(reader.layer.close_pools())
        reader.loop.close()


@pytest.fixture
def start_worker(request, tmp_path):
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
            **{"VIRTOOL_WORKFLOW_MODULES": "tests.jobs.workflows", "VIRTOOL_JOB_HEARTBEAT_SECONDS": "0.5", **env}
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
        show_log_if_failed(request, "Celery worker", process.log_path, lines=60)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
