"""A stand-in for NCBI's BLAST URL API: a threaded HTTP server on 127.0.0.1 answering with recorded responses
(`tests/analyses/ncbi/`), in the order a test scripts them, and keeping every request it was sent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

RECORDED = Path(__file__).parent / "ncbi"

# An answer: (HTTP status, recorded file) or "drop" (the connection closes without an answer).
Answer = tuple[int, str] | str


class FakeNCBI:
    """The scripted answers per kind of request (`Put`, `SearchInfo`, `Result`); the last answer repeats."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {
            "Put": [(200, "put.html")],
            "SearchInfo": [(200, "searchinfo_waiting.html"), (200, "searchinfo_ready.html")],
            "Result": [(200, "result_rprsv.json")],
        }
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.url = ""

    def script(self, kind: str, *answers: Answer) -> None:
        self.answers[kind] = list(answers)

    def next_answer(self, kind: str) -> Answer:
        with self.lock:
            queue = self.answers[kind]
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.requests]


def _kind(params: dict[str, str]) -> str:
    if params.get("CMD") == "Put":
        return "Put"
    if params.get("FORMAT_OBJECT") == "SearchInfo":
        return "SearchInfo"
    return "Result"


def _handler(fake: FakeNCBI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, params: dict[str, str]) -> None:
            kind = _kind(params)
            with fake.lock:
                fake.requests.append((kind, params))
            answer = fake.next_answer(kind)
            if answer == "drop":
                self.close_connection = True
                self.connection.close()
                return
            status, name = answer  # type: ignore[misc]
            body = (RECORDED / name).read_bytes()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if name.endswith(".json") else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _query(self) -> dict[str, str]:
            return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

        def do_GET(self) -> None:
            self._answer(self._query())

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self._answer({**self._query(), **form})

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def ncbi() -> Iterator[FakeNCBI]:
    """The recorded NCBI on a free port of 127.0.0.1 (`ncbi.url`), stopped after the test."""
    fake = FakeNCBI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/Blast.cgi"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
