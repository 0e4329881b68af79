"""The shared HTTP client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from core.http import http_session


class Recorder(BaseHTTPRequestHandler):
    """Answers like a flaky upstream: /flaky fails twice with 503, /slow is slow, anything else is 200."""

    calls: list[dict] = []
    flaky_failures = 0

    def do_GET(self) -> None:
        Recorder.calls.append({"path": self.path, "headers": dict(self.headers)})
        if self.path.endswith("/flaky") and Recorder.flaky_failures < 2:
            Recorder.flaky_failures += 1
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.endswith("/slow"):
            time.sleep(1.5)
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return


@pytest.fixture
def upstream():
    Recorder.calls = []
    Recorder.flaky_failures = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_client_sends_virtool_user_agent(upstream):
    with http_session() as session:
        assert session.get(f"{upstream}/release").json() == {"ok": True}
    assert Recorder.calls[0]["headers"]["User-Agent"].startswith("virtool/")


def test_http_client_retries_server_errors(upstream):
    with http_session(backoff=0.01) as session:
        response = session.get(f"{upstream}/flaky")
    assert response.status_code == 200
    assert [call["path"] for call in Recorder.calls] == ["/flaky"] * 3


def test_http_client_gives_up_after_its_retries(upstream):
    Recorder.flaky_failures = -10
    with http_session(retries=1, backoff=0.01) as session:
        response = session.get(f"{upstream}/flaky")
    assert response.status_code == 503
    assert len(Recorder.calls) == 2


def test_http_client_times_out(upstream):
    with http_session(retries=0) as session, pytest.raises(requests.exceptions.RequestException) as error:
        session.get(f"{upstream}/slow", timeout=(1, 0.3))
    assert "timed out" in str(error.value)


def test_http_client_uses_the_configured_proxy(upstream, settings):
    settings.VIRTOOL_PROXY = upstream
    with http_session() as session:
        assert session.get("http://github.invalid/repos/virtool/virtool-hmm/releases").json() == {"ok": True}
    # A forward proxy receives the absolute URL of the real destination.
    assert Recorder.calls[0]["path"] == "http://github.invalid/repos/virtool/virtool-hmm/releases"
