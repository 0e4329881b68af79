"""Run daphne so that large request bodies reach the application as it reads them (and websockets closed by the
application say why: daphne drops the reason of `websocket.close`; and one event written to many websockets is
framed once, `ReasonWebSocketProtocol.send_prepared_text`).

Daphne (4.2, django/daphne#483) receives a request body into a temporary file, then copies all of it into the
application's input queue at once: a 2 GB upload would take 2 GB of memory. Here each HTTP request gets a queue
that drops those copies and reads the body again from daphne's file, one megabyte at a time, when the
application asks for it. And Twisted, under daphne, parses every multipart POST body in memory (about ten times
its size) before daphne sees it, for nothing: Django parses it again, streaming. That parsing is turned off.
A client that stops sending in the middle of a request (a half-sent upload) is answered 408 and disconnected after
`VIRTOOL_UPLOAD_STALL_SECONDS` of silence. Everything else is daphne's own behaviour.

Several processes: with `VIRTOOL_WEB_PROCESSES=N` (N > 1) and `-b HOST -p PORT`, this process binds N listening
sockets to that address with SO_REUSEPORT, so that the kernel spreads connections evenly over them (one shared
socket lets whichever process wakes first take most of them), and runs one daphne per socket, each a whole server
with HTTP and websockets (the Channels layer joins their groups). It starts again a daphne that exits, stops them
all on SIGTERM or SIGINT, and they stop with it should it be killed (PR_SET_PDEATHSIG); their sockets stay open
here meanwhile, so connections that arrive during a restart wait instead of being refused.

Each daphne imports every view before serving and then moves the objects of start-up out of the garbage
collector's reach (`gc.freeze`): its full collections otherwise walked them all, stalling every request for
150-220 ms every few seconds under load.

Usage: `python -m virtool_site.server [daphne options] virtool_site.asgi:application`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from functools import partial

import daphne.server
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet import tcp
from twisted.web.http import HTTPChannel

BODY_CHUNK = 1024 * 1024


class BodyQueue(asyncio.Queue):
    """An HTTP request's input queue that hands over a spooled body lazily instead of holding it."""

    def __init__(self, request) -> None:
        super().__init__()
        self._request = request
        self._fd: int | None = None
        self._length = 0
        self._offset = 0

    def _open_body(self) -> bool:
        content = getattr(self._request, "content", None)
        if content is None:
            return False
        try:
            fd = content.fileno()  # small bodies live in memory (BytesIO): those are queued as they are
        except (AttributeError, OSError, ValueError):
            return False
        self._fd = os.dup(fd)  # ours: daphne closes its file when the response is done
        self._length = os.fstat(self._fd).st_size
        return True

    def put_nowait(self, message: dict) -> None:
        if message.get("type") == "http.request" and (self._fd is not None or self._open_body()):
            return  # dropped: `get` reads the same bytes from the file when the application wants them
        super().put_nowait(message)

    async def get(self) -> dict:
        if self._fd is not None:
            data = os.pread(self._fd, min(BODY_CHUNK, self._length - self._offset), self._offset)
            self._offset += len(data)
            more = bool(data) and self._offset < self._length
            if not more:
                self._close()
            await asyncio.sleep(0)  # let other connections run between megabytes
            return {"type": "http.request", "body": data, "more_body": more}
        return await super().get()

    def _close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self._close()


class StreamingWebRequest(WebRequest):
    """Daphne's request without Twisted's in-memory parsing of multipart bodies."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._parsePOSTFormSubmission = False


def _stalled(channel: HTTPChannel) -> None:
    """A connection sent nothing for VIRTOOL_UPLOAD_STALL_SECONDS: in the middle of a request (its headers or its
    body, e.g. a half-sent upload) it is answered 408 with Virtool's JSON error; then it is closed, which releases
    the part of the body already received (Twisted's temporary file). Between requests it is just closed."""
    if not channel._HTTPChannel__first_line and channel.transport is not None:  # type: ignore[attr-defined]
        body = json.dumps(
            {"id": "request_timeout", "message": f"No data received for {channel.timeOut} seconds: request ended"}
        ).encode()
        head = (
            "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        channel.transport.write(head.encode() + body)  # type: ignore[call-arg, misc]
    HTTPChannel.timeoutConnection(channel)


class StreamingHTTPFactory(HTTPFactory):
    """Daphne's HTTP factory building `StreamingWebRequest`s, with the idle timeout VIRTOOL_UPLOAD_STALL_SECONDS.

    Twisted's idle timeout restarts with every byte received and is off while the application answers (a long
    download, a websocket): it ends exactly the requests whose client stopped sending, such as a half-sent upload.
    """

    def __init__(self, server) -> None:
        super().__init__(server)
        from django.conf import settings  # the application, hence Django, is loaded before the server is built

        self.timeOut = settings.VIRTOOL_UPLOAD_STALL_SECONDS

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        if protocol is not None:
            protocol.requestFactory = StreamingWebRequest
            channel = getattr(protocol, "_channel", protocol)
            channel.timeoutConnection = partial(_stalled, channel)
        return protocol


# The frame of the latest text written by `send_prepared_text`, with the text (kept, so that `is` compares it).
_prepared: tuple[str | None, bytes] = (None, b"")


class ReasonWebSocketProtocol(WebSocketProtocol):
    """Daphne's websocket protocol, sending the reason of an application's `websocket.close` (daphne drops it), and
    writing one event's text to many sockets as one prepared frame (`send_prepared_text`)."""

    def handle_reply(self, message: dict) -> None:
        if message.get("type") == "websocket.close" and self.state != self.STATE_CONNECTING and message.get("reason"):
            self.sendClose(code=message.get("code") or 1000, reason=message["reason"][:120])
            return
        super().handle_reply(message)

    def send_prepared_text(self, text: str) -> bool:
        """Write `text` as a text frame built once for every socket it goes to (core.fanout hands the same string
        to each): no ASGI message, framing or per-socket logging. False when the socket is not open, compresses,
        or has frames queued by autobahn: the caller sends it the usual way."""
        global _prepared
        if self.state != self.STATE_OPEN or self._perMessageCompress is not None or self.send_queue:
            return False
        if _prepared[0] is not text:
            _prepared = (text, self.factory.prepareMessage(text.encode("utf8"), isBinary=False).payloadHybi)
        frame, transport = _prepared[1], self.transport
        # Twisted buffers every write and sends it on the next turn of the loop (registering the socket for
        # writing and back): for 1,000 sockets that was half of a fan-out's time in daphne. With nothing waiting in
        # its buffer, the frame goes to the socket now, and what the socket does not take goes to the buffer.
        if (
            isinstance(transport, tcp.Connection)
            and transport.connected
            and not transport.disconnecting
            and not getattr(transport, "TLS", False)
            and not transport.dataBuffer
            and not getattr(transport, "_tempDataLen", 1)
        ):
            sent = transport.writeSomeData(frame)
            if isinstance(sent, int):
                if sent < len(frame):
                    transport.write(frame[sent:])
                return True
        transport.write(frame)  # Twisted's usual buffered write (it also finds a lost connection)
        return True


class ReasonWebSocketFactory(WebSocketFactory):
    """Daphne's websocket factory building `ReasonWebSocketProtocol`s."""

    protocol = ReasonWebSocketProtocol


class StreamingServer(Server):
    """Daphne's server with lazily read HTTP request bodies."""

    def run(self) -> None:
        # Server.run builds its factory from the module's name `HTTPFactory`: point it at ours.
        daphne.server.HTTPFactory = StreamingHTTPFactory
        daphne.server.WebSocketFactory = ReasonWebSocketFactory
        warm_up()
        super().run()

    def __init__(self, *args, **kwargs) -> None:
        # Daphne still walks the spooled body once before the application runs; large reads make that walk short.
        kwargs.setdefault("request_buffer_size", BODY_CHUNK)
        super().__init__(*args, **kwargs)

    def create_application(self, protocol, scope):
        if scope.get("type") == "websocket" and isinstance(protocol, ReasonWebSocketProtocol):
            from core.constants import WS_PREPARED_TEXT_EXTENSION

            extensions = {**(scope.get("extensions") or {}), WS_PREPARED_TEXT_EXTENSION: protocol.send_prepared_text}
            return super().create_application(protocol, {**scope, "extensions": extensions})
        if scope.get("type") != "http":
            return super().create_application(protocol, scope)
        assert "application_instance" not in self.connections[protocol]
        queue = BodyQueue(protocol)
        scope.setdefault("asgi", {"version": "3.0"})
        instance = self.application(scope=scope, receive=queue.get, send=partial(self.handle_reply, protocol))
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(instance)
        return queue


class VirtoolCommandLine(CommandLineInterface):
    """Daphne's command line with the streaming server."""

    server_class = StreamingServer


def warm_up() -> None:
    """Import every URL module (views, serializers) now rather than at the first request, then freeze what
    start-up made: later full collections walk only what requests leave behind."""
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018  (the property imports and indexes every pattern)
    gc.collect()
    gc.freeze()


log = logging.getLogger("virtool.web")
PR_SET_PDEATHSIG = 1
RESTART_DELAY_MAX = 10.0


def _die_with_parent() -> None:  # runs in the child between fork and exec
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def supervise(processes: int, argv: list[str]) -> int:
    """Run `processes` daphnes on SO_REUSEPORT sockets bound to -b/-p; returns the exit status."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    address, rest = parser.parse_known_args(argv)
    sockets = [listening_socket(address.bind, address.port) for _ in range(processes)]
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start(sock: socket.socket) -> subprocess.Popen:
        command = [sys.executable, "-m", "virtool_site.server", "--fd", str(sock.fileno()), *rest]
        env = {**os.environ, "VIRTOOL_WEB_PROCESSES": "1"}
        return subprocess.Popen(command, env=env, pass_fds=[sock.fileno()], preexec_fn=_die_with_parent)

    children = [start(sock) for sock in sockets]
    started = [time.monotonic()] * processes
    delays = [0.0] * processes
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-8s %(message)s")
    log.info("%d daphne processes on %s:%d", processes, address.bind, address.port)
    while not stopping:
        time.sleep(0.2)
        for number, child in enumerate(children):
            if stopping or child.poll() is None:
                continue
            quick = time.monotonic() - started[number] < 5
            delays[number] = min(RESTART_DELAY_MAX, delays[number] + 1) if quick else 0.0
            log.warning("daphne %d exited (%s); starting it again", child.pid, child.returncode)
            time.sleep(delays[number])
            children[number] = start(sockets[number])
            started[number] = time.monotonic()
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return 0


def main() -> None:
    processes = int(os.environ.get("VIRTOOL_WEB_PROCESSES", "1") or 1)
    if processes > 1 and "--fd" not in sys.argv and "-u" not in sys.argv:
        sys.exit(supervise(processes, sys.argv[1:]))
    VirtoolCommandLine.entrypoint()


if __name__ == "__main__":
    main()
