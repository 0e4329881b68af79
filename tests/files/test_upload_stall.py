"""A half-sent upload is not held open for ever: after VIRTOOL_UPLOAD_STALL_SECONDS of silence the request is
answered 408 (Virtool's JSON) and the connection closed, releasing what was received; a slow upload that keeps
moving is never cut (issue 12, item 4)."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import session_cookie_for
from tests.live import daphne

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

RECORD = b"@read\nACGTACGTAC\n+\nIIIIIIIIII\n"
STALL = 2


def _head(url: str, cookie: str, length: int) -> bytes:
    port = url.rsplit(":", 1)[1]
    return (
        f"POST /api/uploads?name=slow.fq&type=reads HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: sessionid={cookie}\r\nOrigin: {url}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _spooled_files(pid: int) -> list[str]:
    """Deleted files the server still holds open (Twisted spools a request body into an unlinked temporary file)."""
    fds = Path(f"/proc/{pid}/fd")
    targets = []
    for fd in fds.iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:
            continue
    return [target for target in targets if target.endswith("(deleted)")]


def _read_response(connection: socket.socket, timeout: float, until_closed: bool = True) -> bytes:
    """What the server sends until it closes the connection (or, `until_closed=False`, until the head is in)."""
    connection.settimeout(timeout)
    data = b""
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
        if not until_closed and b"\r\n\r\n" in data:
            return data


def test_a_stalled_upload_is_answered_408_and_released(tmp_path, admin_user):
    from files.models import Upload

    files = Path(settings.DATA_PATH) / "files"
    before = set(files.iterdir()) if files.exists() else set()
    with daphne(tmp_path, VIRTOOL_UPLOAD_STALL_SECONDS=str(STALL)) as (url, process):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as connection:
            connection.sendall(_head(url, session_cookie_for(admin_user), 10 * 1024 * 1024))
            connection.sendall(RECORD * 40_000)  # about 1 MB of the 10 announced, then silence
            time.sleep(0.5)
            assert _spooled_files(process.pid), "the server holds the received part while the client may go on"
            started = time.monotonic()
            response = _read_response(connection, timeout=STALL + 10)
            waited = time.monotonic() - started
        assert waited < STALL + 6
        head, _, body = response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408")
        assert json.loads(body) == {
            "id": "request_timeout",
            "message": f"No data received for {STALL} seconds: request ended",
        }
        time.sleep(0.5)
        assert _spooled_files(process.pid) == []
    assert not Upload.objects.exists()
    assert (set(files.iterdir()) if files.exists() else set()) == before


def test_a_slow_upload_that_keeps_moving_is_not_cut(tmp_path, admin_user):
    chunks = 6
    body = RECORD * 1000
    with daphne(tmp_path, VIRTOOL_UPLOAD_STALL_SECONDS=str(STALL)) as (url, _):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as connection:
            connection.sendall(_head(url, session_cookie_for(admin_user), len(body) * chunks))
            for _ in range(chunks):  # 6 chunks a second apart: longer than the stall limit in all
                connection.sendall(body)
                time.sleep(STALL / 2)
            response = _read_response(connection, timeout=30, until_closed=False)
    assert response.startswith(b"HTTP/1.1 201"), response[:200]
