#!/usr/bin/env python
"""Upload benchmark: throughput and server memory of one large upload to POST /api/uploads.

    .venv/bin/python bench/upload_throughput.py --size-mb 1024

What it does (see bench/README.md for the figures and how to read them):

1. makes a throwaway data path with a SQLite database, runs `manage.py migrate`, creates one full administrator
   and one Django session for it (directly with `SessionStore`, no password hashing);
2. writes a FASTQ-looking file of `--size-mb` MiB into the temp dir (valid 150 bp records, repeated; its
   SHA-256 is computed as it is written);
3. for each configuration, starts a fresh server on 127.0.0.1 with that env (Redis at REDIS_URL, default
   redis://127.0.0.1:6379/11, channel prefix `virtool-bench-upload`; TMPDIR inside the temp dir, so the servers'
   spooled bodies are cleaned up with it), warms it up (a list request and a small upload), then sends the
   file with a streaming client (`requests` with an iterable body of known length, 1 MiB reads, so the client
   never holds the file; `Cookie: sessionid=...`, `Origin: http://127.0.0.1:PORT`), while a thread samples the
   server process's VmRSS from /proc/<pid>/status every 50 ms;
4. checks the answer (201, size and sha256 as sent), deletes the upload, stops the server;
5. prints a table and cleans up (servers, Redis keys under the prefix, the temp dir).

A second thread times a small request (GET /api/account) every 100 ms during the upload: how long the server
stops answering anything else ("probe max").

Configurations (`--configs`, default streaming-raw,streaming-multipart,patched-multipart,stock-raw):

- `streaming-raw`:        `python -m virtool_site.server` (daphne with lazily read bodies), raw
                          `application/octet-stream` body (what the uploads page sends);
- `streaming-multipart`:  the same server, `multipart/form-data` with the file in the field `file`, the body
                          generated on the fly (preamble, the file in 1 MiB reads, closing boundary). Twisted parses
                          such bodies in memory before daphne sees them (about 10x the body), so its size is capped
                          with `--multipart-max-mb` (default 256);
- `patched-multipart`:    the same, on the same server with Twisted's form parsing turned off (see PATCHED_SERVER);
- `stock-raw`:            plain `python -m daphne`, raw body: daphne 4.2 copies the whole spooled body into the
                          application's queue at once (django/daphne#483), so its memory grows with the upload.
                          Capped with `--stock-max-mb` (default: `--size-mb`);
- `stock-multipart`:      plain daphne, multipart (capped like streaming-multipart); not run by default.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ws_fanout import build_env, clear_redis_prefix, free_port, stop, wait_for_port  # noqa: E402

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
DEFAULT_PREFIX = "virtool-bench-upload"
MIB = 1024 * 1024
CHUNK = MIB
# Daphne's request is a Twisted `Request`, which parses every multipart/form-data POST body into `request.args`
# (all of it, in memory, with the email package) before daphne sees the request. Daphne never reads those args.
# The `patched` server turns that parsing off, to show what it costs.
PATCHED_SERVER = """
import daphne.http_protocol

_init = daphne.http_protocol.WebRequest.__init__


def _init_without_form_parsing(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self._parsePOSTFormSubmission = False


daphne.http_protocol.WebRequest.__init__ = _init_without_form_parsing
from virtool_site.server import VirtoolCommandLine

VirtoolCommandLine.entrypoint()
"""
SERVERS = {
    "streaming": ["-m", "virtool_site.server"],
    "stock": ["-m", "daphne"],
    "patched": ["-c", PATCHED_SERVER],
}
# config: (server, body)
CONFIGS = {
    "streaming-raw": ("streaming", "raw"),
    "streaming-multipart": ("streaming", "multipart"),
    "patched-multipart": ("patched", "multipart"),
    "stock-raw": ("stock", "raw"),
    "stock-multipart": ("stock", "multipart"),
}
DEFAULT_CONFIGS = ["streaming-raw", "streaming-multipart", "patched-multipart", "stock-raw"]


# --- Setup ------------------------------------------------------------------------------------------------------


def make_admin_session() -> str:
    """Create a full administrator and an authenticated session for it; returns the session key."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connections

    from users.models import User

    user = User(handle="bench-admin", administrator_role="full")
    user.set_unusable_password()  # no password hashing: the session is made here, not by logging in
    user.save()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["remember"] = True
    session.create()
    connections.close_all()
    return session.session_key


def write_fastq(path: Path, size: int) -> str:
    """Write `size` bytes of FASTQ records (150 bp, repeated) to `path`; returns the SHA-256 of the file."""
    rng = random.Random(0)
    records = []
    for number in range(2000):
        sequence = "".join(rng.choice("ACGT") for _ in range(150))
        quality = "".join(rng.choice("?@ABCDEFGHI") for _ in range(150))
        records.append(f"@bench:{number} length=150\n{sequence}\n+\n{quality}\n")
    block = "".join(records).encode()  # about 0.65 MB of valid records
    digest = hashlib.sha256()
    remaining = size
    with path.open("wb") as handle:
        while remaining:
            data = block[:remaining]
            handle.write(data)
            digest.update(data)
            remaining -= len(data)
    return digest.hexdigest()


# --- Measuring ----------------------------------------------------------------------------------------------


def read_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, amount, _unit = line.split()
                values[name[:-1]] = int(amount) * 1024
    return values


class RssSampler(threading.Thread):
    """Samples a process's VmRSS every `interval` seconds until stopped."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            with contextlib.suppress(OSError, KeyError):
                self.samples.append((time.perf_counter(), read_status(self.pid)["VmRSS"]))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)

    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)


class Probe(threading.Thread):
    """Times a small authenticated request (GET /api/account) every `interval` seconds during the upload: a
    server whose event loop is busy with the body cannot answer it."""

    def __init__(self, url: str, headers: dict[str, str], interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.headers = headers
        self.interval = interval
        self.latencies: list[float] = []
        self.failures = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        import requests

        with requests.Session() as http:
            http.headers.update(self.headers)
            while not self._stop_event.is_set():
                started = time.perf_counter()
                try:
                    http.get(self.url, timeout=120).raise_for_status()
                    self.latencies.append(time.perf_counter() - started)
                except requests.RequestException:
                    self.failures += 1
                self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(130)


class Body:
    """A request body read from a file as it is sent: an iterable with a length, so `requests` streams it with
    Content-Length (as a browser does) instead of loading it or falling back to chunked encoding."""

    def __init__(self, path: Path, size: int, prefix: bytes = b"", suffix: bytes = b"") -> None:
        self.path = path
        self.size = size
        self.prefix = prefix
        self.suffix = suffix
        self.sent_at = 0.0

    def __len__(self) -> int:
        return len(self.prefix) + self.size + len(self.suffix)

    def __iter__(self) -> Iterator[bytes]:
        if self.prefix:
            yield self.prefix
        remaining = self.size
        with self.path.open("rb") as handle:
            while remaining > 0:
                data = handle.read(min(CHUNK, remaining))
                if not data:
                    raise RuntimeError(f"{self.path} is shorter than {self.size} bytes")
                remaining -= len(data)
                yield data
        if self.suffix:
            yield self.suffix
        self.sent_at = time.perf_counter()


def request_body(kind: str, path: Path, size: int, name: str) -> tuple[Body, str]:
    """The body and its Content-Type: the raw file, or a multipart form with the file in the field `file`."""
    if kind == "raw":
        return Body(path, size), "application/octet-stream"
    boundary = f"----virtool-bench-{uuid.uuid4().hex}"
    prefix = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    suffix = f"\r\n--{boundary}--\r\n".encode()
    return Body(path, size, prefix, suffix), f"multipart/form-data; boundary={boundary}"


# --- One run ------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """The result of one upload."""

    config: str
    size: int
    seconds: float = float("nan")
    send_seconds: float = float("nan")
    baseline: int = 0
    peak: int = 0
    after: int = 0
    hwm: int = 0
    probe_median: float = float("nan")
    probe_max: float = float("nan")
    status: str = ""
    samples: list[tuple[float, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "201"


@contextlib.contextmanager
def server(kind: str, env: dict[str, str], port: int, log_path: Path) -> Iterator[subprocess.Popen]:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, *SERVERS[kind], "-b", "127.0.0.1", "-p", str(port), "virtool_site.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process)
            yield process
        finally:
            stop(process)


def upload_once(
    args: argparse.Namespace, config: str, env: dict[str, str], tmp: Path, session: str, source: Path, sha256: str
) -> Run:
    import requests

    kind, body_kind = CONFIGS[config]
    size = source.stat().st_size
    if kind == "stock":
        size = min(size, args.stock_max_mb * MIB)
    if body_kind == "multipart" and kind != "patched":
        size = min(size, args.multipart_max_mb * MIB)
    run = Run(config=config, size=size)
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    log_path = tmp / f"server-{config}.log"
    http = requests.Session()
    http.headers.update({"Cookie": f"sessionid={session}", "Origin": origin, "Accept": "application/json"})
    try:
        with server(kind, env, port, log_path) as process:
            # Warm up: the first requests import the application and open the database; a small upload loads the
            # upload code path. The baseline is taken after that.
            http.get(f"{origin}/api/uploads", timeout=30).raise_for_status()
            small = b"@warm\nACGT\n+\nIIII\n"
            warm = http.post(
                f"{origin}/api/uploads?name=warm.fq&type=reads",
                data=small,
                headers={"Content-Type": "application/octet-stream"},
                timeout=30,
            )
            if warm.status_code != 201:
                raise RuntimeError(f"warm-up upload failed: {warm.status_code} {warm.text[:500]}")
            http.delete(f"{origin}/api/uploads/{warm.json()['id']}", timeout=30).raise_for_status()
            time.sleep(0.5)
            readings = []
            for _ in range(5):
                readings.append(read_status(process.pid)["VmRSS"])
                time.sleep(0.05)
            run.baseline = int(statistics.median(readings))

            name = f"bench-{config}.fq"
            body, content_type = request_body(body_kind, source, size, name)
            sampler = RssSampler(process.pid, args.sample_ms / 1000)
            sampler.start()
            probe = Probe(f"{origin}/api/account", dict(http.headers))
            probe.start()
            started = time.perf_counter()
            try:
                response = http.post(
                    f"{origin}/api/uploads?name={name}&type=reads",
                    data=body,
                    headers={"Content-Type": content_type},
                    timeout=(10, args.timeout),
                )
                finished = time.perf_counter()
                probe.stop()
                time.sleep(1.0)  # what the server keeps once the request is over
            finally:
                probe.stop()
                sampler.stop()
            if probe.latencies:
                run.probe_median = statistics.median(probe.latencies)
                run.probe_max = max(probe.latencies)
            run.samples = [(at - started, rss) for at, rss in sampler.samples]
            run.seconds = finished - started
            run.send_seconds = (body.sent_at - started) if body.sent_at else float("nan")
            run.peak = max(sampler.peak(), run.baseline)
            status = read_status(process.pid)
            run.after = status["VmRSS"]
            run.hwm = status["VmHWM"]
            run.status = str(response.status_code)
            if response.status_code == 201:
                document = response.json()
                if document["size"] != size:
                    run.status = f"201 but size {document['size']} != {size}"
                elif size == source.stat().st_size and document["sha256"] != sha256:
                    run.status = "201 but sha256 differs"
                http.delete(f"{origin}/api/uploads/{document['id']}", timeout=60)
            else:
                run.status = f"{response.status_code} {response.text[:200]}"
    except (requests.RequestException, RuntimeError, TimeoutError) as error:
        run.status = f"error: {error}"[:300]
        if log_path.exists():
            print(f"--- {log_path.name} (tail) ---\n{log_path.read_text(errors='replace')[-2000:]}", file=sys.stderr)
    finally:
        http.close()
    return run


# --- Output -------------------------------------------------------------------------------------------------


def mb(value: int) -> str:
    return f"{value / MIB:.0f}"


def print_table(runs: list[Run]) -> None:
    headers = [
        "config",
        "size MiB",
        "wall s",
        "MiB/s",
        "client sent s",
        "answer after last byte s",
        "RSS baseline MiB",
        "RSS peak MiB",
        "RSS growth MiB",
        "RSS after MiB",
        "VmHWM MiB",
        "probe median ms",
        "probe max ms",
        "result",
    ]
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for run in runs:
        rate = run.size / MIB / run.seconds if run.seconds == run.seconds and run.seconds > 0 else float("nan")
        wait = run.seconds - run.send_seconds
        cells = [
            run.config,
            mb(run.size),
            f"{run.seconds:.1f}",
            f"{rate:.0f}",
            f"{run.send_seconds:.1f}",
            f"{wait:.1f}",
            mb(run.baseline),
            mb(run.peak),
            mb(run.peak - run.baseline),
            mb(run.after),
            mb(run.hwm),
            f"{run.probe_median * 1000:.0f}",
            f"{run.probe_max * 1000:.0f}",
            "ok" if run.ok else run.status,
        ]
        print("| " + " | ".join(cells) + " |")


def print_timeline(run: Run, points: int = 12) -> None:
    """A few RSS samples over the run, to see when the memory is taken."""
    if not run.samples:
        return
    step = max(1, len(run.samples) // points)
    parts = [f"{at:.1f}s:{rss / MIB:.0f}" for at, rss in run.samples[::step]]
    print(f"  {run.config}: RSS MiB over time: " + " ".join(parts))


# --- Main ---------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the uploaded file in MiB (default 1024)")
    parser.add_argument(
        "--stock-max-mb", type=int, default=None, help="cap for the stock daphne upload in MiB (default: --size-mb)"
    )
    parser.add_argument(
        "--configs",
        type=lambda text: text.split(","),
        default=DEFAULT_CONFIGS,
        help=f"comma-separated, of {', '.join(CONFIGS)} (default {','.join(DEFAULT_CONFIGS)})",
    )
    parser.add_argument(
        "--multipart-max-mb",
        type=int,
        default=256,
        help="cap for multipart uploads to a server that parses forms in Twisted (about 10x the body in RAM; "
        "default 256)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration (default 1)")
    parser.add_argument("--sample-ms", type=float, default=50, help="RSS sampling interval (default 50 ms)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for one upload (default 900)")
    parser.add_argument("--timeline", action="store_true", help="print RSS samples over each run")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help=f"VIRTOOL_CHANNEL_PREFIX (default {DEFAULT_PREFIX})")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server logs, database)")
    args = parser.parse_args()
    if args.size_mb < 1 or args.repeat < 1:
        parser.error("--size-mb and --repeat must be at least 1")
    if set(args.configs) - set(CONFIGS):
        parser.error(f"--configs takes {', '.join(CONFIGS)}")
    args.stock_max_mb = args.size_mb if args.stock_max_mb is None else min(args.stock_max_mb, args.size_mb)
    args.multipart_max_mb = min(args.multipart_max_mb, args.size_mb)

    # SIGTERM (and SIGINT, even when a non-interactive shell started the bench in the background) interrupts the
    # run like Ctrl-C, so that the `finally` blocks stop the server and remove the temp dir.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    tmp = Path(tempfile.mkdtemp(prefix="virtool-bench-upload-"))
    env = build_env(data_path=tmp / "data", redis_url=args.redis_url, prefix=args.prefix)
    spool = tmp / "spool"
    spool.mkdir()
    env["TMPDIR"] = str(spool)  # daphne's and Django's spooled request bodies
    runs: list[Run] = []
    try:
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if migrate.returncode:
            raise RuntimeError(f"migrate failed:\n{migrate.stdout[-2000:]}\n{migrate.stderr[-3000:]}")
        os.environ.update({key: value for key, value in env.items() if key != "TMPDIR"})
        sys.path.insert(0, str(ROOT))
        session = make_admin_session()
        clear_redis_prefix(args.redis_url, args.prefix)

        source = tmp / "reads.fq"
        started = time.perf_counter()
        sha256 = write_fastq(source, args.size_mb * MIB)
        print(f"wrote {args.size_mb} MiB of FASTQ in {time.perf_counter() - started:.1f}s; data {tmp}")
        for number in range(args.repeat):
            for config in args.configs:
                run = upload_once(args, config, env, tmp, session, source, sha256)
                runs.append(run)
                print(
                    f"[{number + 1}/{args.repeat}] {config}: {run.seconds:.1f}s, RSS {mb(run.baseline)} -> "
                    f"peak {mb(run.peak)} MiB, {'ok' if run.ok else run.status}",
                    flush=True,
                )
        print()
        print(f"{' '.join(sys.argv)}  (RSS of the server process, sampled every {args.sample_ms:g} ms)")
        print_table(runs)
        if args.timeline:
            for run in runs:
                print_timeline(run)
        return 0 if all(run.ok for run in runs) else 1
    finally:
        with contextlib.suppress(Exception):
            clear_redis_prefix(args.redis_url, args.prefix)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the server and the temp dir were cleaned up", file=sys.stderr)
        sys.exit(130)
