"""Local fan-out: one channel-layer member per process for every websocket group, whatever the number of sockets.

Each websocket consumer used to join its Channels groups itself, so a change to `all` with 1,000 sockets in one
daphne process reached that process as one Redis message that channels_redis then queued 1,000 times, and each
consumer woke up, took it from its own queue and sent it (bench/ws_fanout.py: 0.6 s to the last of 1,000
sockets). Here a process has one channel (`LocalGroups.channel`) that joins, in Redis, each group at least one
of its sockets belongs to; it receives one message per change and writes the frame to each local socket of the
group in one pass. The dispatcher names the group in each message (`core.events`) so that the process knows
which of its sockets it is for.

What consumers see is unchanged: `virtool.event` messages go to their `virtool_event` (which drops duplicates),
any other message sent to a group (the control messages of `core.events.control`) to their `control`, which
handles it in turn with the events that follow it, as when each consumer read its own channel.
Memberships in Redis still expire (`group_expiry`, for a process that died without leaving): the process renews
its own every `GROUP_REFRESH_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Iterable
from typing import Protocol

from channels.layers import BaseChannelLayer, get_channel_layer
from redis.exceptions import RedisError

from core.events import ChannelEvent

log = logging.getLogger(__name__)

# Shorter than the channel layer's group_expiry (settings.CHANNEL_LAYERS), so memberships never lapse.
GROUP_REFRESH_SECONDS = 1800
# How long the receiver waits before reading again after the channel layer (Redis) failed.
RETRY_SECONDS = 1.0
# How long the last member's leave waits for the receiver to stop.
STOP_SECONDS = 2.0

LAYER_ERRORS = (RedisError, OSError)


class Member(Protocol):
    """A consumer of local groups: a websocket connection."""

    channel_name: str

    async def virtool_event(self, event: ChannelEvent) -> None: ...

    def control(self, message: ChannelEvent) -> None: ...


class LocalGroups:
    """The local members of each group in one process (one event loop), and the one channel that stands for them."""

    def __init__(self, layer: BaseChannelLayer) -> None:
        self.layer = layer
        self.channel: str | None = None
        self.members: dict[str, set[Member]] = {}
        self.joined: set[str] = set()  # groups `channel` is a member of in the layer
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []

    # --- Membership ---------------------------------------------------------------------------------------------

    async def join(self, groups: Iterable[str], member: Member) -> None:
        """Add `member` to `groups`; once this returns, every message sent to them reaches it."""
        groups = list(groups)
        for group in groups:
            self.members.setdefault(group, set()).add(member)
        await self._start()
        try:
            for group in groups:
                async with self._lock(group):
                    if group not in self.joined and self.members.get(group):
                        await self.layer.group_add(group, self.channel)
                        self.joined.add(group)
        except BaseException:
            await self.leave(groups, member, quiet=True)
            raise

    async def leave(self, groups: Iterable[str], member: Member, *, quiet: bool = False) -> None:
        """Remove `member` from `groups`; the process leaves a group in the layer with its last local member.

        `quiet`: a layer that cannot be reached is not an error (its memberships expire by themselves).
        """
        for group in list(groups):
            members = self.members.get(group)
            if members is not None:
                members.discard(member)
                if not members:
                    del self.members[group]
            async with self._lock(group):
                if group in self.members or group not in self.joined:
                    continue  # another member joined meanwhile, or the process never joined it in the layer
                self.joined.discard(group)
                try:
                    await self.layer.group_discard(group, self.channel)
                except LAYER_ERRORS:
                    if not quiet:
                        raise
        if not self.members and not self._locks:
            await self._stop()

    @contextlib.asynccontextmanager
    async def _lock(self, group: str) -> AsyncIterator[None]:
        """One membership change in the layer at a time per group (a join waits for a leave under way, and so on)."""
        lock = self._locks.setdefault(group, asyncio.Lock())
        self._lock_users[group] = self._lock_users.get(group, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._lock_users[group] -= 1
            if not self._lock_users[group]:
                del self._lock_users[group], self._locks[group]

    # --- Receiving ----------------------------------------------------------------------------------------------

    async def _start(self) -> None:
        if self.channel is None:
            # One name for the life of the process: messages still queued for it are read at the next start. A
            # channel like the consumers' (channels_redis reads all of a process's channels from one inbox).
            self.channel = await self.layer.new_channel()
        if not self._tasks:
            self._tasks = [asyncio.ensure_future(self._receive()), asyncio.ensure_future(self._renew())]

    async def _stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            # Bounded: the socket that left last must not wait on the channel layer's cancelled read.
            await asyncio.wait(tasks, timeout=STOP_SECONDS)

    async def _receive(self) -> None:
        down = False
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except LAYER_ERRORS as exc:
                # Each consumer's own read fails too and closes its socket (core.consumers); keep listening.
                if not down:
                    log.warning("local fan-out cannot read the channel layer (Redis): %s", exc)
                down = True
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if down:
                log.warning("local fan-out reads the channel layer (Redis) again")
                down = False
            try:
                await self.deliver(message)
            except Exception:
                log.exception("local fan-out could not deliver %s", message.get("type"))

    async def deliver(self, message: ChannelEvent) -> None:
        """Hand one group message to the group's local members."""
        members = self.members.get(message.get("group", ""))
        if not members:
            return  # sent to a group this process just left, or by a sender that does not name it
        if message["type"] == "virtool.event":
            # The consumers' send() completes without waiting (daphne buffers the frame): one pass, no task each.
            for member in list(members):
                try:
                    await member.virtool_event(message)
                except Exception:
                    log.exception("could not relay an event to %s", member.channel_name)
            return
        for member in list(members):
            member.control(message)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(GROUP_REFRESH_SECONDS)
            for group in list(self.joined):
                try:
                    await self.layer.group_add(group, self.channel)
                except LAYER_ERRORS as exc:
                    log.warning("local fan-out could not renew its membership of %s: %s", group, exc)


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LocalGroups] = weakref.WeakKeyDictionary()


def local_groups() -> LocalGroups:
    """The local groups of the running event loop (daphne has one) and the current channel layer."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    groups = _BY_LOOP.get(loop)
    if groups is None or groups.layer is not layer:
        groups = _BY_LOOP[loop] = LocalGroups(layer)
    return groups
