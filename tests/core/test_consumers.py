"""The websocket consumer, in process and through a real daphne across process boundaries."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from websockets.sync.client import connect

from core import events
from core.consumers import EventConsumer
from tests.conftest import session_cookie_for
from users import services as user_services

pytestmark = pytest.mark.django_db(transaction=True)


async def communicator_for(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(EventConsumer.as_asgi(), "/ws")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_unauthenticated_socket_is_closed_with_4000():
    communicator = await communicator_for(AnonymousUser())
    assert await communicator.receive_output(2) == {"type": "websocket.close", "code": 4000}


async def test_socket_relays_events_once_even_through_several_groups(make_user):
    admin = await database_sync_to_async(make_user)("root", role="full")
    communicator = await communicator_for(admin)
    # The user document goes to `admins` and to `users.<id>`: the connection is in both, it arrives once.
    await database_sync_to_async(user_services.user_update)(user=admin, data={"force_reset": True})
    message = await communicator.receive_json_from(5)
    assert message["interface"] == "users"
    assert message["data"]["force_reset"] is True
    assert await communicator.receive_nothing(0.5)
    await communicator.disconnect()


async def test_socket_joins_new_group_after_membership_change(make_user):
    bob = await database_sync_to_async(make_user)("bob")
    group = await database_sync_to_async(user_services.group_create)(name="lab")
    communicator = await communicator_for(bob)
    await database_sync_to_async(user_services.user_update)(user=bob, data={"groups": [group]})
    # The group (its member list) and the user document both change; the user's arrives last.
    assert [(await communicator.receive_json_from(5))["interface"] for _ in range(2)] == ["groups", "users"]
    await events_send_async([events.member_group(group.pk)], {"interface": "x", "operation": "update", "data": 1})
    assert (await communicator.receive_json_from(5))["interface"] == "x"
    await communicator.disconnect()


async def test_deactivated_user_socket_is_closed(make_user):
    bob = await database_sync_to_async(make_user)("bob")
    communicator = await communicator_for(bob)
    await database_sync_to_async(user_services.user_update)(user=bob, data={"active": False})
    output = await communicator.receive_output(5)
    while output["type"] != "websocket.close":
        output = await communicator.receive_output(5)
    assert output["code"] == 4000


async def test_ping_is_answered(make_user):
    bob = await database_sync_to_async(make_user)("bob")
    communicator = await communicator_for(bob)
    await communicator.send_json_to({"operation": "ping"})
    assert await communicator.receive_json_from(5) == {"interface": "ws", "operation": "pong", "data": None}
    await communicator.disconnect()


async def events_send_async(groups, message):
    await database_sync_to_async(events.send)(groups, message)


# --- Across processes, through a real daphne ------------------------------------------------------------------


def open_socket(live_server_url: str, user):
    url = live_server_url.replace("http://", "ws://") + "/ws"
    return connect(
        url,
        additional_headers={"Cookie": f"sessionid={session_cookie_for(user)}", "Origin": live_server_url},
        open_timeout=10,
    )


def drain(socket) -> None:
    """Read until the server closes the socket (raises ConnectionClosed) or 10 s of silence."""
    while True:
        socket.recv(timeout=10)


def receive_until(socket, predicate, timeout: float = 10.0) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        if predicate(message):
            return message


@pytest.mark.live
def test_change_made_by_manage_py_reaches_browser_through_daphne(live_server_url, admin_user, run_manage):
    with open_socket(live_server_url, admin_user) as socket:
        result = run_manage("create_user", "carol", "--password-stdin", input_text="a long password\n")
        assert result.returncode == 0, result.stderr
        message = receive_until(socket, lambda m: m["interface"] == "users")
    assert message["operation"] == "insert"
    assert message["data"]["handle"] == "carol"
    assert set(message["data"]) >= {"id", "handle", "active", "administrator_role", "groups", "permissions"}


@pytest.mark.live
def test_socket_only_receives_what_the_user_may_read(live_server_url, admin_user, make_user, run_manage):
    bob = make_user("bob")
    with open_socket(live_server_url, bob) as socket:
        run_manage("create_user", "carol", "--password-stdin", input_text="a long password\n")
        # Groups are readable by everyone: this message arrives; the new user (admins only) must not.
        user_services.group_create(name="lab")
        message = receive_until(socket, lambda m: m["interface"] in ("users", "groups"))
    assert message["interface"] == "groups"


@pytest.mark.live
def test_unauthenticated_socket_to_daphne_is_closed_with_4000(live_server_url):
    from websockets.exceptions import ConnectionClosed

    url = live_server_url.replace("http://", "ws://") + "/ws"
    with (
        connect(url, additional_headers={"Origin": live_server_url}, open_timeout=10) as socket,
        pytest.raises(ConnectionClosed) as closed,
    ):
        socket.recv(timeout=10)
    assert closed.value.rcvd.code == 4000


@pytest.mark.live
def test_logout_closes_the_sessions_sockets(live_server_url, make_user, settings):
    import requests

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.BCryptSHA256PasswordHasher"]  # what daphne knows
    make_user("bob")
    session = requests.Session()
    headers = {"Origin": live_server_url}
    session.post(
        f"{live_server_url}/api/account/login",
        json={"handle": "bob", "password": "hunter2hunter2"},
        headers=headers,
        timeout=10,
    )
    from websockets.exceptions import ConnectionClosed

    url = live_server_url.replace("http://", "ws://") + "/ws"
    cookie = f"sessionid={session.cookies['sessionid']}"
    with connect(url, additional_headers={"Cookie": cookie, "Origin": live_server_url}, open_timeout=10) as socket:
        assert session.get(f"{live_server_url}/api/account/logout", timeout=10).status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            drain(socket)
    assert closed.value.rcvd.code == 4000


async def test_long_lived_socket_renews_its_group_memberships(make_user, monkeypatch, settings):
    import asyncio

    import redis.asyncio as redis

    # The process renews the memberships it holds for its sockets (core.fanout), whether or not they say anything.
    monkeypatch.setattr("core.fanout.GROUP_REFRESH_SECONDS", 0.1)
    bob = await database_sync_to_async(make_user)("bob")
    communicator = await communicator_for(bob)
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}:group:all"
    for _ in range(50):  # the socket joins its groups right after the handshake
        if members := await client.zrange(key, 0, -1, withscores=True):
            break
        await asyncio.sleep(0.05)
    ((member, first),) = members
    await asyncio.sleep(0.5)
    assert await client.zscore(key, member) > first
    await communicator.disconnect()
    await client.aclose()
