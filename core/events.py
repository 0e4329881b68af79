"""The dispatcher: every committed change to a watched model reaches the browsers allowed to see it.

Models register an interface name, a way to serialize a row and an audience (the Channels groups whose members
may read it). Signal receivers queue a message with `transaction.on_commit`; the payload is built from the
committed row when the transaction commits, then sent through the Redis channel layer, so changes made in
Celery workers and management commands reach browsers connected to daphne. Code that bypasses signals
(`QuerySet.update()`, `bulk_create()`, m2m changes) calls `dispatch()` itself.

Audience groups (joined by `core.consumers.EventConsumer`):
- `all`: every authenticated connection,
- `admins`: administrators,
- `users.<id>`: one user's connections,
- `groups.<id>`: members of one group.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypedDict, TypeVar

from channels.layers import get_channel_layer
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from rest_framework.utils.encoders import JSONEncoder

log = logging.getLogger(__name__)

Operation = Literal["insert", "update", "delete"]
# What a delete message carries: primary keys, or another id a registration names (a history change's `change_id`).
RowId = int | str
# A Channels event (`{"type": "virtool.<kind>", ...}`), as the channel layer carries it.
ChannelEvent = dict[str, Any]

M = TypeVar("M", bound=models.Model)


class Message(TypedDict):
    """What a browser receives over the websocket."""

    interface: str
    operation: Operation
    data: Any


GROUP_ALL = "all"
GROUP_ADMINS = "admins"


def user_group(user_id: int) -> str:
    """The Channels group of one user's connections."""
    return f"users.{user_id}"


def member_group(group_id: int) -> str:
    """The Channels group of the members of one user group."""
    return f"groups.{group_id}"


def _primary_key(instance: models.Model) -> RowId:
    pk: RowId = instance.pk
    return pk


@dataclass
class Registration(Generic[M]):
    """How one model is dispatched; the callables take rows of that model."""

    model: type[M]
    interface: str
    serialize: Callable[[M], Mapping[str, Any]]
    audience: Callable[[M], Iterable[str]]
    queryset: Callable[[], models.QuerySet[M]] | None = None
    ids: Callable[[M], RowId] = field(default=_primary_key)

    def load(self, pks: Sequence[RowId]) -> list[M]:
        """Re-read committed rows, in the order given."""
        queryset = self.queryset() if self.queryset else self.model._default_manager.all()
        rows = {row.pk: row for row in queryset.filter(pk__in=pks)}
        return [rows[pk] for pk in pks if pk in rows]


# Each registration is typed by its own model; the registries hold them side by side.
_REGISTRY: dict[type[models.Model], Registration[Any]] = {}
_BY_INTERFACE: dict[str, Registration[Any]] = {}


def register(
    model: type[M],
    *,
    interface: str,
    serialize: Callable[[M], Mapping[str, Any]],
    audience: Callable[[M], Iterable[str]],
    queryset: Callable[[], models.QuerySet[M]] | None = None,
    ids: Callable[[M], RowId] | None = None,
) -> None:
    """Watch `model`: its inserts, updates and deletes are sent to `audience(instance)` as `interface`.

    `ids` gives the id a delete message carries when it is not the primary key (e.g. a history change's id).
    """
    registration = Registration(model, interface, serialize, audience, queryset)
    if ids is not None:
        registration.ids = ids
    _REGISTRY[model] = registration
    _BY_INTERFACE[interface] = registration


def registration_for(interface: str) -> Registration[Any]:
    """The registration of an interface name."""
    return _BY_INTERFACE[interface]


# Group sends of one message in flight at once (each holds one Redis connection of the sender's pool).
SEND_CONCURRENCY = 16


class _Sender:
    """One event loop in a daemon thread that performs every group send of this process.

    `async_to_sync` would start a new loop (and a new Redis connection) per call in Celery workers and commands;
    one long-lived loop keeps a warm connection pool instead.
    """

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.lock = threading.Lock()
        self.pid: int | None = None

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self.lock:
            # A forked process (Celery prefork) inherits the object but not the thread: start a fresh one.
            if self.loop is None or self.pid != os.getpid():
                self.loop = asyncio.new_event_loop()
                self.pid = os.getpid()
                threading.Thread(target=self.loop.run_forever, name="virtool-events", daemon=True).start()
            return self.loop

    def run(self, messages: list[tuple[list[str], ChannelEvent]], timeout: float = 10.0) -> None:
        layer = get_channel_layer()

        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def one(group: str, event: ChannelEvent) -> None:
            async with gate:
                # Named in the message: each daphne process is one member of the group for all its sockets, and
                # hands the message to the sockets it has in that group (core.fanout).
                await layer.group_send(group, {**event, "group": group})

        async def fan_out() -> None:
            # The groups of one message at once (each group_send is several Redis round trips, and an audience
            # listed user by user has many); the messages one after the other, so that every socket gets them in
            # order. A socket in several of the groups keeps the first copy.
            for groups, event in messages:
                await asyncio.gather(*(one(group, event) for group in groups))

        asyncio.run_coroutine_threadsafe(fan_out(), self._ensure()).result(timeout)


_sender = _Sender()


def jsonable(data: Any) -> Any:
    """`data` with dates, decimals and UUIDs as the API renders them: the channel layer only carries JSON types."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


def _event(message: Message) -> ChannelEvent:
    return {"type": "virtool.event", "event_id": uuid.uuid4().hex, "message": message}


def send_many(messages: Sequence[tuple[Iterable[str], Message]]) -> None:
    """Send messages (each to its groups) now, in order. Never raises: what they report is already committed."""
    batch = [(sorted(set(groups)), _event(message)) for groups, message in messages]
    batch = [(groups, event) for groups, event in batch if groups]
    if not batch:
        return
    try:
        _sender.run(batch)
    except Exception:  # a broker outage must not turn a committed write into a failed request
        log.exception("could not dispatch %s", ", ".join(f"{e['message'].get('interface')}" for _, e in batch))


def send(groups: Iterable[str], message: Message) -> None:
    """Send one message to Channels groups now."""
    send_many([(groups, message)])


def control(groups: Iterable[str], kind: str, **payload: Any) -> None:
    """Send a control message (e.g. membership changed) to consumers after commit; never shown to browsers."""
    targets = list(groups)

    def deliver() -> None:
        try:
            _sender.run([(targets, {"type": f"virtool.{kind}", **payload})])
        except Exception:
            log.exception("could not send %s control message", kind)

    transaction.on_commit(deliver)


def dispatch(
    *, interface: str, operation: Operation, ids: Iterable[RowId], audience: Iterable[str] | None = None
) -> None:
    """Tell websocket clients about changes once the current transaction commits.

    For insert and update the rows are re-read after commit and sent in full to the audience of each row;
    for delete, `audience` (computed before the rows went away) receives the list of ids.
    """
    registration = _BY_INTERFACE[interface]
    row_ids = list(ids)
    fixed_audience = list(audience) if audience is not None else None

    def deliver() -> None:
        if operation == "delete":
            send(fixed_audience or [], {"interface": interface, "operation": "delete", "data": row_ids})
            return
        try:
            rows = registration.load(row_ids)
        except Exception:
            log.exception("could not load %s %s for dispatch", interface, row_ids)
            return
        send_many(
            [
                (
                    fixed_audience if fixed_audience is not None else registration.audience(row),
                    {"interface": interface, "operation": operation, "data": jsonable(registration.serialize(row))},
                )
                for row in rows
            ]
        )

    transaction.on_commit(deliver)


def dispatch_instance(instance: models.Model, operation: Operation = "update") -> None:
    """Dispatch one registered row (for changes made without `save()`, such as m2m edits)."""
    registration = _REGISTRY[type(instance)]
    if operation == "delete":
        dispatch(
            interface=registration.interface,
            operation="delete",
            ids=[registration.ids(instance)],
            audience=registration.audience(instance),
        )
    else:
        dispatch(interface=registration.interface, operation=operation, ids=[instance.pk])


def _on_save(sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **_: Any) -> None:
    if raw or sender not in _REGISTRY:
        return
    dispatch_instance(instance, "insert" if created else "update")


def _on_delete(sender: type[models.Model], instance: models.Model, **_: Any) -> None:
    if sender in _REGISTRY:
        dispatch_instance(instance, "delete")


def connect() -> None:
    """Connect the generic receivers (called once from `CoreConfig.ready`)."""
    post_save.connect(_on_save, dispatch_uid="virtool_events_save")
    post_delete.connect(_on_delete, dispatch_uid="virtool_events_delete")
