"""The websocket every browser tab keeps open at /ws to receive `{interface, operation, data}` messages."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from core.constants import WS_CLOSE_TRY_AGAIN, WS_CLOSE_UNAUTHENTICATED, WS_PREPARED_TEXT_EXTENSION
from core.events import ChannelEvent
from core.fanout import local_groups
from core.selectors import event_groups_for

# Redis, which carries every live update, cannot be reached: the socket is closed with this reason (code 4503:
# Virtool's client reconnects), never a failed handshake (an HTTP 500) or a traceback.
LAYER_DOWN_REASON = "Live updates are unavailable: Redis cannot be reached"
LAYER_ERRORS = (RedisError, OSError)

log = logging.getLogger(__name__)


# The text of the latest events by id: every local socket of a group is handed the same event (core.fanout), and
# writing the same JSON once per socket was most of a fan-out's cost in daphne (bench/ws_fanout.py, 1,000 sockets).
# One string for all of them also lets the server frame it once (WS_PREPARED_TEXT_EXTENSION).
_EVENT_TEXTS: OrderedDict[str, str] = OrderedDict()
_EVENT_TEXTS_KEPT = 256
# Event ids a connection remembers to drop the second copy of an event sent to several of its groups.
SEEN_KEPT = 1024


def _event_text(event_id: str | None, message: Any) -> str:
    """The JSON text of a dispatcher message, written once per event in this process."""
    if event_id is None:
        return orjson.dumps(message, option=orjson.OPT_NON_STR_KEYS).decode()
    text = _EVENT_TEXTS.get(event_id)
    if text is None:
        text = _EVENT_TEXTS[event_id] = orjson.dumps(message, option=orjson.OPT_NON_STR_KEYS).decode()
        if len(_EVENT_TEXTS) > _EVENT_TEXTS_KEPT:
            _EVENT_TEXTS.popitem(last=False)
    return text


class EventConsumer(AsyncJsonWebsocketConsumer):
    """Relays dispatcher events to one authenticated connection; consumers never write to the database."""

    accepted = False
    layer_down = False
    draining: asyncio.Future[None] | None = None
    send_prepared: Callable[[str], bool] | None = None

    # Channels sets `channel_receive` (the channel layer's read) just before it starts reading both the socket and
    # the layer; a read that fails because Redis is down would end the consumer with a traceback (an HTTP 500
    # during the handshake). The setter wraps it so that the socket is closed with a reason instead.
    @property
    def channel_receive(self) -> Callable[[], Awaitable[Any]]:
        return self._channel_receive

    @channel_receive.setter
    def channel_receive(self, receive: Callable[[], Awaitable[Any]]) -> None:
        async def guarded() -> Any:
            try:
                return await receive()
            except LAYER_ERRORS as exc:
                await self._layer_down(exc)
                await asyncio.Event().wait()  # nothing more from the layer; the socket's own close ends the consumer
                raise  # never reached: satisfies the type checker

        self._channel_receive = guarded

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        self.accepted = True
        await super().accept(subprotocol, headers)

    async def _layer_down(self, exc: BaseException) -> None:
        """Close the socket, once, saying why (accepting it first when the handshake is still going)."""
        if self.layer_down:
            return
        self.layer_down = True
        log.warning("websocket closed: the channel layer (Redis) cannot be reached: %s", exc)
        if not self.accepted:
            await self.accept()
        await self.close(code=WS_CLOSE_TRY_AGAIN, reason=LAYER_DOWN_REASON)

    async def dispatch(self, message: ChannelEvent) -> None:
        # Channels closes stale database connections before every handler, through the one shared thread for
        # synchronous code: with hundreds of sockets per process that queue delayed every fan-out. Relaying an
        # event never touches the database, so it skips that step.
        if message["type"] == "virtool.event":
            await self.virtool_event(message)
            return
        await super().dispatch(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=WS_CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        session = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        self.joined: set[str] = set()
        # One change can reach a connection through several groups (e.g. `admins` and `users.<id>`): the ids of
        # the latest events, in a set to look them up and in a deque to forget the oldest.
        self.seen: set[str] = set()
        self.seen_order: deque[str] = deque()
        # What the process's local groups hand this connection while it is not ready for them (core.fanout): held
        # until the handshake is done and while an earlier control message is being handled, then taken in order.
        # None when they are relayed at once.
        self.backlog: deque[ChannelEvent] | None = deque()
        self.draining: asyncio.Future[None] | None = None
        # Virtool's server writes an event to each socket as one frame built for all of them (virtool_site.server).
        self.send_prepared = (self.scope.get("extensions") or {}).get(WS_PREPARED_TEXT_EXTENSION)
        # Join the groups before accepting: once the client sees the socket open, no change can slip past it.
        try:
            await self._refresh_groups(accept=True)
        except LAYER_ERRORS as exc:
            await self._layer_down(exc)
        self._drain()

    async def _refresh_groups(self, accept: bool = False) -> None:
        groups = await database_sync_to_async(event_groups_for)(user_id=self.user_id)
        if groups is None:
            if accept:
                await self.accept()
            await self.close(code=WS_CLOSE_UNAUTHENTICATED)
            return
        # The process joins the groups in Redis on behalf of all its sockets (core.fanout), and renews them.
        local = local_groups()
        await local.join(groups - self.joined, self)
        self.joined |= groups
        await local.leave(self.joined - groups, self)
        self.joined = groups
        if accept:
            await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.draining is not None:
            self.draining.cancel()
        try:
            # Quietly while Redis is down: the process's memberships there expire by themselves (group_expiry).
            await local_groups().leave(getattr(self, "joined", set()), self, quiet=self.layer_down)
        except LAYER_ERRORS as exc:
            log.warning("websocket groups not left: the channel layer (Redis) cannot be reached: %s", exc)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Virtool clients send nothing; answer a ping so that clients can check liveness.
        if isinstance(content, dict) and content.get("operation") == "ping":
            await self.send_json({"interface": "ws", "operation": "pong", "data": None})

    # --- What the process's local groups hand over (core.fanout) ---------------------------------------------

    async def virtool_event(self, event: ChannelEvent) -> None:
        """Forward one dispatcher message, once, after anything held before it."""
        if self.backlog is not None:
            self.backlog.append(event)
            return
        await self._relay(event)

    def control(self, message: ChannelEvent) -> None:
        """Handle a control message sent to one of the connection's groups, in turn with its events."""
        if self.backlog is None:
            self.backlog = deque()
            self._drain()
        self.backlog.append(message)

    def _drain(self) -> None:
        """Take what is held, in order, in a task of its own (a control handler may wait for the database)."""
        if self.draining is None and self.backlog is not None:
            self.draining = asyncio.ensure_future(self._run_backlog())

    async def _run_backlog(self) -> None:
        try:
            while self.backlog:
                message = self.backlog.popleft()
                try:
                    if message["type"] == "virtool.event":
                        await self._relay(message)
                    else:
                        await self.dispatch(message)  # the handler, after channels' usual database hop
                except Exception:
                    log.exception("websocket could not handle %s", message["type"])
        finally:
            self.backlog = None
            self.draining = None

    async def _relay(self, event: ChannelEvent) -> None:
        event_id = event.get("event_id")
        if event_id is not None:
            if event_id in self.seen:
                return
            self.seen.add(event_id)
            self.seen_order.append(event_id)
            if len(self.seen_order) > SEEN_KEPT:
                self.seen.discard(self.seen_order.popleft())
        text = _event_text(event_id, event["message"])
        if self.send_prepared is not None and self.send_prepared(text):
            return
        await self.send(text_data=text)

    async def virtool_refresh(self, event: ChannelEvent) -> None:
        """The user's groups, role or active flag changed: rejoin, or close when the user was deactivated."""
        await self._refresh_groups_or_close()

    async def _refresh_groups_or_close(self) -> None:
        try:
            await self._refresh_groups()
        except LAYER_ERRORS as exc:
            await self._layer_down(exc)

    async def virtool_session_ended(self, event: ChannelEvent) -> None:
        """Close the sockets of a session that logged out."""
        if event.get("session_key") and event["session_key"] == self.session_key:
            await self.close(code=WS_CLOSE_UNAUTHENTICATED)
