"""A stand-in for NCBI E-utilities' `efetch.fcgi`: a threaded HTTP server on 127.0.0.1 answering with recorded
responses (`tests/otus/eutils/`), per requested id in the order a test scripts them, keeping every request it was
sent.

The recordings:
- `NC_005267.gb`: the GenBank flat file of Raspberry ringspot virus RNA 2 (NC_005267.1), written in NCBI's layout
  (LOCUS, DEFINITION, VERSION, source feature with `/host`, the polyprotein CDS with its translation, ORIGIN) around
  the sequence, definition and host of the demo reference (`shared/data/references/demo-plant-viruses.json.gz`),
  so that a test can compare what the API gives with the reference;
- `truncated.gb`: its first 3,000 bytes (an answer cut off mid-stream);
- `failed_to_retrieve.txt`, `failed_to_understand_id.txt`: NCBI's HTTP 400 bodies for an id it has no record of
  (the first is the text Virtool looks for; the second as NCBI spaces out its letters);
- `empty.txt`: an empty 200 answer; `error_reading.txt`: a proxy's error text in a 200 answer;
- `bad_gateway.html`: the front end's HTTP 502 page.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

RECORDED = Path(__file__).parent / "eutils"
DEMO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "references" / "demo-plant-viruses.json.gz"
KNOWN = ("NC_005267", "NC_005267.1")

# An answer: (HTTP status, recorded file), "drop" (the connection closes without an answer), or ("slow", seconds)
# (the record, after that long).
Answer = tuple[int, str] | tuple[str, float] | str


def demo_sequence(accession: str) -> dict:
    """The demo reference's sequence of `accession` (NC_005267: what the recorded record was built around)."""
    document = json.loads(gzip.decompress(DEMO.read_bytes()))
    return next(
        sequence
        for otu in document["otus"]
        for isolate in otu["isolates"]
        for sequence in isolate["sequences"]
        if sequence["accession"] == accession
    )


class FakeEUtils:
    """The scripted answers per requested id (the last one repeats); unknown ids get NCBI's 400."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {accession: [(200, "NC_005267.gb")] for accession in KNOWN}
        self.unknown: Answer = (400, "failed_to_retrieve.txt")
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.url = ""

    def script(self, accession: str, *answers: Answer) -> None:
        with self.lock:
            self.answers[accession] = list(answers)

    def next_answer(self, accession: str) -> Answer:
        with self.lock:
            queue = self.answers.get(accession)
            if not queue:
                return self.unknown
            return queue.pop(0) if len(queue) > 1 else queue[0]


def _handler(fake: FakeEUtils) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            with fake.lock:
                fake.requests.append((url.path, params))
            answer = fake.next_answer(params.get("id", ""))
            if answer == "drop":
                self.close_connection = True
                self.connection.close()
                return
            status, name = answer  # type: ignore[misc]
            if status == "slow":
                time.sleep(float(name))
                status, name = 200, "NC_005267.gb"
            body = (RECORDED / name).read_bytes()
            self.send_response(int(status))
            self.send_header("Content-Type", "text/html" if name.endswith(".html") else "text/plain; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def start_eutils() -> tuple[FakeEUtils, ThreadingHTTPServer]:
    """The recorded E-utilities on a free port of 127.0.0.1 (`fake.url` is its base, as the setting takes it)."""
    fake = FakeEUtils()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/entrez/eutils"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server


@pytest.fixture
def eutils() -> Iterator[FakeEUtils]:
    """The recorded E-utilities, stopped after the test."""
    fake, server = start_eutils()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
