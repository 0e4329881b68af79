"""The web server (daphne with lazily read bodies): large uploads keep memory flat, broken ones leave nothing."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.conftest import session_cookie_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

RECORD = b"@read\n" + b"ACGT" * 25 + b"\n+\n" + b"I" * 100 + b"\n"


def server_pid(port: int) -> int:
    """The pid of the process listening on `port` (found through /proc, as `ss -p` would)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
            inode = fields[9]
    assert inode, f"nothing listens on {port}"
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                if fd.readlink().name == f"socket:[{inode}]":
                    return int(fd_dir.parent.name)
        except OSError:
            continue
    raise AssertionError("server process not found")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


class Body:
    """A FASTQ-like request body of `total` bytes, generated as it is sent, with a known length."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0
        self.block = RECORD * (1024 * 1024 // len(RECORD))
        self.digest = hashlib.sha256()

    def __len__(self) -> int:
        return self.total

    def read(self, size: int = -1) -> bytes:
        size = len(self.block) if size is None or size < 0 else min(size, len(self.block))
        chunk = self.block[: min(size, self.total - self.sent)]
        self.sent += len(chunk)
        self.digest.update(chunk)
        return chunk


@pytest.mark.once
def test_two_gigabyte_upload_keeps_server_memory_flat(live_server_url, admin_user):
    port = int(live_server_url.rsplit(":", 1)[1])
    pid = server_pid(port)
    session = requests.Session()
    session.cookies.set("sessionid", session_cookie_for(admin_user))
    headers = {"Origin": live_server_url}
    assert session.get(f"{live_server_url}/api/uploads", headers=headers, timeout=30).status_code == 200
    baseline = rss_mb(pid)
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, rss_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    total = 2 * 1024**3
    upload = Body(total)
    try:
        response = session.post(
            f"{live_server_url}/api/uploads?name=big.fq&type=reads",
            data=upload,
            headers={**headers, "Content-Type": "application/octet-stream"},
            timeout=600,
        )
    finally:
        done.set()
        sampler.join()
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["size"] == total
    assert document["sha256"] == upload.digest.hexdigest()
    stored = Path(settings.DATA_PATH) / "files" / document["name_on_disk"]
    assert stored.stat().st_size == total
    stored.unlink()
    assert peak - baseline < 100, f"server memory grew by {peak - baseline:.0f} MB during a 2 GB upload"


class MultipartBody(Body):
    """The same body wrapped as the multipart field `file`, as Virtool's client sends it."""

    BOUNDARY = "virtool-test-boundary"

    def __init__(self, total: int) -> None:
        super().__init__(total)
        self.prefix = (
            f'--{self.BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.fq"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.suffix = f"\r\n--{self.BOUNDARY}--\r\n".encode()
        self.stage = 0

    def __len__(self) -> int:
        return len(self.prefix) + self.total + len(self.suffix)

    def read(self, size: int = -1) -> bytes:
        if self.stage == 0:
            self.stage = 1
            return self.prefix
        chunk = super().read(size)
        if chunk:
            return chunk
        if self.stage == 1:
            self.stage = 2
            return self.suffix
        return b""


def test_multipart_upload_keeps_server_memory_flat(live_server_url, admin_user):
    pid = server_pid(int(live_server_url.rsplit(":", 1)[1]))
    session = requests.Session()
    session.cookies.set("sessionid", session_cookie_for(admin_user))
    headers = {"Origin": live_server_url}
    session.get(f"{live_server_url}/api/uploads", headers=headers, timeout=30)
    baseline, peak, done = rss_mb(pid), 0.0, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, rss_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    upload = MultipartBody(512 * 1024**2)
    try:
        response = session.post(
            f"{live_server_url}/api/uploads?name=big.fq&type=reads",
            data=upload,
            timeout=600,
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={MultipartBody.BOUNDARY}"},
        )
    finally:
        done.set()
        sampler.join()
    assert response.status_code == 201, response.text
    assert response.json()["sha256"] == upload.digest.hexdigest()
    (Path(settings.DATA_PATH) / "files" / response.json()["name_on_disk"]).unlink()
    assert peak - baseline < 100, f"server memory grew by {peak - baseline:.0f} MB during a 512 MB multipart upload"


def test_upload_cut_off_half_way_leaves_no_row_and_no_file(live_server_url, admin_user):
    from files.models import Upload

    port = int(live_server_url.rsplit(":", 1)[1])
    files = Path(settings.DATA_PATH) / "files"
    before = set(files.iterdir()) if files.exists() else set()
    total = 20 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(
            (
                f"POST /api/uploads?name=cut.fq&type=reads HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Cookie: sessionid={session_cookie_for(admin_user)}\r\nOrigin: {live_server_url}\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {total}\r\n\r\n"
            ).encode()
        )
        sent = 0
        while sent < total // 2:
            connection.sendall(RECORD * 1000)
            sent += len(RECORD) * 1000
    time.sleep(2)
    assert not Upload.objects.exists()
    assert (set(files.iterdir()) if files.exists() else set()) == before
    # The server is fine afterwards.
    assert requests.get(f"{live_server_url}/api", timeout=10).status_code == 200
