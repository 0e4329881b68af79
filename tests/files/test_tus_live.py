"""Resumable uploads against a live daphne: connections cut for real in the middle of a PATCH (at 30 %, 60 % and
90 % of the file), a session that expires half-way and a fresh login that resumes, another user who cannot, and the
command-line uploader (`python -m virtool_cli upload`) with its pairing, sample creation and resumption."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import timezone

from files.models import Upload
from tests.conftest import ROOT, process_env, wait_for
from tests.files.conftest import SAMPLES

pytestmark = pytest.mark.django_db(transaction=True)

CHUNK = 1024 * 1024
PASSWORD = "hunter2hunter2"


def fastq_text(size: int, seed: int = 7) -> bytes:
    """Plain FASTQ of about `size` bytes, random bases (so that no chunk repeats another)."""
    rng = random.Random(seed)
    records = []
    total = 0
    index = 0
    while total < size:
        bases = "".join(rng.choice("ACGT") for _ in range(100))
        record = f"@read{index}\n{bases}\n+\n{'I' * 100}\n".encode()
        records.append(record)
        total += len(record)
        index += 1
    return b"".join(records)


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def login(base: str, handle: str) -> requests.Session:
    """A browser-like session: a real login through the API (a session cookie, no key)."""
    session = requests.Session()
    response = session.post(f"{base}/api/account/login", json={"handle": handle, "password": PASSWORD}, timeout=10)
    assert response.status_code == 201, response.text
    session.headers["Tus-Resumable"] = "1.0.0"
    return session


def create(session: requests.Session, base: str, size: int, name: str = "run_R1.fq") -> str:
    response = session.post(
        f"{base}/api/uploads/tus",
        headers={"Upload-Length": str(size), "Upload-Metadata": metadata(name=name, type="reads")},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return base + response.headers["Location"]


def offset_of(session: requests.Session, location: str) -> int:
    response = session.head(location, timeout=10)
    assert response.status_code == 200, response.status_code
    return int(response.headers["Upload-Offset"])


def send(session: requests.Session, location: str, content: bytes, start: int, end: int) -> None:
    """PATCH content[start:end] in chunks of CHUNK, as a tus client does."""
    offset = start
    while offset < end:
        part = content[offset : min(offset + CHUNK, end)]
        response = session.patch(
            location,
            data=part,
            headers={"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
            timeout=30,
        )
        assert response.status_code == 204, response.text
        offset = int(response.headers["Upload-Offset"])


def cut_patch(session: requests.Session, location: str, offset: int, body: bytes, sent: int) -> None:
    """Start a PATCH of `body` at `offset` on a socket of our own and drop the connection after `sent` bytes
    of the body (a reset, as when a network goes away), then wait until the server has seen it go."""
    parts = urlsplit(location)
    cookie = "; ".join(f"{key}={value}" for key, value in session.cookies.items())
    head = (
        f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\n\r\n"
    ).encode()
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.sendall(head + body[:sent])
    time.sleep(0.3)  # the server has read what was sent
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # close = RST
    sock.close()


def with_real_password(user):
    """The server process checks passwords with the real hashers (the test process with a fast MD5 one)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def alice(make_user):
    return with_real_password(make_user("alice", permissions=["upload_file", "create_sample"]))


@pytest.fixture
def server(files_dir, alice, live_server_url):
    """The live daphne, on this test's data folder (files_dir is set up before the server starts)."""
    return live_server_url


@pytest.mark.parametrize("percent", [30, 60, 90])
def test_tus_cut_mid_patch_and_resumed_is_byte_identical(server, files_dir, percent):
    content = fastq_text(5 * CHUNK + 12345)
    session = login(server, "alice")
    location = create(session, server, len(content))
    cut = len(content) * percent // 100
    chunk_start = cut - cut % CHUNK
    send(session, location, content, 0, chunk_start)  # the chunks before the one being cut
    # The chunk in flight when the connection drops: half-sent, never completed.
    cut_patch(session, location, chunk_start, content[chunk_start : chunk_start + CHUNK], cut - chunk_start)
    resumed_at = offset_of(session, location)
    # What the server holds is every byte of the requests that completed; the cut request left nothing behind.
    assert resumed_at == chunk_start
    assert Upload.objects.get().offset == chunk_start
    send(session, location, content, resumed_at, len(content))

    upload = Upload.objects.get()
    assert upload.ready
    assert upload.size == len(content)
    assert upload.sha256 == hashlib.sha256(content).hexdigest()
    downloaded = session.get(f"{server}/api/uploads/{upload.pk}", timeout=30).content
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(content).hexdigest()
    assert (files_dir / upload.name_on_disk).read_bytes() == content
    assert sorted(os.listdir(files_dir / ".resumable")) == []


def test_tus_resumes_after_the_session_expired_with_a_fresh_login(server, files_dir, make_user):
    from django.contrib.sessions.models import Session

    content = fastq_text(3 * CHUNK)
    first = login(server, "alice")
    first_cookies = dict(first.cookies)
    assert first_cookies.get("sessionid"), first_cookies
    location = create(first, server, len(content))
    send(first, location, content, 0, CHUNK)
    # The session expires (as the database session backend sees it: its expiry date passed).
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    refused = first.patch(
        location,
        data=content[CHUNK : 2 * CHUNK],
        headers={"Upload-Offset": str(CHUNK), "Content-Type": "application/offset+octet-stream"},
        timeout=10,
    )
    assert refused.status_code == 401
    assert refused.json()["id"] == "unauthorized"

    # Someone else, logged in, cannot see it, let alone continue it.
    with_real_password(make_user("mallory", permissions=["upload_file"]))
    mallory = login(server, "mallory")
    assert mallory.head(location, timeout=10).status_code == 404
    stolen = mallory.patch(
        location,
        data=content[CHUNK:],
        headers={"Upload-Offset": str(CHUNK), "Content-Type": "application/offset+octet-stream"},
        timeout=10,
    )
    assert stolen.status_code == 404

    fresh = login(server, "alice")  # a new session: the upload is the user's, not the old session's
    assert fresh.cookies.get("sessionid") not in (None, first_cookies["sessionid"])
    assert offset_of(fresh, location) == CHUNK
    send(fresh, location, content, CHUNK, len(content))
    upload = Upload.objects.get()
    assert (upload.ready, upload.sha256, upload.user.handle) == (True, hashlib.sha256(content).hexdigest(), "alice")


def test_tus_live_limits_and_malformed_headers_are_4xx(server, files_dir):
    session = login(server, "alice")
    too_big = session.post(
        f"{server}/api/uploads/tus",
        headers={"Upload-Length": str(200 * 1024**4), "Upload-Metadata": metadata(name="a.fq", type="reads")},
        timeout=10,
    )
    assert (too_big.status_code, too_big.json()["id"]) == (413, "payload_too_large")
    malformed = session.post(
        f"{server}/api/uploads/tus",
        headers={"Upload-Length": "12abc", "Upload-Metadata": "name ???"},
        timeout=10,
    )
    assert (malformed.status_code, malformed.json()["id"]) == (400, "bad_request")
    location = create(session, server, 100)
    wrong = session.patch(
        location,
        data=b"@r\nA\n+\nI\n",
        headers={"Upload-Offset": "zero", "Content-Type": "application/offset+octet-stream"},
    )
    assert wrong.status_code == 400
    assert Upload.objects.get().offset == 0


# --- The command-line uploader ----------------------------------------------------------------------------------


@pytest.fixture
def api_key(alice):
    from core.selectors import settings_get
    from users.services import key_create

    instance = settings_get()
    instance.enable_api = True
    instance.save()
    _, raw = key_create(user=alice, name="sequencer", permissions={"upload_file": True, "create_sample": True})
    return raw


def run_cli(*args: str, **popen) -> subprocess.Popen:
    env = {key: value for key, value in process_env().items() if not key.startswith("DJANGO")}
    return subprocess.Popen(
        [sys.executable, "-m", "virtool_cli", "upload", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


@pytest.fixture
def run_folder(tmp_path) -> Path:
    """A sequencer's run folder: an Illumina-named pair, a `_1`/`_2` pair in a subfolder, and a lone file."""
    folder = tmp_path / "run"
    (folder / "Data" / "lane2").mkdir(parents=True)
    shutil.copy(SAMPLES / "rprsv_1.fq.gz", folder / "Data" / "rprsv_S1_L001_R1_001.fastq.gz")
    shutil.copy(SAMPLES / "rprsv_2.fq.gz", folder / "Data" / "rprsv_S1_L001_R2_001.fastq.gz")
    shutil.copy(SAMPLES / "small_50bp_1.fq.gz", folder / "Data" / "lane2" / "small_50bp_1.fq.gz")
    shutil.copy(SAMPLES / "small_50bp_2.fq.gz", folder / "Data" / "lane2" / "small_50bp_2.fq.gz")
    shutil.copy(SAMPLES / "small_50bp_1.fq.gz", folder / "Data" / "lonely.fq.gz")
    (folder / "SampleSheet.csv").write_text("not a FASTQ file: left alone\n")
    return folder


def test_cli_uploads_a_run_folder_and_creates_paired_samples(server, api_key, run_folder, tmp_path):
    from samples.models import Sample

    process = run_cli(
        "--url", server, "--key", api_key, "--user", "alice", "--state", str(tmp_path / "state.json"),
        "--chunk-size", "0.25", "--create-samples", str(run_folder),
    )  # fmt: skip
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["failed"] == []
    assert len(summary["uploads"]) == 5  # the sample sheet is not uploaded
    by_name = {Path(item["path"]).name: Upload.objects.get(pk=item["id"]) for item in summary["uploads"]}
    for path in run_folder.rglob("*.gz"):
        assert by_name[path.name].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert by_name[path.name].size == path.stat().st_size

    samples = {sample.name: sample for sample in Sample.objects.all()}
    assert sorted(samples) == ["lonely", "rprsv_S1_L001", "small_50bp"]
    assert sorted(s["name"] for s in summary["samples"]) == sorted(samples)
    assert samples["rprsv_S1_L001"].paired is True
    assert samples["small_50bp"].paired is True
    assert samples["lonely"].paired is False
    # The sample's uploads are reserved for it, R1 first (the job that ingests them runs in a worker).
    pairs = {s["name"]: [Path(p).name for p in s["files"]] for s in summary["samples"]}
    assert pairs["rprsv_S1_L001"] == ["rprsv_S1_L001_R1_001.fastq.gz", "rprsv_S1_L001_R2_001.fastq.gz"]
    assert pairs["small_50bp"] == ["small_50bp_1.fq.gz", "small_50bp_2.fq.gz"]
    assert all(upload.reserved for upload in by_name.values())


def test_cli_killed_mid_upload_resumes_where_the_server_stopped(server, api_key, tmp_path):
    content = fastq_text(6 * CHUNK, seed=3)
    source = tmp_path / "big_R1.fq"
    source.write_bytes(content)
    state = tmp_path / "state.json"
    args = ("--url", server, "--key", f"alice:{api_key}", "--state", str(state), "--chunk-size", "0.25", str(source))
    first = run_cli(*args)
    # Kill it once the server holds part of the file (a crash, a closed laptop).
    wait_for(lambda: Upload.objects.filter(offset__gt=CHUNK).exists(), timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    time.sleep(0.5)  # a request whose body was all sent before the kill may still be finishing on the server
    held = Upload.objects.get().offset
    assert 0 < held < len(content)

    second = run_cli(*args)
    stdout, stderr = second.communicate(timeout=120)
    assert second.returncode == 0, stderr
    assert f"resuming at {held} of {len(content)} bytes" in stderr
    upload = Upload.objects.get()  # the same upload, continued, not a second one
    assert upload.ready
    assert upload.sha256 == hashlib.sha256(content).hexdigest()
    assert json.loads(stdout)["uploads"] == [{"path": str(source), "id": upload.pk}]

    # Run again: the state says it is done and the server agrees, so nothing is sent again.
    third = run_cli(*args)
    stdout, stderr = third.communicate(timeout=60)
    assert third.returncode == 0, stderr
    assert Upload.objects.count() == 1
    assert json.loads(stdout)["uploads"] == [{"path": str(source), "id": upload.pk}]


def test_cli_reports_a_refusal_and_exits_1(server, api_key, tmp_path):
    bad = tmp_path / "notreads.fq"
    bad.write_bytes(b"this is not FASTQ at all\n" * 100)
    process = run_cli(
        "--url", server, "--key", api_key, "--user", "alice", "--state", str(tmp_path / "s.json"), str(bad)
    )
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "FASTQ" in stderr
    assert json.loads(stdout)["failed"] == [str(bad)]


def test_cli_does_not_need_django():
    code = "import sys, virtool_cli.upload; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0
