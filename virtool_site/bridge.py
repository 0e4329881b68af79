"""Requests without a body served by Django's WSGI handler, one thread hop each, inside the ASGI server.

Every view of Virtool is synchronous. Under Django's ASGI handler a request crosses between the event loop and the
sync thread several times: the middleware chain is split wherever an async-capable middleware meets a sync-only
one (django-axes is async-capable, ours are sync), every `MiddlewareMixin` runs its hooks through `sync_to_async`
in async mode, and the view is called through `sync_to_async` again. Measured under daphne with 50 clients that
costs more than the view itself (bench/load.py). Here a GET or HEAD without a body runs Django's `WSGIHandler`
(the same settings, URLs, middleware and signals, all in sync mode) in one call on the same thread-sensitive
thread the ASGI handler uses, so database connections stay on one thread as before. Requests with a body (uploads
stream from daphne's file, see server.py) and websockets keep the ASGI path.

A response that is not streaming is sent whole from the event loop; a streaming one (a file download) is read
chunk by chunk on the sync thread and sent as it is read, as Django's ASGI handler does.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponseBase

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]  # as Django's ASGIHandler types them
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BRIDGED_METHODS = frozenset({"GET", "HEAD"})
_EMPTY = b""


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False


def environ_for(scope: Scope) -> dict[str, Any]:
    """The WSGI environ of an ASGI HTTP scope without a body (PEP 3333 strings: latin-1 decoded bytes)."""
    root = scope.get("root_path", "")
    path = scope["path"]
    if root and path.startswith(root):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] if server[1] is not None else 0),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(_EMPTY),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if client := scope.get("client"):
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    for raw_name, raw_value in scope.get("headers", ()):
        if b"_" in raw_name:  # `X_Forwarded_Proto` would pass for `X-Forwarded-Proto`: dropped, as Django's ASGI does
            continue
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        key = name if name in ("CONTENT_LENGTH", "CONTENT_TYPE") else f"HTTP_{name}"
        value = raw_value.decode("latin-1")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class _Response:
    """What the WSGI handler answered: status, headers and either the whole body or the open iterator."""

    __slots__ = ("body", "headers", "iterator", "result", "status")

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: bytes | None = None
        self.iterator: Iterator[bytes] | None = None
        self.result: Any = None

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        self.status = int(status.split(" ", 1)[0])
        # Stripped as Django's ASGI handler does: WSGIHandler writes each Set-Cookie value with a leading space.
        self.headers = [(name.lower().encode("latin-1"), value.strip().encode("latin-1")) for name, value in headers]


class WSGIBridge:
    """The ASGI application: bodiless GET/HEAD through `WSGIHandler`, everything else to `fallback`."""

    def __init__(self, fallback: ASGIApp) -> None:
        self.fallback = fallback
        self.handler = WSGIHandler()
        self._call = sync_to_async(self._run, thread_sensitive=True)
        self._next = sync_to_async(self._read, thread_sensitive=True)
        self._close = sync_to_async(self._finish, thread_sensitive=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BRIDGED_METHODS or _has_body(scope.get("headers", [])):
            await self.fallback(scope, receive, send)
            return
        response = await self._call(scope)
        await send({"type": "http.response.start", "status": response.status, "headers": response.headers})
        if response.iterator is None:
            await send({"type": "http.response.body", "body": response.body or _EMPTY})
            return
        try:
            while (chunk := await self._next(response)) is not None:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": _EMPTY})
        finally:
            await self._close(response)

    def _run(self, scope: Scope) -> _Response:
        response = _Response()
        # Django never calls the `write` that PEP 3333's start_response returns: this one returns none.
        result = self.handler(environ_for(scope), response.start_response)  # type: ignore[arg-type]
        if isinstance(result, HttpResponseBase) and not result.streaming:
            try:
                response.body = b"".join(result)
            finally:
                result.close()  # request_finished: connections and files released as under any WSGI server
        else:
            response.result = result
            response.iterator = iter(result)
        return response

    @staticmethod
    def _read(response: _Response) -> bytes | None:
        assert response.iterator is not None
        return next(response.iterator, None)

    @staticmethod
    def _finish(response: _Response) -> None:
        if close := getattr(response.result, "close", None):
            close()
