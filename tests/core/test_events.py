"""The dispatcher: exact message shapes, audiences, bulk changes, and slow clients."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from core import events
from core.services import settings_update
from users import services as user_services

pytestmark = pytest.mark.django_db(transaction=True)


def test_insert_message_has_exact_shape(channel_reader):
    reader = channel_reader().join(events.GROUP_ALL)
    group = user_services.group_create(name="technicians")
    (message,) = reader.messages()
    assert message == {
        "interface": "groups",
        "operation": "insert",
        "data": {
            "id": group.pk,
            "name": "technicians",
            "permissions": dict.fromkeys(
                [
                    "cancel_job",
                    "create_ref",
                    "create_sample",
                    "modify_hmm",
                    "modify_subtraction",
                    "remove_file",
                    "remove_job",
                    "upload_file",
                ],
                False,
            ),
            "users": [],
        },
    }


def test_update_and_delete_messages(channel_reader):
    group = user_services.group_create(name="lab")
    reader = channel_reader().join(events.GROUP_ALL)
    user_services.group_update(group=group, permissions={"upload_file": True})
    user_services.group_delete(group=Group.objects.get(pk=group.pk))
    update, delete = reader.messages()
    assert update["operation"] == "update"
    assert update["data"]["permissions"]["upload_file"] is True
    assert delete == {"interface": "groups", "operation": "delete", "data": [group.pk]}


def test_nothing_is_sent_when_the_transaction_rolls_back(channel_reader):
    from django.db import transaction

    def create_then_fail() -> None:
        with transaction.atomic():
            user_services.group_create(name="ghost")
            raise RuntimeError("abort")

    reader = channel_reader().join(events.GROUP_ALL)
    with pytest.raises(RuntimeError):
        create_then_fail()
    assert reader.messages() == []


def test_user_changes_reach_administrators_and_the_user_only(channel_reader, make_user):
    bob = make_user("bob")
    everyone = channel_reader().join(events.GROUP_ALL)
    admins = channel_reader().join(events.GROUP_ADMINS)
    himself = channel_reader().join(events.user_group(bob.pk))
    stranger = channel_reader().join(events.user_group(bob.pk + 1000))
    user_services.user_update(user=bob, data={"force_reset": True})
    assert [m["data"]["force_reset"] for m in admins.messages() if m["interface"] == "users"] == [True]
    assert [m["data"]["handle"] for m in himself.messages() if m["interface"] == "users"] == ["bob"]
    assert [m for m in everyone.messages() if m["interface"] == "users"] == []
    assert [m for m in stranger.messages() if m["interface"] == "users"] == []


def test_bulk_permission_change_dispatches_every_member(channel_reader, make_user):
    group = user_services.group_create(name="lab")
    members = [make_user(handle) for handle in ("ann", "ben", "cat")]
    for member in members:
        member.groups.add(group)
    admins = channel_reader().join(events.GROUP_ADMINS)
    user_services.group_update(group=group, permissions={"create_ref": True})
    updated = {
        m["data"]["handle"]: m["data"]["permissions"]["create_ref"]
        for m in admins.messages()
        if m["interface"] == "users"
    }
    assert updated == {"ann": True, "ben": True, "cat": True}


def test_settings_changes_reach_everyone(channel_reader):
    from core.selectors import settings_get

    settings_get()  # the row exists before the change
    reader = channel_reader().join(events.GROUP_ALL)
    settings_update(data={"enable_api": True})
    (message,) = reader.messages()
    assert message["interface"] == "settings"
    assert message["operation"] == "update"
    assert message["data"]["enable_api"] is True


@pytest.fixture
def small_layer(settings):
    """The real Redis layer with a small per-client inbox, so that overflowing it is quick."""
    from channels.layers import channel_layers

    config = {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "capacity": 20}
    settings.CHANNEL_LAYERS = {"default": {**settings.CHANNEL_LAYERS["default"], "CONFIG": config}}
    channel_layers.backends.clear()
    yield 20
    channel_layers.backends.clear()


def test_a_client_that_never_reads_does_not_block_the_sender(channel_reader, small_layer):
    capacity = small_layer
    dead = channel_reader().join("dead-and-live")  # joined, never read until the end
    live = channel_reader().join("dead-and-live")
    received = []
    for index in range(capacity * 3):
        events.send(["dead-and-live"], {"interface": "test", "operation": "update", "data": index})
        event = live.receive(timeout=5)  # one message is due after each send: no read is cut short
        received.append(event["message"]["data"] if event else None)
    # Every send returned although one member stopped reading; the reader that keeps up got everything.
    assert received == list(range(capacity * 3))
    assert len(dead.messages(timeout=0.2)) == capacity  # the dead client's overflow was dropped


@pytest.mark.dispatch_errors_expected
def test_send_survives_a_broker_outage(settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        events.send(["all"], {"interface": "test", "operation": "update", "data": 1})
    finally:
        channel_layers.backends.clear()
    assert "could not dispatch" in caplog.text


def test_membership_change_updates_the_groups_and_rename_updates_members(channel_reader, make_user):
    lab = user_services.group_create(name="lab")
    bob = make_user("bob")
    everyone = channel_reader().join(events.GROUP_ALL)
    admins = channel_reader().join(events.GROUP_ADMINS)
    user_services.user_update(user=bob, data={"groups": [lab]})
    (group_message,) = [m for m in everyone.messages() if m["interface"] == "groups"]
    assert group_message["data"]["users"] == [{"id": bob.pk, "handle": "bob"}]
    admins.messages()
    user_services.group_update(group=lab, name="virology lab")
    (user_message,) = [m for m in admins.messages() if m["interface"] == "users"]
    assert user_message["data"]["groups"] == [{"id": lab.pk, "name": "virology lab"}]


def test_instance_message_is_pushed(channel_reader):
    from core.services import instance_message_set

    reader = channel_reader().join(events.GROUP_ALL)
    instance_message_set(message="Maintenance tonight", color="red", active=True)
    (message,) = [m for m in reader.messages() if m["interface"] == "instance_message"]
    assert message == {
        "interface": "instance_message",
        "operation": "update",
        "data": {"message": "Maintenance tonight", "color": "red", "active": True},
    }
