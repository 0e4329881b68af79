"""Virtool's own web client (../shared/virtool-ui/7.12.0/, never copied here) in front of a live daphne, as nginx
would put it: the built files served as they are, `index.html` for every path that is not a file (the client
routes in the browser), and `/api/*` (prefix kept) and the `/ws` upgrade forwarded byte for byte, `Host` and
`Origin` unchanged.

The forwarding is at the TCP level (an asyncio server in a thread of its own): a request for `/api` or `/ws` gets
a fresh connection to daphne, its head with `Connection: close` (except a websocket upgrade, which keeps its
`Connection: Upgrade`), then both directions are copied until one side closes. The browser's origin is this
harness's; daphne gets it in `CSRF_TRUSTED_ORIGINS`, the setting a deployment behind a proxy uses for its public
origin (`core/security.py`).
"""

from __future__ import annotations

import asyncio
import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.conftest import SHARED, free_port
from tests.live import daphne

CLIENT = SHARED / "virtool-ui" / "7.12.0"
HEAD_LIMIT = 64 * 1024


def _forwarded(path: str) -> bool:
    return path == "/api" or path.startswith("/api/") or path == "/ws" or path.startswith(("/ws?", "/ws/"))


class Harness:
    """The client's static server and proxy on `127.0.0.1:port`, forwarding to `upstream_port`."""

    def __init__(self, port: int, upstream_port: int, root: Path = CLIENT) -> None:
        self.port = port
        self.upstream_port = upstream_port
        self.root = root.resolve()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.pending: set[asyncio.Future[None]] = set()
        self.forwarded: list[str] = []  # "METHOD /path" of every forwarded request, for the test's messages

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self.handle, "127.0.0.1", self.port, limit=HEAD_LIMIT), self.loop
        )
        self.server = future.result(10)

    def stop(self) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:  # open keep-alive connections and live websockets
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: static files one after another, until a forwarded request takes the socket
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                request_line, _, header_block = head.decode("latin-1").partition("\r\n")
                method, target, _version = [*request_line.split(" "), "", ""][:3]
                path = urlsplit(target).path
                if _forwarded(path):
                    self.forwarded.append(f"{method} {target}")
                    await self.forward(head, header_block, reader, writer)
                    return
                if not await self.serve_file(method, path, writer):
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass  # the browser went away, or the harness stops (open keep-alive connections, live websockets)
        finally:
            writer.close()  # no waiting here: a cancelled handler must end at once

    async def serve_file(self, method: str, path: str, writer: asyncio.StreamWriter) -> bool:
        """Answer a static request (GET/HEAD); False when the connection should close."""
        if method not in ("GET", "HEAD"):
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return False
        file = (self.root / unquote(path).lstrip("/")).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            file = self.root / "index.html"
        body = file.read_bytes()
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "text/javascript"):
            content_type += "; charset=utf-8"
        cache = "no-cache" if file.name == "index.html" else "max-age=3600"
        writer.write(
            (
                f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                f"Cache-Control: {cache}\r\nConnection: keep-alive\r\n\r\n"
            ).encode("latin-1")
        )
        if method == "GET":
            writer.write(body)
        await writer.drain()
        return True

    async def forward(
        self, head: bytes, header_block: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Send the request to daphne as it came (Connection: close unless an upgrade) and copy both ways."""
        lines = head.decode("latin-1").split("\r\n")
        upgrade = any(
            line.lower().startswith("upgrade:") and "websocket" in line.lower() for line in header_block.split("\r\n")
        )
        if not upgrade:
            lines = [lines[0], *(line for line in lines[1:] if line and not line.lower().startswith("connection:"))]
            lines += ["Connection: close", "", ""]
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        upstream_writer.write("\r\n".join(lines).encode("latin-1"))
        await upstream_writer.drain()  # what the browser sent past the head (a body) follows through `copy`

        async def copy(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            try:
                while chunk := await source.read(256 * 1024):
                    target.write(chunk)
                    await target.drain()
            except ConnectionError:
                pass
            finally:
                with suppress(OSError, RuntimeError):
                    if target.can_write_eof():
                        target.write_eof()

        to_server = asyncio.ensure_future(copy(reader, upstream_writer))
        self.pending.add(to_server)
        to_server.add_done_callback(self.pending.discard)
        await copy(upstream_reader, writer)  # the answer ends (daphne closes) -> this connection is done
        to_server.cancel()
        upstream_writer.close()


@contextmanager
def virtool_ui(tmp_path: Path, **env: str) -> Iterator[Harness]:
    """A live daphne on the test database behind the client's harness; yields the harness (its `url`)."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with daphne(tmp_path, CSRF_TRUSTED_ORIGINS=origin, **env) as (server_url, _process):
        harness = Harness(port, int(server_url.rsplit(":", 1)[1]))
        harness.start()
        try:
            yield harness
        finally:
            harness.stop()
