"""Security (issue 12, item 4): the Origin check on every cookie-authenticated write (scheme, host and port), the
full origin on /ws, jobs shown only to those who may read their subject, and login throttling with django-axes."""

from __future__ import annotations

import base64
import time

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PATCH = {"email": "x@example.org"}


# --- The Origin check ---------------------------------------------------------------------------------------------


def test_a_cookie_write_with_a_foreign_origin_is_refused_whatever_the_authorization_header(user):
    client = client_for(user)
    response = client.patch(
        "/api/account", PATCH, format="json", HTTP_ORIGIN="http://evil.example", HTTP_AUTHORIZATION="Bearer x"
    )
    assert response.status_code == 403
    assert response.json() == {"id": "insufficient_rights", "message": "Cross-origin request refused"}


@pytest.mark.parametrize(
    "origin",
    [
        "https://testserver",  # another scheme
        "http://testserver:8080",  # another port
        "http://testserver.evil.example",
        "null",
    ],
)
def test_a_cookie_write_from_another_scheme_host_or_port_is_refused(user, origin):
    response = client_for(user).patch("/api/account", PATCH, format="json", HTTP_ORIGIN=origin)
    assert response.status_code == 403


def test_the_referer_is_compared_the_same_way_when_there_is_no_origin(user):
    client = client_for(user)
    assert (
        client.patch("/api/account", PATCH, format="json", HTTP_REFERER="https://testserver/account").status_code == 403
    )
    assert (
        client.patch("/api/account", PATCH, format="json", HTTP_REFERER="http://testserver/account").status_code == 200
    )


def test_a_same_origin_write_passes_with_or_without_the_default_port(user):
    client = client_for(user)
    assert client.patch("/api/account", PATCH, format="json", HTTP_ORIGIN="http://testserver").status_code == 200
    assert client.patch("/api/account", PATCH, format="json", HTTP_ORIGIN="http://testserver:80").status_code == 200


def test_a_trusted_origin_passes_only_with_its_scheme(user, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://virtool.example.org"]
    client = client_for(user)
    good = client.patch("/api/account", PATCH, format="json", HTTP_ORIGIN="https://virtool.example.org")
    bad = client.patch("/api/account", PATCH, format="json", HTTP_ORIGIN="http://virtool.example.org")
    assert (good.status_code, bad.status_code) == (200, 403)


def _basic(handle: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{handle}:{key}".encode()).decode()


def test_only_a_valid_api_key_skips_the_origin_check(user, make_user):
    from core.models import InstanceSettings
    from users.services import key_create

    InstanceSettings.objects.update_or_create(pk=1, defaults={"enable_api": True})
    other = make_user("carol")
    _, raw = key_create(user=other, name="script", permissions={})
    client = client_for(user)  # bob's cookie is sent too
    response = client.patch(
        "/api/account", PATCH, format="json", HTTP_ORIGIN="http://evil.example", HTTP_AUTHORIZATION=_basic("carol", raw)
    )
    assert response.status_code == 200
    assert response.json()["handle"] == "carol"  # the key's user, never the cookie's
    response = client.patch(
        "/api/account", PATCH, format="json", HTTP_ORIGIN="http://evil.example", HTTP_AUTHORIZATION=_basic("bob", "x")
    )
    assert response.status_code == 401
    user.refresh_from_db()
    assert user.email != "x@example.org"


# --- The websocket origin -------------------------------------------------------------------------------------------


async def _handshake(origin: str, host: str = "127.0.0.1:9950", scheme: str = "ws") -> bool:
    from core.security import SameOriginWebsocketValidator

    async def app(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})

    communicator = WebsocketCommunicator(
        SameOriginWebsocketValidator(app), "/ws", headers=[(b"host", host.encode()), (b"origin", origin.encode())]
    )
    communicator.scope["scheme"] = scheme
    communicator.scope["user"] = AnonymousUser()
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


@pytest.mark.parametrize(
    ("origin", "host", "scheme", "allowed"),
    [
        ("http://127.0.0.1:9950", "127.0.0.1:9950", "ws", True),
        ("http://127.0.0.1:8000", "127.0.0.1:9950", "ws", False),  # same host, another port
        ("https://127.0.0.1:9950", "127.0.0.1:9950", "ws", False),  # another scheme
        ("https://localhost", "localhost", "wss", True),
        ("http://localhost", "localhost", "wss", False),
        ("http://evil.example:9950", "127.0.0.1:9950", "ws", False),
        ("http://evil.example", "evil.example", "ws", False),  # not an allowed host
    ],
)
async def test_the_websocket_handshake_checks_scheme_host_and_port(origin, host, scheme, allowed):
    assert await _handshake(origin, host, scheme) is allowed


# --- Jobs and their subjects ---------------------------------------------------------------------------------------


@pytest.fixture
def private_sample_job(make_user):
    from jobs.models import Job
    from samples.models import Sample

    alice = make_user("alice")
    sample = Sample.objects.create(name="Secret field sample", user=alice, all_read=False, group_read=False)
    job = Job.objects.create(
        workflow="create_sample",
        args={"sample_id": sample.pk, "files": [{"id": 1, "name": "secret_R1.fq.gz"}]},
        size="small",
        proc=1,
        mem=1,
        user=alice,
    )
    return alice, sample, job


def test_a_job_is_hidden_from_those_who_may_not_read_its_sample(private_sample_job, make_user):
    _, _, job = private_sample_job
    carol = client_for(make_user("carol"))
    assert carol.get(f"/api/jobs/{job.pk}").status_code == 404
    listed = carol.get("/api/jobs").json()
    assert job.pk not in [document["id"] for document in listed["documents"]]
    assert listed["found_count"] == listed["total_count"] == 0
    assert listed["counts"]["waiting"] == {}
    assert carol.get("/api/jobs/counts").json()["waiting"] == {}


def test_a_job_is_shown_to_its_user_to_readers_of_its_sample_and_to_administrators(
    private_sample_job, make_user, admin_client
):
    from django.contrib.auth.models import Group

    alice, sample, job = private_sample_job
    for client in (client_for(alice), admin_client):
        assert client.get(f"/api/jobs/{job.pk}").json()["args"]["sample_id"] == sample.pk
        assert [document["id"] for document in client.get("/api/jobs").json()["documents"]] == [job.pk]
    dave = make_user("dave")
    lab = Group.objects.create(name="lab")
    dave.groups.add(lab)
    sample.group, sample.group_read = lab, True
    sample.save()
    assert client_for(dave).get(f"/api/jobs/{job.pk}").status_code == 200
    # A job that names no sample is everyone's.
    from jobs.models import Job

    other = Job.objects.create(workflow="build_index", args={"ref_id": "r"}, size="small", proc=1, mem=1, user=alice)
    assert client_for(make_user("erin")).get(f"/api/jobs/{other.pk}").status_code == 200


def test_a_jobs_messages_go_only_to_readers_of_its_sample(private_sample_job):
    from core import events
    from jobs.subjects import job_audience

    alice, _, job = private_sample_job
    audience = job_audience(job)
    assert events.GROUP_ALL not in audience
    assert set(audience) == {events.GROUP_ADMINS, events.user_group(alice.pk)}


# --- Login throttling (django-axes) ---------------------------------------------------------------------------------


def _login(client, handle: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        "/api/account/login", {"handle": handle, "password": password}, format="json", REMOTE_ADDR=address
    )


def test_failed_logins_lock_the_handle_out_with_a_clear_429_even_for_the_right_password(anon_client, user, settings):
    for _ in range(settings.VIRTOOL_LOGIN_FAILURE_LIMIT - 1):
        assert _login(anon_client, "bob", "wrong").status_code == 400
    assert _login(anon_client, "bob", "wrong").status_code == 429  # the failure that reaches the limit
    response = _login(anon_client, "bob", "hunter2hunter2")
    assert response.status_code == 429
    assert response.json() == {
        "id": "too_many_requests",
        "message": "Too many failed logins for this user or from this address: try again in 15 minutes",
    }
    assert response["Retry-After"] == "900"


def test_a_handle_is_locked_out_whatever_address_the_attempts_come_from(anon_client, user, settings):
    for number in range(settings.VIRTOOL_LOGIN_FAILURE_LIMIT):
        _login(anon_client, "BOB", "wrong", address=f"10.0.1.{number}")
    assert _login(anon_client, "bob", "hunter2hunter2", address="10.0.2.1").status_code == 429


def test_an_address_is_locked_out_whatever_handles_it_tries(anon_client, make_user, settings):
    make_user("carol")
    for number in range(settings.VIRTOOL_LOGIN_FAILURE_LIMIT):
        _login(anon_client, f"guess{number}", "wrong", address="10.0.3.1")
    assert _login(anon_client, "carol", "hunter2hunter2", address="10.0.3.1").status_code == 429
    assert _login(anon_client, "carol", "hunter2hunter2", address="10.0.3.2").status_code == 201


def test_the_lockout_expires(anon_client, user, settings):
    settings.VIRTOOL_LOGIN_LOCKOUT_SECONDS = 1
    for _ in range(settings.VIRTOOL_LOGIN_FAILURE_LIMIT):
        _login(anon_client, "bob", "wrong")
    assert _login(anon_client, "bob", "hunter2hunter2").status_code == 429
    time.sleep(1.5)
    assert _login(anon_client, "bob", "hunter2hunter2").status_code == 201


def test_a_successful_login_clears_the_failures(anon_client, user, settings):
    for _ in range(2):
        for _ in range(settings.VIRTOOL_LOGIN_FAILURE_LIMIT - 1):
            assert _login(anon_client, "bob", "wrong").status_code == 400
        assert _login(anon_client, "bob", "hunter2hunter2").status_code == 201


def test_the_admin_login_form_is_throttled_too(make_user, settings):
    from django.test import Client

    make_user("root", role="full")
    client = Client()
    for _ in range(settings.VIRTOOL_LOGIN_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "root", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "root", "password": "hunter2hunter2"})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
