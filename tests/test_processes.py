"""Processes that come back: `make run`'s supervisor restarts a process that dies and stops everything on Ctrl-C;
the production units (systemd, compose) describe every process kind."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
import yaml

from jobs.constants import Queue
from tests.conftest import ROOT, free_port, wait_for

DEPLOY = ROOT / "deploy"


def process_tree(root: int) -> dict[int, tuple[int, str]]:
    """Every living descendant of `root` (and itself): pid -> (parent pid, command line)."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            continue
        parents[int(entry.name)] = int(fields[1])
        commands[int(entry.name)] = command
    tree = {root} if root in parents else set()
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    return {pid: (parents[pid], commands[pid]) for pid in tree}


def main_process(tree: dict[int, tuple[int, str]], *needles: str) -> int | None:
    """The pid of the process whose command has every needle and whose parent does not (a Celery main process,
    not one of its pool children)."""
    for pid, (parent, command) in tree.items():
        if all(needle in command for needle in needles):
            parent_command = tree.get(parent, (0, ""))[1]
            if not all(needle in parent_command for needle in needles):
                return pid
    return None


def web_processes(tree: dict[int, tuple[int, str]]) -> tuple[int | None, set[int]]:
    """The web server supervisord runs and its daphnes: with VIRTOOL_WEB_PROCESSES=N > 1 that process is a parent
    (`supervise`) with N children on sockets of their own (`--fd`); with 1 it is the daphne itself, no children."""
    web = main_process(tree, "virtool_site.server")
    return web, {pid for pid, (parent, command) in tree.items() if parent == web and "--fd" in command}


def web_processes_setting(pid: int) -> int:
    """VIRTOOL_WEB_PROCESSES as the web server got it (bin/env's default or the caller's)."""
    environ = dict(
        item.split("=", 1)
        for item in Path(f"/proc/{pid}/environ").read_text(errors="replace").split("\0")
        if "=" in item
    )
    return int(environ.get("VIRTOOL_WEB_PROCESSES") or 1)


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.live
@pytest.mark.once
def test_make_run_restarts_a_killed_worker_while_web_stays_up_and_a_killed_web_and_ctrl_c_stops_everything(tmp_path):
    data = tmp_path / "instance"
    port, redis_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "VIRTOOL_TEST_DATABASE_NAME", "PYTEST_XDIST_WORKER")
    }
    # Its own SQLite database and data folder, and a Redis of its own (nothing answers on that port yet).
    env.update(
        VIRTOOL_DATA_PATH=str(data),
        VIRTOOL_PORT=str(port),
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        VIRTOOL_CHANNEL_PREFIX="virtool-run-test",
        VIRTOOL_PROC="2",
    )
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        run = subprocess.Popen(
            ["bash", "bin/run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def small_worker_starts() -> int:
        """How many times the small-queue worker said it was ready (its output reaches the run's own output)."""
        return len(re.findall(r"small@\S+ ready\.", log_path.read_text(errors="replace")))

    try:
        wait_for(lambda: listening(port), timeout=180, interval=0.5)
        wait_for(lambda: small_worker_starts() == 1, timeout=180, interval=0.5)
        tree = process_tree(run.pid)
        worker = main_process(tree, "worker", "-Q small")
        assert worker, tree
        assert listening(redis_port)
        web, daphnes = web_processes(tree)
        assert web, tree
        expected_daphnes = web_processes_setting(web)
        if expected_daphnes > 1:  # the children start after the parent has bound the port: wait for all of them

            def all_daphnes_started() -> tuple[int | None, set[int]] | None:
                found = web_processes(process_tree(run.pid))
                return found if len(found[1]) == expected_daphnes else None

            web, daphnes = wait_for(all_daphnes_started, timeout=60)
        assert len(daphnes) == (expected_daphnes if expected_daphnes > 1 else 0), tree

        answers: list[int | str] = []
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.2):
                try:
                    answers.append(requests.get(f"http://127.0.0.1:{port}/api", timeout=10).status_code)
                except requests.RequestException as exc:
                    answers.append(type(exc).__name__)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        os.kill(worker, signal.SIGKILL)
        killed_at = time.monotonic()

        def restarted() -> int | None:
            pid = main_process(process_tree(run.pid), "worker", "-Q small")
            return pid if pid not in (None, worker) and small_worker_starts() >= 2 else None

        new_worker = wait_for(restarted, timeout=180, interval=0.5)
        back_after = time.monotonic() - killed_at
        done.set()
        poller.join()
        tree = process_tree(run.pid)
        assert web_processes(tree) == (web, daphnes)  # the web server was never stopped, nor any of its daphnes
        assert answers
        assert set(answers) == {200}, answers
        assert new_worker != worker
        assert back_after < 180

        # The web server killed (with several daphnes, the parent supervisord runs): supervisord starts it again,
        # and the daphnes of the killed one die with it (PR_SET_PDEATHSIG) instead of serving on beside the new ones.
        os.kill(web, signal.SIGKILL)

        def web_restarted() -> tuple[int | None, set[int]] | None:
            found = web_processes(process_tree(run.pid))
            if found[0] in (None, web) or len(found[1]) != len(daphnes) or not listening(port):
                return None
            return found

        new_web, new_daphnes = wait_for(web_restarted, timeout=120, interval=0.5)
        wait_for(lambda: not any(alive(pid) for pid in daphnes), timeout=10)
        assert not new_daphnes & daphnes
        assert wait_for(lambda: api_status(port) == 200, timeout=60, interval=0.5)
        tree = process_tree(run.pid)
        assert web_processes(tree) == (new_web, new_daphnes)

        # Ctrl-C: every process stops, the Redis it started too.
        pids = set(tree)
        os.kill(run.pid, signal.SIGINT)
        run.wait(timeout=120)
        wait_for(lambda: not any(alive(pid) for pid in pids), timeout=30)
        assert not listening(port)
        assert not listening(redis_port)
    finally:
        if run.poll() is None:  # the test failed half-way: stop the instance, every process of it
            leftovers = set(process_tree(run.pid))
            os.kill(run.pid, signal.SIGTERM)
            try:
                run.wait(60)
            except subprocess.TimeoutExpired:
                for pid in leftovers:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                run.wait()
        print(log_path.read_text()[-6000:])  # noqa: T201  (shown when the test fails)


def api_status(port: int) -> int | None:
    try:
        return requests.get(f"http://127.0.0.1:{port}/api", timeout=10).status_code
    except requests.RequestException:
        return None


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    units = {path.name for path in (DEPLOY / "systemd").iterdir()}
    assert {"virtool-web.service", "virtool-worker@.service", "virtool-beat.service", "virtool-files.service"} <= units
    # The units name /opt/virtool, where an installation keeps its checkout and .venv; here that is this checkout.
    for name in units:
        text = (DEPLOY / "systemd" / name).read_text().replace("/opt/virtool", str(ROOT))
        if name == "virtool-worker@.service":
            for queue in Queue:
                (tmp_path / f"virtool-worker@{queue.value}.service").write_text(text)
        else:
            (tmp_path / name).write_text(text)
    paths = sorted(str(path) for path in tmp_path.iterdir())
    result = subprocess.run([analyze, "verify", *paths], capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0 and "Failed to" in result.stderr and "virtool" not in result.stderr:
        pytest.skip(f"systemd-analyze cannot run here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert "virtool" not in result.stderr, result.stderr  # no warning about any of our units either


def test_compose_runs_every_process_kind_on_one_image_with_shared_data():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "beat", "files"} <= set(services)
    assert {f"worker-{queue.value}" for queue in Queue} <= set(services)
    for name, service in services.items():
        if name in ("postgres", "redis"):
            continue
        assert service["image"] == "virtool"
        assert "data:/data" in service["volumes"]
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert service["environment"]["VIRTOOL_WORKER_HOST"]  # shared by the workers of one Docker host
    for queue in Queue:
        assert services[f"worker-{queue.value}"]["command"] == ["python", "manage.py", "run_worker", queue.value]
    assert (ROOT / "Dockerfile").read_text().count("--require-hashes") == 1
