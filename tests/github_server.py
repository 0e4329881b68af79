"""A stand-in for GitHub (the REST API's releases and their asset downloads): a threaded HTTP server on 127.0.0.1
that answers each path with the answers a test scripts, in order (the last one repeats), and keeps every request.

Recorded release documents live in `tests/github/` (GitHub's JSON for `virtool/ref-plant-viruses`,
`virtool/virtool-hmm` and this project's releases, trimmed to the fields GitHub sends that Virtool reads); assets
are built by the tests from `../shared/data/` and served from memory. Conditional requests work as GitHub's do: an
answer scripted with an ETag is a 304 without a body to a request whose `If-None-Match` matches it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

RECORDED = Path(__file__).parent / "github"


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    drop: bool = False  # close the connection without answering
    delay: float = 0.0  # seconds before answering (a slow GitHub)


def recorded(name: str, **replace: Any) -> dict[str, Any]:
    """A recorded GitHub JSON document from `tests/github/`, with `{base}` in its URLs left for `FakeGitHub.json`."""
    document = json.loads((RECORDED / name).read_text())
    document.update(replace)
    return document


def with_asset(document: dict[str, Any], content: bytes) -> dict[str, Any]:
    """The release document with its (first) asset's size set to that of `content`."""
    document["assets"][0]["size"] = len(content)
    return document


def download_path(document: dict[str, Any]) -> str:
    """The path on the fake server where the release's asset is downloaded."""
    return "/downloads/" + document["assets"][0]["browser_download_url"].split("/downloads/", 1)[1]


class FakeGitHub:
    def __init__(self) -> None:
        self.url = ""
        self.answers: dict[str, list[Answer]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.most_in_flight: dict[str, int] = {}  # per path, the most requests answered at the same time

    def script(self, path: str, *answers: Answer) -> None:
        with self.lock:
            self.answers[path] = list(answers)

    def json(self, document: Any, *, status: int = 200, etag: str | None = None, **headers: str) -> Answer:
        """A JSON answer; `{base}` in its strings becomes this server's URL (asset download URLs point here)."""
        text = json.dumps(document).replace("{base}", self.url)
        if etag:
            headers["ETag"] = etag
        return Answer(
            status=status, body=text.encode(), headers={"Content-Type": "application/json", **headers}, etag=etag
        )

    def file(self, content: bytes, content_type: str = "application/gzip") -> Answer:
        return Answer(body=content, headers={"Content-Type": content_type})

    def paths(self) -> list[str]:
        with self.lock:
            return [path for path, _ in self.requests]

    def _next(self, path: str) -> Answer | None:
        with self.lock:
            queue = self.answers.get(path)
            if not queue:
                return None
            return queue.pop(0) if len(queue) > 1 else queue[0]


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            with fake.lock:
                fake.requests.append((path, {k: v for k, v in self.headers.items()}))
                fake.in_flight[path] = fake.in_flight.get(path, 0) + 1
                fake.most_in_flight[path] = max(fake.most_in_flight.get(path, 0), fake.in_flight[path])
            try:
                self._answer(path)
            finally:
                with fake.lock:
                    fake.in_flight[path] -= 1

        def _answer(self, path: str) -> None:
            answer = fake._next(path)
            if answer is None:
                answer = Answer(
                    status=404, body=b'{"message": "Not Found"}', headers={"Content-Type": "application/json"}
                )
            if answer.delay:
                time.sleep(answer.delay)
            if answer.drop:
                self.close_connection = True
                self.connection.close()
                return
            if answer.etag and self.headers.get("If-None-Match") == answer.etag:
                self.send_response(304)
                self.send_header("ETag", answer.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def serve() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def github(settings) -> Iterator[FakeGitHub]:
    """The fake GitHub, with `VIRTOOL_GITHUB_API_URL` pointing at it and no waiting between retries."""
    for fake in serve():
        settings.VIRTOOL_GITHUB_API_URL = fake.url
        yield fake
