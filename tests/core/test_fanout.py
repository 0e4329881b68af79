"""Local fan-out: a process is one member of each group for all its sockets (core.fanout), on the real Redis layer."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis.asyncio as redis
from channels.db import database_sync_to_async

from core import events
from core.fanout import LocalGroups, local_groups
from tests.core.test_consumers import communicator_for, open_socket, receive_until
from users import services as user_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def layer(settings):
    """A Redis layer of the test's own: channels_redis ties a layer's reads to the first event loop reading it."""
    from channels_redis.core import RedisChannelLayer

    return RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])


def group_key(settings, group: str) -> str:
    return f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}:group:{group}"


async def members_of(settings, group: str) -> list[bytes]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return await client.zrange(group_key(settings, group), 0, -1)
    finally:
        await client.aclose()


class Recorder:
    """A stand-in for a consumer: records what the local groups hand it."""

    def __init__(self, name: str, *, fail: bool = False) -> None:
        self.channel_name = name
        self.fail = fail
        self.events: list[dict] = []
        self.controls: list[dict] = []

    async def virtool_event(self, event: dict) -> None:
        if self.fail:
            raise RuntimeError("this socket is broken")
        self.events.append(event)

    def control(self, message: dict) -> None:
        self.controls.append(message)


async def send_async(groups, message):
    await database_sync_to_async(events.send)(groups, message)


async def test_sockets_of_one_process_share_one_membership_and_each_gets_the_event_once(make_user, settings):
    alice = await database_sync_to_async(make_user)("alice")
    bob = await database_sync_to_async(make_user)("bob")
    first, second = await communicator_for(alice), await communicator_for(bob)

    assert len(await members_of(settings, events.GROUP_ALL)) == 1  # the process's channel, not one per socket
    await send_async([events.GROUP_ALL], {"interface": "x", "operation": "update", "data": {"n": 1}})
    for communicator in (first, second):
        assert await communicator.receive_json_from(5) == {"interface": "x", "operation": "update", "data": {"n": 1}}
        assert await communicator.receive_nothing(0.3)

    await first.disconnect()
    assert len(await members_of(settings, events.GROUP_ALL)) == 1  # bob is still there
    await send_async([events.GROUP_ALL], {"interface": "x", "operation": "update", "data": {"n": 2}})
    assert (await second.receive_json_from(5))["data"] == {"n": 2}
    await second.disconnect()
    assert await members_of(settings, events.GROUP_ALL) == []  # left with its last local member


async def test_a_group_message_reaches_only_that_groups_local_members(settings, layer):
    local = LocalGroups(layer)
    in_group, elsewhere = Recorder("in"), Recorder("elsewhere")
    await local.join(["users.1"], in_group)
    await local.join(["users.2"], elsewhere)
    try:
        await send_async(["users.1"], {"interface": "x", "operation": "update", "data": 1})
        for _ in range(100):
            if in_group.events:
                break
            await asyncio.sleep(0.02)
        assert [event["message"]["data"] for event in in_group.events] == [1]
        assert elsewhere.events == []
    finally:
        await local.leave(["users.1"], in_group)
        await local.leave(["users.2"], elsewhere)
    assert local._tasks == []  # nobody left: the process stops reading
    assert await members_of(settings, "users.1") == []


async def test_control_messages_go_to_the_members_own_handler(layer):
    local = LocalGroups(layer)
    member = Recorder("member")
    local.members["users.7"] = {member}
    await local.deliver({"type": "virtool.refresh", "group": "users.7"})
    assert member.controls == [{"type": "virtool.refresh", "group": "users.7"}]
    assert member.events == []


async def test_a_failing_socket_does_not_keep_the_event_from_the_others(caplog, layer):
    local = LocalGroups(layer)
    broken, fine = Recorder("broken", fail=True), Recorder("fine")
    local.members["all"] = {broken, fine}
    event = {"type": "virtool.event", "group": "all", "event_id": "e1", "message": {"interface": "x"}}
    with caplog.at_level(logging.ERROR, logger="core.fanout"):
        await local.deliver(event)
    assert fine.events == [event]
    assert "could not relay an event to broken" in caplog.text


async def test_joining_while_the_last_member_leaves_keeps_the_group(settings, layer):
    local = LocalGroups(layer)
    leaving, joining = Recorder("leaving"), Recorder("joining")
    await local.join(["groups.3"], leaving)
    # The leave's group_discard and the join's group_add run one after the other, whichever order they start in.
    await asyncio.gather(local.leave(["groups.3"], leaving), local.join(["groups.3"], joining))
    assert local.members["groups.3"] == {joining}
    assert len(await members_of(settings, "groups.3")) == 1
    await local.leave(["groups.3"], joining)
    assert await members_of(settings, "groups.3") == []


async def test_each_event_loop_has_its_own_local_groups():
    assert local_groups() is local_groups()
    other = await asyncio.to_thread(lambda: asyncio.run(_local_groups_in_new_loop()))
    assert other is not local_groups()


async def _local_groups_in_new_loop() -> LocalGroups:
    return local_groups()


@pytest.mark.live
def test_one_change_reaches_every_socket_of_daphne_once(live_server_url, make_user, settings):
    """Through Virtool's server, which writes the event to each socket as one prepared frame."""
    alice, bob = make_user("alice"), make_user("bob")
    with open_socket(live_server_url, alice) as first, open_socket(live_server_url, bob) as second:
        assert len(asyncio.run(members_of(settings, events.GROUP_ALL))) == 1
        user_services.group_create(name="lab")  # groups are readable by everyone: sent to `all`
        received = [receive_until(socket, lambda m: m["interface"] == "groups") for socket in (first, second)]
    assert received[0] == received[1]
    assert received[0]["operation"] == "insert"
    assert received[0]["data"]["name"] == "lab"
