"""Two worker hosts: each in a network namespace made by the test, with its own VIRTOOL_WORKER_HOST, sharing a
private PostgreSQL, a private Redis (both listening only on the test's bridge) and one data path.

Jobs spread over both hosts within each host's limits; when one host is killed, the reaper marks its jobs
`terminated` and the other host goes on, also when the killed host comes back.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, wait_for

pytestmark = [pytest.mark.netns, pytest.mark.live, pytest.mark.once]

HOSTS = ("host-a", "host-b")
ENV_DROP = ("DATABASE_URL", "CELERY_BROKER_URL", "VIRTOOL_TEST_DATABASE_NAME", "PYTEST_XDIST_WORKER")


def sh(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def must(*command: str) -> str:
    result = sh(*command)
    assert result.returncode == 0, f"{' '.join(command)}: {result.stderr}"
    return result.stdout


def postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


@dataclass
class Network:
    """A bridge in this namespace (the servers' address) and one namespace per host, joined by veth pairs."""

    tag: str
    subnet: int
    namespaces: dict[str, str] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)

    @property
    def server(self) -> str:
        return f"198.18.{self.subnet}.1"


@contextlib.contextmanager
def network() -> Iterator[Network]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and ip (iproute2) to make network namespaces")
    tag = f"vt{os.getpid() % 100000}"
    # 198.18.0.0/15 is set aside for network tests (RFC 2544); these addresses exist only on this machine.
    net = Network(tag=tag, subnet=os.getpid() % 200 + 20)
    bridge = f"{tag}br"
    probe = sh("ip", "netns", "add", f"{tag}a")
    if probe.returncode != 0:
        pytest.skip(f"network namespaces are not permitted here: {probe.stderr.strip()}")
    net.namespaces["host-a"] = f"{tag}a"
    try:
        must("ip", "netns", "add", f"{tag}b")
        net.namespaces["host-b"] = f"{tag}b"
        must("ip", "link", "add", bridge, "type", "bridge")
        net.links.append(bridge)
        must("ip", "addr", "add", f"{net.server}/24", "dev", bridge)
        must("ip", "link", "set", bridge, "up")
        for index, (host, namespace) in enumerate(net.namespaces.items()):
            outside, inside = f"{namespace}0", f"{namespace}1"
            must("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
            net.links.append(outside)
            must("ip", "link", "set", outside, "master", bridge)
            must("ip", "link", "set", outside, "up")
            must("ip", "link", "set", inside, "netns", namespace)
            address = f"198.18.{net.subnet}.{11 + index}/24"
            must("ip", "netns", "exec", namespace, "ip", "addr", "add", address, "dev", inside)
            must("ip", "netns", "exec", namespace, "ip", "link", "set", inside, "up")
            must("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")
            assert host
        yield net
    finally:
        for namespace in net.namespaces.values():
            kill_namespace(namespace)
        for link in reversed(net.links):
            sh("ip", "link", "del", link)
        for namespace in net.namespaces.values():
            sh("ip", "netns", "del", namespace)


def kill_namespace(namespace: str) -> list[int]:
    """SIGKILL every process in a namespace (the host dies)."""
    pids = [int(pid) for pid in sh("ip", "netns", "pids", namespace).stdout.split()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids


@contextlib.contextmanager
def servers(net: Network) -> Iterator[dict[str, str]]:
    """A private PostgreSQL cluster and a private Redis, listening only on the bridge's address."""
    bindir = postgres_bindir()
    if bindir is None or shutil.which("runuser") is None:
        pytest.skip("needs PostgreSQL's initdb and pg_ctl, and runuser")
    folder = Path(tempfile.mkdtemp(prefix="vt-pg-"))
    shutil.chown(folder, "postgres", "postgres")
    cluster = folder / "cluster"
    pg_port, redis_port = free_port(), free_port()
    redis: subprocess.Popen | None = None
    started = False
    try:
        must(
            "runuser",
            "-u",
            "postgres",
            "--",
            str(bindir / "initdb"),
            "-D",
            str(cluster),
            "-A",
            "trust",
            "-U",
            "postgres",
        )
        with (cluster / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all 198.18.{net.subnet}.0/24 trust\n")
        options = f"-c listen_addresses={net.server} -p {pg_port} -k {folder}"
        pg_ctl = ["runuser", "-u", "postgres", "--", str(bindir / "pg_ctl"), "-D", str(cluster)]
        must(*pg_ctl, "-o", options, "-l", str(folder / "postgres.log"), "-w", "start")
        started = True
        must(str(bindir / "createdb"), "-h", net.server, "-p", str(pg_port), "-U", "postgres", "virtool")
        redis = subprocess.Popen(
            [
                *("redis-server", "--bind", net.server, "--port", str(redis_port), "--protected-mode", "no"),
                *("--save", "", "--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")),
            ]
        )
        wait_for(lambda: sh("redis-cli", "-h", net.server, "-p", str(redis_port), "ping").stdout.strip() == "PONG")
        yield {
            "DATABASE_URL": f"postgres://postgres@{net.server}:{pg_port}/virtool",
            "REDIS_URL": f"redis://{net.server}:{redis_port}/0",
        }
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(10)
        if started:
            sh(*pg_ctl, "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def journal(data: Path, job_id: str) -> list[dict]:
    path = data / "journal" / f"{job_id}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals that overlap at one moment."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def test_jobs_spread_over_two_hosts_within_limits_and_a_killed_hosts_jobs_are_reaped(tmp_path):
    import psycopg

    data = tmp_path / "shared-data"  # the data path both hosts mount
    data.mkdir()
    with network() as net, servers(net) as urls:
        env = {key: value for key, value in os.environ.items() if key not in ENV_DROP}
        env.update(
            urls,
            VIRTOOL_DATA_PATH=str(data),
            VIRTOOL_CHANNEL_PREFIX="virtool-hosts",
            VIRTOOL_WORKFLOW_MODULES="tests.jobs.workflows",
            VIRTOOL_PROC="2",
            VIRTOOL_MEM="8",
            VIRTOOL_SM_PROC="1",
            VIRTOOL_SM_MEM="1",
            VIRTOOL_JOB_HEARTBEAT_SECONDS="0.5",
            VIRTOOL_JOB_STALE_SECONDS="4",
            VIRTOOL_JOB_REAP_INTERVAL="1",
            VIRTOOL_JOB_RESEND_GRACE="3",
            VIRTOOL_JOB_RESEND_INTERVAL="1",
            PYTHONUNBUFFERED="1",
        )
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert migrated.returncode == 0, migrated.stderr
        processes: list[subprocess.Popen] = []
        logs: dict[str, Path] = {}

        def on_host(host: str, name: str, *command: str) -> None:
            log = tmp_path / f"{host}-{name}.log"
            logs[f"{host}-{name}"] = log
            # Its own network: only the bridge reaches the servers.
            wrapper = ["ip", "netns", "exec", net.namespaces[host]]
            with log.open("w") as handle:
                processes.append(
                    subprocess.Popen(
                        [*wrapper, *command],
                        cwd=ROOT,
                        env={**env, "VIRTOOL_WORKER_HOST": host},
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                    )
                )

        python = sys.executable
        try:
            # Three processes per host for jobs that each reserve one of the host's two cores: the limits, not
            # the concurrency, decide how many run at once. Host A also runs housekeeping and beat (the reaper).
            for host in HOSTS:
                on_host(host, "small", python, "manage.py", "run_worker", "small", "--concurrency", "3")
            on_host("host-a", "default", python, "manage.py", "run_worker", "default", "--concurrency", "1")
            beat = ["-m", "celery", "-A", "virtool_site", "beat", "-s", str(tmp_path / "beat"), "--pidfile="]
            on_host("host-a", "beat", python, *beat)
            for name in ("host-a-small", "host-b-small", "host-a-default"):
                wait_for(lambda name=name: " ready." in logs[name].read_text(), timeout=180, interval=0.5)

            database = psycopg.connect(urls["DATABASE_URL"], autocommit=True)

            def create(count: int, seconds: float) -> list[str]:
                code = (
                    "from jobs.services import job_create\n"
                    f"print(' '.join(job_create(workflow='test_hold_small', args={{'seconds': {seconds}}}).pk "
                    f"for _ in range({count})))"
                )
                result = subprocess.run(
                    [python, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
                )
                assert result.returncode == 0, result.stderr
                return result.stdout.strip().splitlines()[-1].split()  # the ids are the last line

            def jobs(ids: list[str]) -> dict[str, tuple[str, str, list]]:
                rows = database.execute("SELECT id, state, host, status FROM jobs_job WHERE id = ANY(%s)", [ids])
                return {row[0]: (row[1], row[2], row[3]) for row in rows}

            # 1. Spread within limits.
            first = create(8, 2.5)
            wait_for(lambda: all(state == "complete" for state, _, _ in jobs(first).values()), timeout=120)
            by_host: dict[str, list[tuple[float, float]]] = {host: [] for host in HOSTS}
            for job_id, (_, host, _) in jobs(first).items():
                events = {event["event"]: event for event in journal(data, job_id)}
                assert events["start"]["proc"] == 1
                by_host[host].append((events["start"]["time"], events["end"]["time"]))
            assert all(by_host[host] for host in HOSTS), by_host  # both hosts ran jobs
            for host in HOSTS:
                assert most_at_once(by_host[host]) <= 2, (host, by_host[host])  # never more than its two cores

            # 2. Host B dies in the middle of its jobs: beat's reaper marks them terminated, host A goes on.
            second = create(4, 45)

            def running_on(host: str) -> set[str]:
                return {job_id for job_id, (state, on, _) in jobs(second).items() if state == "running" and on == host}

            wait_for(lambda: running_on("host-a") and running_on("host-b"), timeout=90, interval=0.3)
            a_running = running_on("host-a")
            assert kill_namespace(net.namespaces["host-b"])
            on_b = {job_id for job_id, (_, host, _) in jobs(second).items() if host == "host-b"}
            wait_for(lambda: all(jobs(sorted(on_b))[job_id][0] == "terminated" for job_id in on_b), timeout=60)
            for job_id in on_b:
                assert "stopped responding" in jobs([job_id])[job_id][2][-1]["error"]["details"][0]
            assert running_on("host-a") == a_running
            key = "virtool-hosts:resources:host-b:reservations"
            # The reaper records the termination, then frees the reservation: wait for the second, not only the first.
            wait_for(lambda: sh("redis-cli", "-u", urls["REDIS_URL"], "hlen", key).stdout.strip() == "0", timeout=30)

            # 3. Host B comes back. Both hosts have the same machine host name here (one machine): what tells them
            # apart is VIRTOOL_WORKER_HOST, so B's start-up resolves only the jobs of its own previous life.
            on_host("host-b", "small-again", python, "manage.py", "run_worker", "small", "--concurrency", "3")
            wait_for(lambda: " ready." in logs["host-b-small-again"].read_text(), timeout=180, interval=0.5)
            time.sleep(1)
            assert running_on("host-a") & a_running  # host A was still running its jobs when B started again

            def settled() -> bool:
                return all(state in ("complete", "terminated", "error") for state, _, _ in jobs(second).values())

            wait_for(settled, timeout=180, interval=0.5)
            final = jobs(second)
            for job_id in set(second) - on_b:
                assert final[job_id][0] == "complete", (job_id, final[job_id][:2])
            for job_id in a_running:
                _, host, status = final[job_id]
                assert host == "host-a"
                assert [record["state"] for record in status].count("terminated") == 0, status
            database.close()
        finally:
            for process in processes:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(10)
            for name, log in logs.items():
                print(f"--- {name} ---", *log.read_text(errors="replace").splitlines()[-25:], sep="\n")  # noqa: T201
