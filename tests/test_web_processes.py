"""Several daphnes (`VIRTOOL_WEB_PROCESSES=2`, virtool_site/server.py's `supervise`): one child per SO_REUSEPORT
socket, all serving; a child that dies is started again; they stop with the parent, however it ends.

Which child answered a connection is read from the kernel: the accepted socket (local port the server's, remote
port the client's) is open in exactly one process, found through /proc as `ss -p` does."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, process_env, show_log_if_failed, stop, wait_for, wait_for_port

pytestmark = pytest.mark.live

APPLICATION = "virtool_site.asgi:application"
LISTEN, ESTABLISHED = "0A", "01"


def state_and_parent(pid: int) -> tuple[str, int] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped by whoever adopted it, is not)."""
    stat = state_and_parent(pid)
    return stat is not None and stat[0] != "Z"


def children(parent: int) -> set[int]:
    """The living child processes of `parent`."""
    found = set()
    for entry in Path("/proc").iterdir():
        stat = state_and_parent(int(entry.name)) if entry.name.isdigit() else None
        if stat is not None and stat[0] != "Z" and stat[1] == parent:
            found.add(int(entry.name))
    return found


def command(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def tcp_sockets(port: int) -> list[tuple[str, int, str]]:
    """(state, remote port, inode) of every IPv4 TCP socket whose local port is `port`."""
    out = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            out.append((fields[3], int(fields[2].split(":")[1], 16), fields[9]))
    return out


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def serving_process(port: int, connection: http.client.HTTPConnection, candidates: set[int]) -> int:
    """The process among `candidates` holding the server side of `connection`."""
    assert connection.sock is not None
    client_port = connection.sock.getsockname()[1]
    (inode,) = [inode for state, remote, inode in tcp_sockets(port) if state == ESTABLISHED and remote == client_port]
    (owner,) = [pid for pid in candidates if inode in socket_inodes(pid)]
    return owner


def get_api(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/api")
    response = connection.getresponse()
    response.read()
    return response.status


def answers_by_process(port: int, servers: set[int], connections: int = 20) -> Counter[int]:
    """Open `connections` keep-alive connections, two requests on each: how many connections each server took."""
    opened = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(connections)]
    try:
        owners: Counter[int] = Counter()
        for connection in opened:
            assert get_api(connection) == 200
        for connection in opened:
            assert get_api(connection) == 200  # kept alive: the same connection answers again
            owners[serving_process(port, connection, servers)] += 1
        return owners
    finally:
        for connection in opened:
            connection.close()


class Web:
    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process = process
        self.port = port

    def children(self) -> set[int]:
        return children(self.process.pid)


@pytest.fixture
def web(request, transactional_db, tmp_path) -> Iterator[Web]:
    """`python -m virtool_site.server` with VIRTOOL_WEB_PROCESSES=2 on the test database, its two children started."""
    port = free_port()
    log_path = tmp_path / "web.log"
    seen: set[int] = set()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "virtool_site.server", "-b", "127.0.0.1", "-p", str(port), APPLICATION],
            cwd=ROOT,
            env=process_env(VIRTOOL_WEB_PROCESSES="2"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Web(process, port)
    try:
        wait_for_port(port, process)
        seen |= wait_for(lambda: server.children() if len(server.children()) == 2 else None, timeout=30)
        yield server
    finally:
        seen |= server.children() if process.poll() is None else set()
        stop(process)
        for pid in seen:  # a test that failed half-way may leave a child: never let one outlive the test
            with contextlib.suppress(ProcessLookupError):
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
        show_log_if_failed(request, "web", log_path)


def test_two_children_each_on_a_socket_of_its_own_both_answer(web):
    servers = web.children()
    assert len(servers) == 2
    # Each child is a daphne on one inherited socket; the parent keeps both sockets, bound with SO_REUSEPORT.
    fds = set()
    for pid in servers:
        argv = command(pid)
        assert argv[1:3] == ["-m", "virtool_site.server"]
        assert "--fd" in argv
        assert APPLICATION in argv
        fds.add(argv[argv.index("--fd") + 1])
    assert len(fds) == 2
    listening = {inode for state, _, inode in tcp_sockets(web.port) if state == LISTEN}
    assert len(listening) == 2
    assert socket_inodes(web.process.pid) >= listening
    for pid in servers:
        assert len(socket_inodes(pid) & listening) == 1  # one socket each: the kernel spreads connections over them

    owners = answers_by_process(web.port, servers)
    assert set(owners) == servers, owners  # 20 connections: all on one socket has odds of 1 in 500 000
    assert sum(owners.values()) == 20


def test_a_killed_child_is_started_again_and_requests_are_answered_meanwhile(web):
    servers = web.children()
    assert set(answers_by_process(web.port, servers)) == servers  # both up and serving
    victim = min(servers)
    os.kill(victim, signal.SIGKILL)

    # New connections while it is gone: those the kernel puts on its socket wait there (the parent keeps it open)
    # for the new child, none is refused.
    statuses = []
    replacement = None
    deadline = time.monotonic() + 30
    while replacement is None and time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
        try:
            statuses.append(get_api(connection))
        finally:
            connection.close()
        current = web.children()
        if len(current) == 2 and victim not in current:
            replacement = (current - servers).pop()
    assert replacement is not None, "no new child within 30 s"
    assert statuses
    assert set(statuses) == {200}
    assert not alive(victim)
    assert web.process.poll() is None

    new_servers = web.children()
    assert new_servers == (servers - {victim}) | {replacement}
    assert "--fd" in command(replacement)
    assert set(answers_by_process(web.port, new_servers)) == new_servers  # the new child takes its share


def test_sigterm_stops_every_child(web):
    servers = web.children()
    web.process.send_signal(signal.SIGTERM)
    assert web.process.wait(15) == 0
    wait_for(lambda: not any(alive(pid) for pid in servers), timeout=10)
    assert all(state != LISTEN for state, _, _ in tcp_sockets(web.port))


def test_children_die_with_a_killed_parent(web):
    servers = web.children()
    assert set(answers_by_process(web.port, servers)) == servers  # serving, not just started
    web.process.kill()
    web.process.wait(5)
    # Nothing signals them but the kernel (PR_SET_PDEATHSIG): no daphne is left holding the port.
    wait_for(lambda: not any(alive(pid) for pid in servers), timeout=5)
    assert all(state != LISTEN for state, _, _ in tcp_sockets(web.port))
