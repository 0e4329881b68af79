"""Rendered API responses kept per process until the database changes.

A list such as the samples list costs about 20 ms of queries and serialization, most of it the ORM building
SQL; a browser polls it and 50 clients ask for the same page again and again. A response of a view marked with
`cached_response` is kept, rendered, under its request (path and query, accepted media type, host, the signed-in
user) and the database's change marker read before the view ran; the next identical request with the same
marker is answered from it. Authentication, permissions and every middleware still run for each request: only
the view's work is saved.

The marker changes with every write the database commits, by anyone, so no change can be missed, whichever
process or query made it (a `save()`, a `QuerySet.update()`, a Celery worker, a migration, raw SQL):

- SQLite: `PRAGMA data_version` (changes when another connection commits) with this connection's
  `total_changes` (its own writes) and a number for the connection itself;
- PostgreSQL: none. Its one cheap candidate, the write-ahead log's position, is shared by every database of the
  server, so any other database's writes (or another test run's) move it, and its statistics are reported late;
  so nothing is kept there and every request is answered as before.

The marker is read before the view queries; a write committed in between is in the stored body already and moves
the marker, so the body is never served under a marker older than its data. When the marker cannot be read
(another database, a standby server) nothing is cached. Views may use this only when their answer depends on the
database and the request alone (not on the clock, files or the environment).
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

_tokens = itertools.count(1)


def _number_connection(sender: Any, connection: Any, **_: Any) -> None:
    connection.virtool_marker_token = next(_tokens)


connection_created.connect(_number_connection, dispatch_uid="virtool_marker_token")


def database_marker() -> tuple[Any, ...] | None:
    """A value that changes whenever a write is committed to the default database; None when unknown."""
    try:
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            raw = connection.connection
            (version,) = raw.execute("PRAGMA data_version").fetchone()
            return (getattr(connection, "virtool_marker_token", 0), version, raw.total_changes)
    except Exception:  # any driver's error (raw calls raise the driver's own): nothing is cached
        return None
    return None


class ResponseStore:
    """A bounded LRU of rendered bodies (by count and bytes), safe to share between threads."""

    def __init__(self, max_entries: int, max_bytes: int, max_body: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_body = max_body
        self._entries: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], bytes, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], marker: tuple[Any, ...]) -> tuple[bytes, str] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] != marker:  # the database changed since it was rendered
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[1], entry[2]

    def put(self, key: tuple[Any, ...], marker: tuple[Any, ...], body: bytes, content_type: str) -> None:
        if len(body) > self.max_body:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (marker, body, content_type)
            self._bytes += len(body)
            while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: tuple[Any, ...]) -> None:
        self._bytes -= len(self._entries.pop(key)[1])


class MarkedValues:
    """Values read from the database, kept per process while `database_marker()` is unchanged (a bounded LRU).

    For what every request reads again, such as its session and its user: on a hit no query is built."""

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Any, tuple[tuple[Any, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_load(self, key: Any, load: Callable[[], Any]) -> Any:
        marker = database_marker() if settings.VIRTOOL_RESPONSE_CACHE_ENTRIES else None
        if marker is None:
            return load()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == marker:
                self._entries.move_to_end(key)
                return entry[1]
        value = load()
        with self._lock:
            self._entries[key] = (marker, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


store = ResponseStore(
    max_entries=settings.VIRTOOL_RESPONSE_CACHE_ENTRIES,
    max_bytes=settings.VIRTOOL_RESPONSE_CACHE_MB * 1024 * 1024,
    max_body=4 * 1024 * 1024,
)


def _key(view: Any, request: Request) -> tuple[Any, ...]:
    return (
        type(view).__module__,
        type(view).__qualname__,
        request.get_full_path(),
        request.accepted_media_type,
        request.get_host(),
        request.scheme,
        request.user.pk,
    )


def cached_response(method: Callable[..., Response]) -> Callable[..., HttpResponse]:
    """Mark a GET handler of an APIView whose answer depends only on the database and the request."""

    @functools.wraps(method)
    def handler(view: Any, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.VIRTOOL_RESPONSE_CACHE_ENTRIES or not request.user.is_authenticated:
            return method(view, request, *args, **kwargs)
        marker = database_marker()
        if marker is None:
            return method(view, request, *args, **kwargs)
        key = _key(view, request)
        if (hit := store.get(key, marker)) is not None:
            body, content_type = hit
            return HttpResponse(body, content_type=content_type)
        response = method(view, request, *args, **kwargs)
        if response.status_code == 200:

            def keep(rendered: HttpResponse) -> None:
                store.put(key, marker, rendered.content, rendered["Content-Type"])

            response.add_post_render_callback(keep)
        return response

    return handler
