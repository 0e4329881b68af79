#!/usr/bin/env python
"""Load benchmark: 50 concurrent signed-in clients for 30 s on the samples list and on the account, through a real
daphne; requests/s, p50/p99 latency and errors, this checkout side by side with another one (`--compare`).

    .venv/bin/python bench/load.py [--clients 50] [--seconds 30] [--compare ../main] [--notes-mb 9]

What it does (figures in bench/README.md):

1. makes a throwaway data path with its own SQLite database (`--database-url` for another, empty, one), migrated
   by this checkout; one user (not an administrator) signed in once (a Django session, its cookie shared by all
   clients, as one user's browser tabs would); `--samples` samples readable by everyone, two labels on each;
   one of them carries `--notes-mb` MB of notes written straight into the database (bypassing today's limit, as
   rows written before it would), so the list's page of 25 holds 9 MB of notes it does not return;
2. for each code (this checkout, then `--compare`'s) starts `python -m virtool_site.server` from that checkout on
   the same database and data path, warms it up, and runs each target in turn: `--clients` asyncio clients, each
   with its own keep-alive connection, sending `GET` one after another for `--seconds`; a request is an error
   unless it answers 200 with the whole body;
3. prints one table: per code and target, requests, requests/s, p50/p99/max latency (ms), errors.

Needs Redis (the channel layer daphne connects to; `--redis-url`, default redis://127.0.0.1:6379/11).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import ROOT, sandbox

APPLICATION = "virtool_site.asgi:application"
TARGETS = {"samples list": "/api/samples", "account": "/api/account"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--samples", type=int, default=25, help="samples in the list (its first page holds 25)")
    parser.add_argument("--notes-mb", type=float, default=9.0, help="MB of notes on one sample (0: none)")
    parser.add_argument(
        "--processes",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2],
        help="server processes for this checkout, one row set per count (default 1,2)",
    )
    parser.add_argument("--compare", type=Path, help="another checkout (e.g. a worktree of main) to run the same way")
    parser.add_argument("--database-url", help="an empty database to use instead of a temp SQLite file")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"))
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    with sandbox(
        prefix="virtool-bench-load", redis_url=args.redis_url, database_url=args.database_url, keep=args.keep
    ) as temp:
        run(args, temp)


def prepare(args):
    """The user, the samples and their notes; returns the user."""

    from samples.models import Label, Sample
    from users.models import User

    user = User.objects.create_user("loaded", "a long password")
    labels = [Label.objects.create(name=f"label {n}", description="A label of the load benchmark") for n in (1, 2)]
    for number in range(args.samples):
        sample = Sample.objects.create(name=f"Sample {number:03}", ready=True, all_read=True, host="Vitis vinifera")
        sample.labels.set(labels)
    if args.notes_mb:
        notes = ("Field notes. " * 80 + "\n") * int(args.notes_mb * 1024 * 1024 / 1041)
        Sample.objects.filter(name="Sample 000").update(notes=notes)  # written as before the limit, no validation
    return user


def sign_in(user) -> str:
    """A new session for `user` (each code gets its own: a session saved by one code may name its own backend)."""
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")  # a name every checkout knows
    return client.cookies["sessionid"].value


def start_server(checkout: Path, port: int, log: Path, processes: int = 1) -> list[subprocess.Popen]:
    """One server, or `processes` servers accepting on one listening socket (daphne's `--fd`, as supervisord's
    `fcgi-program` runs several), each a whole daphne with its websockets."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    if processes == 1:
        commands = [["-b", "127.0.0.1", "-p", str(port)]]
        listener = None
    else:
        listeners = []
        for _ in range(processes):
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(1024)
            listeners.append(listener)
        commands = [["--fd", str(listener.fileno())] for listener in listeners]
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "virtool_site.server", *command, APPLICATION],
            cwd=checkout,
            env=env,
            stdout=log.with_suffix(f".{number}.log").open("w"),
            stderr=subprocess.STDOUT,
            pass_fds=[listeners[number].fileno()] if processes > 1 else [],
        )
        for number, command in enumerate(commands)
    ]
    if processes > 1:
        for listener in listeners:
            listener.close()  # the servers hold them
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in started):
            raise RuntimeError(f"a server of {checkout} exited: see {log.parent}")
        try:
            asyncio.run(fetch_once(port, "/api", ""))
            time.sleep(1 if processes > 1 else 0)  # the others are up too
            return started
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the server of {checkout} did not start")


async def fetch_once(port: int, path: str, cookie: str) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        status, _ = await get(reader, writer, port, path, cookie)
        return status
    finally:
        writer.close()


async def get(reader, writer, port: int, path: str, cookie: str) -> tuple[int, int]:
    """One keep-alive GET; returns the status and the body's length (read whole)."""
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: sessionid={cookie}\r\n"
        f"Accept: application/json\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int(next((value for key, value in headers.items() if key.lower() == "content-length"), "0"))
    body = await reader.readexactly(length)
    return status, len(body)


async def client(port: int, path: str, cookie: str, until: float, latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            try:
                status, _ = await get(reader, writer, port, path, cookie)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                errors.append(repr(error))
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if status != 200:
                errors.append(str(status))
                continue
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


async def phase(port: int, path: str, cookie: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(client(port, path, cookie, until, latencies, errors) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def quantile(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    return {
        "requests": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": quantile(0.50),
        "p99": quantile(0.99),
        "max": ordered[-1] * 1000 if ordered else float("nan"),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:3],
        "median": statistics.median(ordered) * 1000 if ordered else float("nan"),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(args, temp: Path) -> None:
    user = prepare(args)
    codes = [(f"this checkout, {n} process{'es' if n > 1 else ''}", ROOT, n) for n in args.processes]
    codes += [("compare: " + str(args.compare), args.compare.resolve(), 1)] if args.compare else []
    rows = []
    for name, checkout, processes in codes:
        port = free_port()
        cookie = sign_in(user)
        servers = start_server(checkout, port, temp / f"daphne-{len(rows)}.log", processes)
        try:
            for target, path in TARGETS.items():
                asyncio.run(phase(port, path, cookie, clients=5, seconds=2))  # warm-up
                result = asyncio.run(phase(port, path, cookie, clients=args.clients, seconds=args.seconds))
                rows.append((name, target, result))
                print(f"{name:>36}  {target:<13} {result['rate']:7.1f} req/s  errors {result['errors']}", flush=True)
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(10)
    print()
    print(f"{args.clients} clients, {args.seconds:.0f} s each; {args.samples} samples, {args.notes_mb:g} MB of notes")
    print("| code | target | requests | req/s | p50 ms | p99 ms | max ms | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, target, result in rows:
        print(
            f"| {name} | {target} | {result['requests']} | {result['rate']:.1f} | {result['p50']:.0f} | "
            f"{result['p99']:.0f} | {result['max']:.0f} | {result['errors']} {' '.join(result['error_kinds'])} |"
        )


if __name__ == "__main__":
    main()
