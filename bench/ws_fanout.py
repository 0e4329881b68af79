#!/usr/bin/env python
"""Websocket fan-out benchmark: how long one dispatched change takes to reach every connected browser.

    .venv/bin/python bench/ws_fanout.py --clients 200 --rounds 20

What it does (see bench/README.md for the figures and how to read them):

1. makes a throwaway data path with a SQLite database, runs `manage.py migrate`, creates one user and one
   Django session per websocket client (distinct users, so that every client has its own `users.<id>` group);
2. starts a real daphne (`python -m daphne ... virtool_site.asgi:application`) on 127.0.0.1 with that env and
   the Redis channel layer at REDIS_URL (default redis://127.0.0.1:6379/14, prefix `virtool-bench`);
3. starts a dispatcher process (this script with `--dispatcher`) which changes the instance settings row through
   `core.services.settings_update`, i.e. the real path: post_save -> on_commit -> reload -> serialize ->
   `core.events.send_many` -> Redis `group_send` -> daphne -> `EventConsumer.virtool_event` -> websocket; each change
   writes a unique marker into `hmm_slug` (a field the `settings` payload carries) to tell the rounds apart;
4. opens the websocket clients (`websockets`, asyncio, `Cookie: sessionid=...`, `Origin: http://127.0.0.1:PORT`),
   sends warm-up changes until every client has received one (so every consumer has joined its groups);
5. runs the rounds: one change per round, timed from just before `settings_update` until each client got it;
6. prints a table and cleans up (daphne, dispatcher, Redis keys under the bench prefix, the temp dir).

Configurations compared in one run:

- `all`:       the settings audience as registered, one `group_send` to `all` (N members);
- `per-user`:  the same change with its audience replaced by the N `users.<id>` groups of the connected users
               (what a resource readable by a list of users or groups costs): N sequential `group_send` calls;
- `all` with `--small-clients` connections (default 50): how the `all` fan-out scales with N.

Timestamps are `time.perf_counter()` (CLOCK_MONOTONIC on Linux), comparable between the bench and the
dispatcher process. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
DEFAULT_PREFIX = "virtool-bench"


# --- Environment and processes ------------------------------------------------------------------------------


def build_env(*, data_path: Path, redis_url: str, prefix: str) -> dict[str, str]:
    """The environment shared by migrate, daphne, the dispatcher and this process."""
    env = dict(os.environ)
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "SENTRY_DSN", "DJANGO_SECRET_KEY", "VIRTOOL_SECURE"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="virtool_site.settings",
        VIRTOOL_DATA_PATH=str(data_path),
        DATABASE_URL=f"sqlite:///{data_path / 'bench.sqlite3'}",
        REDIS_URL=redis_url,
        VIRTOOL_CHANNEL_PREFIX=prefix,
        ALLOWED_HOSTS="127.0.0.1",
        DJANGO_DEBUG="false",
        VIRTOOL_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Code:
    """One checkout whose daphne and dispatcher are timed: this one, or `--compare`'s."""

    name: str
    root: Path
    tmp: Path  # its logs
    base_env: dict[str, str]
    server: str

    @property
    def env(self) -> dict[str, str]:
        # The checkout first; PYTHONPATH given to the bench after it (for --asgi/--settings variants).
        path = os.pathsep.join(filter(None, [str(self.root), self.base_env.get("PYTHONPATH", "")]))
        return {**self.base_env, "PYTHONPATH": path}

    @property
    def commit(self) -> str:
        result = subprocess.run(
            ["git", "-C", str(self.root), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip() or "unknown commit"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` prints them."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until something listens on `port`, failing early if `process` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"daphne does not listen on {port} after {timeout}s")


def stop(process: subprocess.Popen | None) -> None:
    """Terminate a child process, killing it when it does not stop."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def clear_redis_prefix(redis_url: str, prefix: str) -> int:
    """Delete the channel-layer keys of the bench prefix (left by this or an interrupted run)."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        removed = 0
        for _ in range(10_000):  # bounded: at most 10,000 SCAN batches
            keys = list(client.scan_iter(match=f"{prefix}*", count=500))[:500]
            if not keys:
                break
            removed += client.delete(*keys)
        return removed
    finally:
        client.close()


def make_users_and_sessions(count: int) -> list[tuple[int, str]]:
    """Create `count` ordinary users and one authenticated session each: [(user id, session key)]."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connections

    from users.models import User

    users = []
    for index in range(count):
        user = User(handle=f"bench{index:05d}")
        user.set_unusable_password()  # no bcrypt: the sessions are made here, not by logging in
        users.append(user)
    # bulk_create: no post_save, so creating the users dispatches nothing.
    User.objects.bulk_create(users, batch_size=500)
    pairs = []
    for user in User.objects.filter(handle__startswith="bench").order_by("pk"):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session["remember"] = True
        session.create()
        pairs.append((user.pk, session.session_key))
    connections.close_all()
    return pairs


# --- Dispatcher process -------------------------------------------------------------------------------------


def dispatcher_main(root: Path) -> None:
    """Read one JSON command per line on stdin, make the change, answer with timestamps on stdout.

    Command: {"marker": str, "audience": "all" | "per-user", "user_ids": [int]} or {"quit": true}.
    Answer:  {"t0": before settings_update, "t_send": send() called, "t_sent": send() returned, "t1": returned}.
    """
    sys.path.insert(0, str(root))
    import django

    django.setup()
    # channels_redis reports, at INFO, group sends that found a full inbox (and dropped the message there).
    logging.getLogger("channels_redis").setLevel(logging.INFO)
    from core import events
    from core.selectors import settings_get
    from core.services import settings_update

    registration = events.registration_for("settings")
    registered_audience = registration.audience
    real_send_many = events.send_many
    stamps: dict[str, float] = {}

    def timed_send_many(messages) -> None:
        stamps.setdefault("t_send", time.perf_counter())
        real_send_many(messages)
        stamps["t_sent"] = time.perf_counter()

    # `dispatch()` looks `send_many` up in the module at delivery time, so this wraps the real call.
    events.send_many = timed_send_many
    settings_get()  # create the row and open the database connection before the first round
    print(json.dumps({"ready": True}), flush=True)

    for line in sys.stdin:
        command = json.loads(line)
        if command.get("quit"):
            break
        if command["audience"] == "per-user":
            groups = [events.user_group(user_id) for user_id in command["user_ids"]]
            registration.audience = lambda row, groups=groups: groups
        else:
            registration.audience = registered_audience
        stamps.clear()
        t0 = time.perf_counter()
        settings_update(data={"hmm_slug": command["marker"]})
        t1 = time.perf_counter()
        print(json.dumps({"t0": t0, "t1": t1, **stamps}), flush=True)


class Dispatcher:
    """The bench side of the dispatcher process."""

    def __init__(self, code: Code, log_path: Path) -> None:
        self.code = code
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 60) -> None:
        with self.log_path.open("w") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(Path(__file__).resolve()),
                "--dispatcher",
                "--root",
                str(self.code.root),
                cwd=self.code.root,
                env=self.code.env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        ready = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not ready:
            raise RuntimeError(f"dispatcher did not start, see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")

    async def change(self, marker: str, audience: str, user_ids: list[int], timeout: float = 30) -> dict:
        command = {"marker": marker, "audience": audience, "user_ids": user_ids if audience == "per-user" else []}
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"dispatcher died:\n{self.log_path.read_text()[-3000:]}")
        return json.loads(line)

    async def close(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(Exception):
            self.process.stdin.write(b'{"quit": true}\n')
            await self.process.stdin.drain()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await asyncio.wait_for(self.process.wait(), 10)


# --- Websocket clients --------------------------------------------------------------------------------------


@dataclass
class Round:
    """The arrivals of one dispatched change."""

    expected: int
    arrivals: list[float] = field(default_factory=list)
    complete: asyncio.Event = field(default_factory=asyncio.Event)


class RawSocket(asyncio.Protocol):
    """A minimal websocket client (RFC 6455: handshake, unmasked server frames, masked pong and close), so that the
    clients' own work per frame stays small next to the server's: `websockets` spends about 0.1 ms of Python on each
    frame, which at 1,000 sockets on this machine's 2 cores was more than daphne's whole fan-out (`--client
    websockets` to use it instead)."""

    def __init__(self, on_text: Callable[[bytes], None]) -> None:
        self.on_text = on_text
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.handshaken = False
        self.closing = False  # the bench started the closing handshake
        self.server_closed = False  # the server did
        self.fragments: list[bytes] = []

    @classmethod
    async def connect(cls, url: str, origin: str, cookie: str, on_text, timeout: float = 30) -> RawSocket:
        parts = urlsplit(url)
        loop = asyncio.get_running_loop()
        _, protocol = await asyncio.wait_for(
            loop.create_connection(lambda: cls(on_text), parts.hostname, parts.port), timeout
        )
        key = base64.b64encode(os.urandom(16)).decode()
        protocol.transport.write(
            (
                f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: {origin}\r\nCookie: {cookie}\r\n\r\n"
            ).encode()
        )
        try:
            await asyncio.wait_for(protocol.opened, timeout)
        except BaseException:
            protocol.transport.close()
            raise
        return protocol

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed during the handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.handshaken:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[: self.buffer.find(b"\r\n")]).decode("latin-1")
            del self.buffer[: end + 4]
            if status.split(" ")[1:2] != ["101"]:
                self.opened.set_exception(ConnectionError(f"handshake refused: {status}"))
                self.transport.close()
                return
            self.handshaken = True
            self.opened.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            first, length = buffer[0], buffer[1] & 0x7F
            start = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            opcode = first & 0x0F
            if opcode in (0x1, 0x0):  # text, or the continuation of a fragmented one
                self.fragments.append(payload)
                if first & 0x80:
                    self.on_text(b"".join(self.fragments))
                    self.fragments = []
            elif opcode == 0x9:  # daphne pings every 20 s and closes sockets that do not answer
                self._send(0xA, payload)
            elif opcode == 0x8:
                if not self.closing:
                    self.server_closed = True
                    self._send(0x8, payload[:2])
                self.transport.close()
                return

    def _send(self, opcode: int, payload: bytes) -> None:
        payload = payload[:125]  # control frames only: one length byte
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    async def close(self, timeout: float = 30) -> None:
        """The closing handshake: send a close frame, wait until the server closes the connection."""
        self.closing = True
        if not self.transport.is_closing():
            self._send(0x8, (1000).to_bytes(2, "big"))
        await asyncio.wait_for(asyncio.shield(self.closed), timeout)


class Fleet:
    """Websocket clients on one event loop (in a client process), recording when each message arrives."""

    def __init__(self, url: str, origin: str, sessions: list[tuple[int, str]], client: str = "raw") -> None:
        self.url = url
        self.origin = origin
        self.sessions = sessions
        self.client = client
        self.connections: list = []
        self.readers: list[asyncio.Task] = []
        self.rounds: dict[str, Round] = {}
        self.warmed: set[int] = set()
        self.websockets_closed = 0  # `websockets` connections the server closed before the bench did
        self.closing = False
        self.handshake_failures: list[str] = []

    async def open(self, concurrency: int = 25, timeout: float = 180) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake

        gate = asyncio.Semaphore(concurrency)

        async def one(index: int, session_key: str):
            async with gate:
                for attempt in range(3):
                    try:
                        if self.client == "raw":
                            return await RawSocket.connect(
                                self.url,
                                self.origin,
                                f"sessionid={session_key}",
                                partial(self._received, index),
                            )
                        return await connect(
                            self.url,
                            origin=self.origin,
                            additional_headers={"Cookie": f"sessionid={session_key}"},
                            proxy=None,
                            compression=None,
                            open_timeout=30,
                            ping_interval=None,
                            close_timeout=5,
                            max_queue=None,
                        )
                    except (OSError, TimeoutError, InvalidHandshake, ConnectionError) as exc:
                        # Counted and reported (a server refusing handshakes under load is a finding), then retried.
                        self.handshake_failures.append(f"{type(exc).__name__}: {exc}")
                        if attempt == 2:
                            raise
                        await asyncio.sleep(1)
                raise AssertionError("unreachable")

        self.connections = await asyncio.wait_for(
            asyncio.gather(*(one(index, key) for index, (_, key) in enumerate(self.sessions))), timeout
        )
        if self.client != "raw":
            self.readers = [asyncio.create_task(self._read(index, ws)) for index, ws in enumerate(self.connections)]

    def _received(self, index: int, payload: bytes) -> None:
        """A raw socket's text frame: the marker is read from the text as it is (no JSON parsing, see RawSocket)."""
        now = time.perf_counter()
        if b'"interface":"settings"' not in payload:
            return
        start = payload.find(b'"hmm_slug":"')
        if start < 0:
            return
        start += len(b'"hmm_slug":"')
        self._arrived(index, payload[start : payload.index(b'"', start)].decode(), now)

    def _arrived(self, index: int, marker: str, now: float) -> None:
        if marker.startswith("bench/warm-"):
            self.warmed.add(index)
        elif (current := self.rounds.get(marker)) is not None:
            current.arrivals.append(now)
            if len(current.arrivals) >= current.expected:
                current.complete.set()

    @property
    def server_closed(self) -> int:
        """Connections the server closed before the bench did."""
        raw = sum(1 for socket in self.connections if isinstance(socket, RawSocket) and socket.server_closed)
        return raw + self.websockets_closed

    async def _read(self, index: int, ws) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in ws:
                now = time.perf_counter()
                message = json.loads(raw)
                if message.get("interface") != "settings":
                    continue
                self._arrived(index, (message.get("data") or {}).get("hmm_slug", ""), now)
        except ConnectionClosed:
            pass
        if not self.closing:
            self.websockets_closed += 1

    def expect(self, marker: str) -> None:
        """Start timing a round: its arrivals, this process's CPU time and its event loop's lag."""
        self.rounds[marker] = Round(expected=len(self.connections))
        self.lag = LagMonitor()
        self.cpu_before = time.process_time()
        self.lag.start()

    async def collect(self, marker: str, timeout: float) -> dict:
        """The arrivals of a round (perf_counter times), once every client has it or after `timeout` seconds."""
        current = self.rounds[marker]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(current.complete.wait(), timeout)
        await self.lag.stop()
        del self.rounds[marker]
        return {
            "arrivals": current.arrivals,
            "expected": current.expected,
            "cpu": time.process_time() - self.cpu_before,
            "lag": self.lag.worst,
        }

    async def close(self, batch: int = 25, pause: float = 0.25) -> None:
        """Close the clients `batch` at a time, `pause` seconds apart (batch 0: all at once, like a proxy restart).

        The pause matters: the close handshake ends before daphne has run the consumer's `disconnect()`.
        """
        self.closing = True

        async def one(ws) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 30)

        size = batch or len(self.connections) or 1
        for start in range(0, len(self.connections), size):
            await asyncio.gather(*(one(ws) for ws in self.connections[start : start + size]))
            await asyncio.sleep(pause)
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


def client_worker_main() -> None:
    """A client process: one JSON command per line on stdin, one JSON answer per line on stdout (see `Clients`)."""

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        fleet: Fleet | None = None

        def answer(payload: dict) -> None:
            sys.stdout.write(json.dumps(payload) + "\n")
            sys.stdout.flush()

        while line := await reader.readline():
            command = json.loads(line)
            if "open" in command:
                spec = command["open"]
                fleet = Fleet(spec["url"], spec["origin"], spec["sessions"], spec["client"])
                await fleet.open()
                answer({"opened": len(fleet.connections), "failures": fleet.handshake_failures})
            elif "warmed" in command:
                answer({"warmed": len(fleet.warmed), "server_closed": fleet.server_closed})
            elif "expect" in command:
                fleet.expect(command["expect"])
                answer({"ok": True})
            elif "collect" in command:
                answer(await fleet.collect(command["collect"], command["timeout"]))
            elif "close" in command:
                await fleet.close(command["close"])
                answer({"server_closed": fleet.server_closed})
                return

    asyncio.run(serve())


class Clients:
    """The websocket clients, spread over `processes` client processes (this script with `--client-worker`), so
    that parsing 1,000 frames on one event loop does not become part of the time measured."""

    def __init__(
        self, processes: int, url: str, origin: str, sessions: list[tuple[int, str]], log: Path, client: str
    ) -> None:
        self.url, self.origin, self.log, self.client = url, origin, log, client
        count = max(1, min(processes, len(sessions)))
        self.parts = [sessions[index::count] for index in range(count)]
        self.workers: list[asyncio.subprocess.Process] = []
        self.server_closed = 0

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    async def _ask_all(self, commands: list[dict], timeout: float) -> list[dict]:
        for worker, command in zip(self.workers, commands, strict=True):
            worker.stdin.write((json.dumps(command) + "\n").encode())
            await worker.stdin.drain()

        async def answer(worker) -> dict:
            line = await asyncio.wait_for(worker.stdout.readline(), timeout)
            if not line:
                raise RuntimeError(f"a client process died, see {self.log}:\n{self.log.read_text()[-3000:]}")
            return json.loads(line)

        return await asyncio.gather(*(answer(worker) for worker in self.workers))

    async def ask(self, command: dict, timeout: float = 60) -> list[dict]:
        return await self._ask_all([command] * len(self.workers), timeout)

    async def open(self) -> None:
        with self.log.open("a") as log:
            for _ in self.parts:
                self.workers.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        str(Path(__file__).resolve()),
                        "--client-worker",
                        cwd=ROOT,
                        stdin=asyncio.subprocess.PIPE,
                        stdout=asyncio.subprocess.PIPE,
                        stderr=log,
                        limit=64 * 1024 * 1024,  # a round's answer lists every arrival
                    )
                )
        commands = [
            {"open": {"url": self.url, "origin": self.origin, "sessions": part, "client": self.client}}
            for part in self.parts
        ]
        answers = await self._ask_all(commands, timeout=240)
        self.handshake_failures = [failure for answer in answers for failure in answer["failures"]]

    async def warm_up(self, dispatcher: Dispatcher, label: str, attempts: int = 10, wait: float = 3.0) -> int:
        """Dispatch until every client has received a warm-up change (i.e. its socket is in `all`)."""
        warmed = 0
        for attempt in range(attempts):
            await dispatcher.change(f"bench/warm-{label}-{attempt}", "all", [])
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                answers = await self.ask({"warmed": True})
                warmed = sum(answer["warmed"] for answer in answers)
                self.server_closed = sum(answer["server_closed"] for answer in answers)
                if warmed == len(self):
                    await asyncio.sleep(0.3)  # let the last warm-up drain before timing
                    return attempt + 1
                await asyncio.sleep(0.05)
        raise RuntimeError(
            f"only {warmed} of {len(self)} clients received a warm-up change ({self.server_closed} connections "
            "were closed by the server; see daphne.log, --keep keeps it)"
        )

    async def run_round(
        self, dispatcher: Dispatcher, marker: str, audience: str, timeout: float, server_pid: int, user_ids
    ) -> dict:
        await self.ask({"expect": marker})
        server0 = process_cpu(server_pid)
        stamps = await dispatcher.change(marker, audience, user_ids)
        answers = await self.ask({"collect": marker, "timeout": timeout}, timeout=timeout + 60)
        server1 = process_cpu(server_pid)
        arrivals = sorted(arrival for answer in answers for arrival in answer["arrivals"])
        t0 = stamps["t0"]
        return {
            "client_cpu": sum(answer["cpu"] for answer in answers),
            "server_cpu": server1 - server0,
            "client_lag": max(answer["lag"] for answer in answers),
            "received": len(arrivals),
            "expected": len(self),
            "first": arrivals[0] - t0 if arrivals else math.nan,
            "last": arrivals[-1] - t0 if arrivals else math.nan,
            "call": stamps["t1"] - t0,
            "to_send": stamps.get("t_send", math.nan) - t0,
            "send": stamps.get("t_sent", math.nan) - stamps.get("t_send", math.nan),
        }

    async def close(self, batch: int) -> None:
        """Close every client (`batch` at a time in all, 0.25 s apart; 0: all at once) and end the processes."""
        if not self.workers:
            return
        per_worker = 0 if batch == 0 else max(1, batch // len(self.workers))
        with contextlib.suppress(Exception):
            answers = await self.ask({"close": per_worker}, timeout=300)
            self.server_closed = sum(answer["server_closed"] for answer in answers)
        for worker in self.workers:
            try:
                await asyncio.wait_for(worker.wait(), 30)
            except TimeoutError:
                worker.kill()
                await worker.wait()


class LagMonitor:
    """How late this process's event loop wakes a timer due every 5 ms: the clients' own backlog (frames waiting
    to be parsed while the loop is busy). Coarser ticks would miss short backlogs; finer ones cost the clients."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        async def tick() -> None:
            while True:
                before = time.perf_counter()
                await asyncio.sleep(0.005)
                self.worst = max(self.worst, time.perf_counter() - before - 0.005)

        self.task = asyncio.create_task(tick())

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (10 ms resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def group_size(redis_url: str, prefix: str, group: str) -> int:
    """How many channels a Channels group has in Redis (stale members would inflate every fan-out)."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        return await client.zcard(f"{prefix}:group:{group}")
    finally:
        await client.aclose()


# --- Statistics ---------------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summarize(code: str, label: str, results: list[dict], server_closed: int) -> dict:
    complete = [r for r in results if r["received"] == r["expected"]]
    lasts = [r["last"] for r in complete] or [math.nan]
    firsts = [r["first"] for r in results if r["received"]] or [math.nan]
    delivered = sum(r["received"] for r in results)
    busy = sum(r["last"] for r in results if r["received"])
    return {
        "code": code,
        "config": label,
        "clients": results[0]["expected"] if results else 0,
        "rounds": len(results),
        "lost": sum(r["expected"] - r["received"] for r in results),
        "closed": server_closed,
        "all_median": statistics.median(lasts),
        "all_p95": percentile(lasts, 0.95),
        "all_max": max(lasts),
        "first_median": statistics.median(firsts),
        "call_median": statistics.median(r["call"] for r in results),
        "to_send_median": statistics.median(r["to_send"] for r in results),
        "send_median": statistics.median(r["send"] for r in results),
        "msgs_per_s": delivered / busy if busy else math.nan,
        "server_cpu_median": statistics.median(r["server_cpu"] for r in results),
        "client_cpu_median": statistics.median(r["client_cpu"] for r in results),
        "client_lag_median": statistics.median(r["client_lag"] for r in results),
    }


def ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value * 1000:.1f}"


COLUMNS = [
    ("code", lambda row: row["code"]),
    ("config", lambda row: row["config"]),
    ("clients", lambda row: str(row["clients"])),
    ("rounds", lambda row: str(row["rounds"])),
    ("all recv median ms", lambda row: ms(row["all_median"])),
    ("all recv p95 ms", lambda row: ms(row["all_p95"])),
    ("all recv max ms", lambda row: ms(row["all_max"])),
    ("first recv median ms", lambda row: ms(row["first_median"])),
    ("msgs/s", lambda row: "n/a" if math.isnan(row["msgs_per_s"]) else f"{row['msgs_per_s']:.0f}"),
    ("write→send() ms", lambda row: ms(row["to_send_median"])),
    ("send() ms", lambda row: ms(row["send_median"])),
    ("daphne CPU ms", lambda row: ms(row["server_cpu_median"])),
    ("clients CPU ms", lambda row: ms(row["client_cpu_median"])),
    ("clients lag ms", lambda row: ms(row["client_lag_median"])),
    ("lost", lambda row: str(row["lost"])),
    ("closed by server", lambda row: str(row["closed"])),
]


def print_table(rows: list[dict]) -> None:
    """One line per code and configuration, the codes of one configuration side by side."""
    order = {config: index for index, config in enumerate(dict.fromkeys((r["config"], r["clients"]) for r in rows))}
    rows = sorted(rows, key=lambda row: order[(row["config"], row["clients"])])
    print("| " + " | ".join(name for name, _ in COLUMNS) + " |")
    print("|" + "|".join("---" for _ in COLUMNS) + "|")
    for row in rows:
        print("| " + " | ".join(cell(row) for _, cell in COLUMNS) + " |")


# --- The run ------------------------------------------------------------------------------------------------


async def wait_until_empty(redis_url: str, prefix: str, group: str, limit: float = 30) -> tuple[int, float]:
    """Members left in `group` once it is empty or `limit` seconds have passed, and how long that took."""
    started = time.monotonic()
    left = await group_size(redis_url, prefix, group)
    while left and time.monotonic() - started < limit:
        await asyncio.sleep(0.1)
        left = await group_size(redis_url, prefix, group)
    return left, time.monotonic() - started


async def bench(args: argparse.Namespace, code: Code, port: int, server_pid: int, sessions: list[tuple[int, str]]):
    dispatcher = Dispatcher(code, code.tmp / "dispatcher.log")
    url, origin = f"ws://127.0.0.1:{port}/ws", f"http://127.0.0.1:{port}"
    phases = [(args.clients, args.audiences)]
    if args.small_clients and args.small_clients != args.clients:
        # The small phase first: its few clients leave `all` cleanly, the many of the big phase may not.
        phases.insert(0, (args.small_clients, ["all"]))
    summaries = []
    try:
        await dispatcher.start()
        for count, audiences in phases:
            fleet = Clients(args.client_processes, url, origin, sessions[:count], code.tmp / "clients.log", args.client)
            try:
                started = time.perf_counter()
                await fleet.open()
                opened = time.perf_counter() - started
                warmups = await fleet.warm_up(dispatcher, str(count))
                members = await group_size(args.redis_url, args.prefix, "all")
                # One member per socket (each consumer joins its groups), or one per daphne process (core.fanout).
                print(
                    f"{code.name}: {count} clients connected in {opened:.1f}s, joined after {warmups} warm-up "
                    f"change(s); group `all` has {members} member(s)"
                )
                if fleet.handshake_failures:
                    kinds = Counter(fleet.handshake_failures).most_common(3)
                    print(f"  {len(fleet.handshake_failures)} handshakes failed and were tried again: {kinds}")
                if members not in (1, count):
                    print(f"  warning: `all` has {members} members for {count} sockets on one daphne: stale members")
                results: dict[str, list[dict]] = {audience: [] for audience in audiences}
                for number in range(args.rounds):
                    # Interleaved, so that drift (Redis, SQLite WAL, GC) affects every configuration alike.
                    for audience in audiences:
                        marker = f"bench/round-{count}-{audience}-{number}"
                        results[audience].append(
                            await fleet.run_round(
                                dispatcher, marker, audience, args.timeout, server_pid, [u for u, _ in sessions[:count]]
                            )
                        )
                        await asyncio.sleep(args.pause)
                for audience in audiences:
                    if args.details:
                        for number, row in enumerate(results[audience]):
                            print(
                                f"  {count} {audience:8} round {number:3}: first {ms(row['first']):>7} ms, "
                                f"all {ms(row['last']):>7} ms, send() {ms(row['send']):>7} ms, daphne CPU "
                                f"{ms(row['server_cpu']):>6} ms, clients CPU {ms(row['client_cpu']):>6} ms, "
                                f"received {row['received']}/{row['expected']}"
                            )
                    label = "all" if audience == "all" else f"per-user ({count} groups)"
                    summaries.append(summarize(code.name, label, results[audience], fleet.server_closed))
            finally:
                await fleet.close(args.close_batch)
            await asyncio.sleep(0.5)  # let daphne run the disconnects before the next phase
        # Daphne leaves the groups as it processes the disconnects of the closed sockets (with one member per
        # process, only the last one empties the group): wait until it is empty, at most 30 s.
        left, took = await wait_until_empty(args.redis_url, args.prefix, "all")
        print(
            f"{code.name}: after every client left, group `all` still has {left} member(s)"
            + (" (stale)" if left else f" (emptied {took + 0.5:.1f} s after the last close)")
        )
    finally:
        await dispatcher.close()
    return summaries


def daphne_errors(log: str) -> Counter:
    """The errors that ended consumers (each one closed a websocket), counted by message."""
    marker = "Exception inside application: "
    return Counter(line.split(marker, 1)[1].strip() for line in log.splitlines() if marker in line)


@contextlib.contextmanager
def daphne(code: Code, port: int, log_path: Path, app: str) -> Iterator[subprocess.Popen]:
    """The server as production runs it (`python -m virtool_site.server`, i.e. daphne), from the code's checkout."""
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", code.server, "-b", "127.0.0.1", "-p", str(port), app],
            cwd=code.root,
            env=code.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process)
            yield process
        finally:
            stop(process)


def report_logs(code: Code, failed: bool) -> None:
    """What daphne's and the dispatcher's logs say went wrong."""
    errors: Counter = Counter()
    if (code.tmp / "daphne.log").exists():
        errors = daphne_errors((code.tmp / "daphne.log").read_text(errors="replace"))
        for error, count in errors.most_common(5):
            print(f"{code.name} daphne.log: {count} x Exception inside application: {error}", file=sys.stderr)
    if (code.tmp / "dispatcher.log").exists():
        text = (code.tmp / "dispatcher.log").read_text(errors="replace")
        full = [line for line in text.splitlines() if "over capacity" in line]
        if full:
            print(
                f"{code.name} dispatcher.log: {len(full)} group sends found full inboxes, e.g. {full[0]}",
                file=sys.stderr,
            )
        if failed and not errors and (code.tmp / "daphne.log").exists():
            print(
                f"--- {code.name} daphne.log (tail) ---\n" + (code.tmp / "daphne.log").read_text()[-3000:],
                file=sys.stderr,
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="websocket clients (default 200)")
    parser.add_argument(
        "--small-clients",
        type=int,
        default=50,
        help="clients of the second `all` configuration; 0 to skip (default 50)",
    )
    parser.add_argument("--rounds", type=int, default=20, help="timed changes per configuration (default 20)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for one round (default 10)")
    parser.add_argument("--pause", type=float, default=0.1, help="seconds between rounds (default 0.1)")
    parser.add_argument("--max-seconds", type=float, default=900, help="give up after this long (default 900)")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="VIRTOOL_CHANNEL_PREFIX (default virtool-bench)")
    parser.add_argument(
        "--audiences",
        type=lambda text: text.split(","),
        default=["all", "per-user"],
        help="audiences timed with --clients, comma-separated (default all,per-user)",
    )
    parser.add_argument(
        "--close-batch",
        type=int,
        default=25,
        help="clients closed together, 0.25 s apart, after a phase; 0 closes all at once (default 25)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        help="another checkout (e.g. a worktree of main) whose daphne and dispatcher are run the same way, after "
        "this checkout's, on the same database and sessions",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=2,
        help="processes the websocket clients are spread over (default 2; 1: all on one event loop)",
    )
    parser.add_argument(
        "--client",
        choices=["raw", "websockets"],
        default="raw",
        help="websocket client: a minimal one (default) or the `websockets` library (about 0.1 ms a frame)",
    )
    parser.add_argument("--details", action="store_true", help="print every round")
    parser.add_argument(
        "--asgi",
        default="virtool_site.asgi:application",
        help="ASGI application daphne serves (to try a variant; default virtool_site.asgi:application)",
    )
    parser.add_argument(
        "--settings",
        default="virtool_site.settings",
        help="DJANGO_SETTINGS_MODULE of daphne and the dispatcher (to try a variant)",
    )
    parser.add_argument(
        "--server",
        default="virtool_site.server",
        help="module daphne is run as (default virtool_site.server, as bin/supervisord.conf; `daphne` for stock)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, database)")
    parser.add_argument("--dispatcher", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dispatcher:
        dispatcher_main(args.root)
        return 0
    if args.client_worker:
        client_worker_main()
        return 0
    if args.clients < 1 or args.rounds < 1 or args.small_clients < 0:
        parser.error("--clients and --rounds must be at least 1")
    if not args.audiences or set(args.audiences) - {"all", "per-user"}:
        parser.error("--audiences takes all and/or per-user")
    if args.compare and not (args.compare / "manage.py").exists():
        parser.error(f"--compare: {args.compare} is not a checkout (no manage.py)")

    # SIGTERM (and SIGINT, even when a non-interactive shell started the bench in the background) interrupts the
    # run like Ctrl-C, so that the `finally` blocks stop daphne and the dispatcher and remove the temp dir.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    tmp = Path(tempfile.mkdtemp(prefix="virtool-bench-"))
    env = build_env(data_path=tmp / "data", redis_url=args.redis_url, prefix=args.prefix)
    env["DJANGO_SETTINGS_MODULE"] = args.settings
    codes = [Code("this checkout", ROOT, tmp / "this", env, args.server)]
    if args.compare:
        codes.append(Code(f"compare: {args.compare}", args.compare.resolve(), tmp / "compare", env, args.server))
    failed = True
    summaries: list[dict] = []
    try:
        for code in codes:
            code.tmp.mkdir()
            # This checkout migrates; the compare checkout must find nothing to do on the same database.
            migrate = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput"],
                cwd=code.root,
                env=code.env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if migrate.returncode:
                raise RuntimeError(f"{code.name}: migrate failed:\n{migrate.stdout[-2000:]}\n{migrate.stderr[-3000:]}")
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        sessions = make_users_and_sessions(max(args.clients, args.small_clients))
        print(f"Redis {args.redis_url} prefix {args.prefix!r}, data {tmp}; load average {load_average()}")
        for code in codes:
            clear_redis_prefix(args.redis_url, args.prefix)
            port = free_port()
            print(f"{code.name}: {code.server} on 127.0.0.1:{port} from {code.root} ({code.commit})")
            with daphne(code, port, code.tmp / "daphne.log", args.asgi) as server:
                summaries += asyncio.run(
                    asyncio.wait_for(bench(args, code, port, server.pid, sessions), args.max_seconds)
                )
            report_logs(code, failed=False)
        print()
        print(f"{' '.join(sys.argv)}  (times in ms from just before settings_update; load average {load_average()})")
        for code in codes:
            print(f"- {code.name}: {code.root} at {code.commit}")
        print_table(summaries)
        failed = any(row["lost"] or row["closed"] for row in summaries)
        return 1 if failed else 0
    finally:
        with contextlib.suppress(Exception):
            clear_redis_prefix(args.redis_url, args.prefix)
        if failed:
            for code in codes:
                report_logs(code, failed=True)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; daphne, the dispatcher and the temp dir were cleaned up", file=sys.stderr)
        sys.exit(130)
