"""Upload files or a sequencer's run folder to Virtool over tus (resumable), and optionally create the samples.

    python -m virtool_cli upload --url http://virtool:9950 --key KEY --user alice RUN_FOLDER --create-samples

Each file goes up in chunks (PATCH, each with its SHA-256 in `Upload-Checksum`). Where each file's upload lives on
the server is remembered in a state file (`--state`, by default `~/.cache/virtool_cli/uploads.json`), keyed by the
server, the user and the file's path, size and modification time; an interrupted run, started again, asks the
server how much it has (HEAD) and sends the rest. A dropped connection is retried in the same run, with growing
pauses, asking the server for its offset each time. Reads are paired by name (`_R1`/`_R2`, `_1`/`_2`, with
Illumina's `_001` ending) and, with `--create-samples`, each pair (or single file) becomes a sample through
`POST /api/samples`.

Needs only `requests`; the API key is an account's key (Account → API keys) on an instance whose administrator
turned on `enable_api`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

TUS_VERSION = "1.0.0"
READS_SUFFIXES = (".fq", ".fastq", ".fq.gz", ".fastq.gz")
DEFAULT_CHUNK_MIB = 8
RETRY_PAUSES = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
# A name ending in _R1/_R2 or _1/_2 (also -R1, .R1), optionally followed by Illumina's _001, before the suffix.
PAIR = re.compile(r"^(?P<stem>.+?)[._-](?:R)?(?P<mate>[12])(?:_001)?$", re.IGNORECASE)


class UploadError(Exception):
    """A refusal the server gave (its message), or a failure that retrying did not cure."""


def say(message: str) -> None:
    """Progress and results go to stderr; stdout carries only the JSON summary."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def guess_type(name: str) -> str:
    """The upload type a file name suggests, as the Uploads page guesses it."""
    lower = name.lower()
    if lower.endswith(".json.gz"):
        return "reference"
    if re.search(r"\.(fa|fasta)(\.gz)?$", lower):
        return "subtraction"
    if lower.endswith(".hmm") or re.search(r"\.(tar\.gz|tgz|tar)$", lower):
        return "hmm"
    return "reads"


def reads_stem(name: str) -> str:
    """A reads file's name without its FASTQ suffix."""
    lower = name.lower()
    for suffix in sorted(READS_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def collect(paths: list[Path]) -> list[Path]:
    """The files named, and the FASTQ files inside the folders named (recursively), in name order, once each."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.name.lower().endswith(READS_SUFFIXES) and not child.name.startswith("."):
                    found[child.resolve()] = None
        elif path.is_file():
            found[path.resolve()] = None
        else:
            raise UploadError(f"{path} is not a file or folder")
    return list(found)


@dataclass
class SamplePlan:
    """One sample to create: its name and its one or two reads files (R1 first)."""

    name: str
    files: list[Path]


def pair_reads(files: list[Path]) -> list[SamplePlan]:
    """Pair reads files by name: `x_R1`/`x_R2` (or `x_1`/`x_2`, `x_R1_001`...) make one paired sample named `x`;
    a file without its mate is a single-end sample named after the file. Names are compared within a folder."""
    mates: dict[tuple[Path, str], dict[str, Path]] = {}
    singles: list[SamplePlan] = []
    for path in files:
        stem = reads_stem(path.name)
        match = PAIR.match(stem)
        if match:
            mates.setdefault((path.parent, match["stem"]), {})[match["mate"]] = path
        else:
            singles.append(SamplePlan(stem, [path]))
    plans: list[SamplePlan] = []
    for (_, stem), by_mate in mates.items():
        if set(by_mate) == {"1", "2"}:
            plans.append(SamplePlan(stem, [by_mate["1"], by_mate["2"]]))
        else:
            plans.extend(SamplePlan(reads_stem(path.name), [path]) for path in by_mate.values())
    return sorted(plans + singles, key=lambda plan: plan.name)


class State:
    """Where each file's upload is on the server, remembered between runs (a small JSON file, written atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data: dict[str, dict[str, Any]] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.data = {}

    @staticmethod
    def key(server: str, user: str, path: Path) -> str:
        stat = path.stat()
        return f"{server}|{user}|{path}|{stat.st_size}|{stat.st_mtime_ns}"

    def get(self, key: str) -> dict[str, Any] | None:
        return self.data.get(key)

    def put(self, key: str, value: dict[str, Any] | None) -> None:
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(temporary, self.path)


def _metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.reason}"
    if isinstance(body, dict) and "message" in body:
        return f"{response.status_code} {body['message']}"
    return f"{response.status_code} {body}"


TRANSIENT = {408, 409, 423, 429, 500, 502, 503, 504}


class Client:
    """A tus client for Virtool's `/api/uploads/tus`, with the account's API key."""

    def __init__(
        self,
        *,
        url: str,
        user: str,
        key: str,
        chunk_size: int,
        retries: int,
        state: State,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.user = user
        self.chunk_size = chunk_size
        self.retries = retries
        self.state = state
        self.sleep = sleep
        self.session = requests.Session()
        self.session.auth = (user, key)
        self.session.headers["Tus-Resumable"] = TUS_VERSION

    def _absolute(self, location: str) -> str:
        return location if location.startswith("http") else self.url + location

    def _retrying(self, what: str, attempt: Callable[[], requests.Response]) -> requests.Response:
        """Run `attempt` until it gets an answer that is not transient (or the retries are used up)."""
        for tries in range(self.retries + 1):
            try:
                response = attempt()
            except (requests.ConnectionError, requests.Timeout) as error:
                problem = f"connection lost ({type(error).__name__})"
            else:
                if response.status_code not in TRANSIENT:
                    return response
                problem = _message(response)
            if tries == self.retries:
                raise UploadError(f"{what}: {problem}; gave up after {self.retries} retries")
            pause = RETRY_PAUSES[min(tries, len(RETRY_PAUSES) - 1)]
            say(f"  {what}: {problem}; retrying in {pause:g} s")
            self.sleep(pause)
        raise AssertionError("unreachable")

    def _create(self, path: Path, upload_type: str) -> str:
        response = self._retrying(
            f"creating the upload of {path.name}",
            lambda: self.session.post(
                f"{self.url}/api/uploads/tus",
                headers={
                    "Upload-Length": str(path.stat().st_size),
                    "Upload-Metadata": _metadata(name=path.name, type=upload_type),
                },
                timeout=60,
            ),
        )
        if response.status_code != 201:
            raise UploadError(f"{path.name}: {_message(response)}")
        return self._absolute(response.headers["Location"])

    def _offset(self, location: str) -> tuple[int, int] | None:
        """(offset, upload id) the server has for `location`, or None when it no longer knows the upload."""
        response = self._retrying("asking the server how much it has", lambda: self.session.head(location, timeout=60))
        if response.status_code in (403, 404, 410):
            return None
        if response.status_code != 200:
            raise UploadError(f"asking for the offset: {_message(response)}")
        return int(response.headers["Upload-Offset"]), int(response.headers["Virtool-Upload-Id"])

    def upload(self, path: Path, upload_type: str, progress: Callable[[int, int], None]) -> int:
        """Upload one file (resuming what an earlier run or attempt sent); returns the upload's id."""
        size = path.stat().st_size
        key = State.key(self.url, self.user, path)
        remembered = self.state.get(key)
        location = remembered["location"] if remembered else None
        known = self._offset(location) if location else None
        if known is None:
            location = self._create(path, upload_type)
            self.state.put(key, {"location": location})
            known = self._offset(location) or (0, 0)
        offset, upload_id = known
        assert location is not None
        if offset:
            say(f"  {path.name}: resuming at {offset} of {size} bytes")
        with path.open("rb") as handle:
            while offset < size:
                offset, upload_id = self._send_chunk(handle, location, offset, path.name)
                progress(offset, size)
        self.state.put(key, {"location": location, "upload_id": upload_id, "done": True})
        return upload_id

    def _send_chunk(self, handle: IO[bytes], location: str, offset: int, name: str) -> tuple[int, int]:
        """PATCH one chunk from `offset`; after a failure the server's offset decides where to go on from."""
        for tries in range(self.retries + 1):
            handle.seek(offset)
            chunk = handle.read(self.chunk_size)
            checksum = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
            try:
                response = self.session.patch(
                    location,
                    data=chunk,
                    headers={
                        "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                        "Upload-Checksum": f"sha256 {checksum}",
                    },
                    timeout=(30, 600),
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                problem = f"connection lost ({type(error).__name__})"
            else:
                if response.status_code == 204:
                    return int(response.headers["Upload-Offset"]), int(response.headers["Virtool-Upload-Id"])
                if response.status_code not in TRANSIENT and response.status_code != 460:
                    raise UploadError(f"{name}: {_message(response)}")
                problem = _message(response)
            if tries == self.retries:
                raise UploadError(f"{name}: {problem}; gave up after {self.retries} retries")
            pause = RETRY_PAUSES[min(tries, len(RETRY_PAUSES) - 1)]
            say(f"  {name}: {problem}; retrying in {pause:g} s from the server's offset")
            self.sleep(pause)
            known = self._offset(location)
            if known is None:
                raise UploadError(f"{name}: the server no longer has this upload (expired or removed)")
            offset = known[0]
        raise AssertionError("unreachable")

    def create_sample(self, plan: SamplePlan, upload_ids: list[int]) -> dict[str, Any]:
        """POST /api/samples with the plan's uploads (the server queues the job that ingests them)."""
        response = self.session.post(
            f"{self.url}/api/samples", json={"name": plan.name, "files": upload_ids}, timeout=60
        )
        if response.status_code != 201:
            raise UploadError(f"sample {plan.name}: {_message(response)}")
        document: dict[str, Any] = response.json()
        return document


def _progress(name: str) -> Callable[[int, int], None]:
    last = [-1]

    def show(offset: int, size: int) -> None:
        percent = offset * 100 // size if size else 100
        if percent // 10 != last[0] // 10 or offset == size:
            last[0] = percent
            say(f"  {name}: {percent}% ({offset} of {size} bytes)")

    return show


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m virtool_cli", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    upload = commands.add_parser("upload", help="upload files or run folders (resumable), optionally making samples")
    upload.add_argument("--url", required=True, help="the Virtool server, e.g. http://virtool.example.org:9950")
    upload.add_argument("--key", required=True, help="an API key of your account (or HANDLE:KEY)")
    upload.add_argument("--user", help="your handle (the key's owner); or give --key HANDLE:KEY")
    upload.add_argument(
        "--type", choices=["auto", "reads", "reference", "subtraction", "hmm"], default="auto", help="upload type"
    )
    upload.add_argument("--create-samples", action="store_true", help="create a sample per R1/R2 pair or single file")
    upload.add_argument("--chunk-size", type=float, default=DEFAULT_CHUNK_MIB, help="MiB per request (default 8)")
    upload.add_argument("--retries", type=int, default=8, help="retries of a failed request (default 8)")
    upload.add_argument(
        "--state",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "virtool_cli" / "uploads.json",
        help="where upload locations are remembered between runs",
    )
    upload.add_argument("paths", nargs="+", type=Path, metavar="FILES_OR_FOLDERS")
    return parser.parse_args(argv)


def _credentials(arguments: argparse.Namespace) -> tuple[str, str]:
    if arguments.user:
        return arguments.user, arguments.key
    user, colon, key = str(arguments.key).partition(":")
    if not colon:
        raise UploadError("give your handle with --user HANDLE (or the key as HANDLE:KEY)")
    return user, key


@contextlib.contextmanager
def _reported() -> Iterator[None]:
    try:
        yield
    except UploadError as error:
        say(f"error: {error}")
        raise SystemExit(1) from None
    except requests.RequestException as error:
        say(f"error: {error}")
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> int:
    """Run the command line; prints a JSON summary (`uploads`, `samples`, `failed`) on stdout."""
    arguments = parse(argv)
    with _reported():
        user, key = _credentials(arguments)
        files = collect(arguments.paths)
        if not files:
            raise UploadError("no files to upload (folders are searched for .fq/.fastq files, gzipped or not)")
        client = Client(
            url=arguments.url,
            user=user,
            key=key,
            chunk_size=max(1, int(arguments.chunk_size * 1024 * 1024)),
            retries=max(0, arguments.retries),
            state=State(arguments.state),
        )
        uploads: dict[Path, int] = {}
        failed: list[str] = []
        for index, path in enumerate(files, 1):
            upload_type = guess_type(path.name) if arguments.type == "auto" else arguments.type
            say(f"[{index}/{len(files)}] {path.name} ({upload_type}, {path.stat().st_size} bytes)")
            try:
                uploads[path] = client.upload(path, upload_type, _progress(path.name))
            except UploadError as error:
                say(f"  failed: {error}")
                failed.append(str(path))
        samples: list[dict[str, Any]] = []
        if arguments.create_samples:
            reads = [path for path in uploads if path.name.lower().endswith(READS_SUFFIXES)]
            for plan in pair_reads(reads):
                try:
                    sample = client.create_sample(plan, [uploads[path] for path in plan.files])
                except UploadError as error:
                    say(f"  failed: {error}")
                    failed.append(plan.name)
                    continue
                say(f"sample {sample['name']} ({sample['id']}): {', '.join(path.name for path in plan.files)}")
                samples.append({"id": sample["id"], "name": sample["name"], "files": [str(p) for p in plan.files]})
        summary = {
            "uploads": [{"path": str(path), "id": upload_id} for path, upload_id in uploads.items()],
            "samples": samples,
            "failed": failed,
        }
        sys.stdout.write(json.dumps(summary, indent=1) + "\n")
        return 1 if failed else 0
