"""The ASGI application's bridge (virtool_site/bridge.py): bodiless GET/HEAD through Django's WSGI handler, answered
as Django's test client and ASGI handler answer; everything else through the ASGI handler."""

from __future__ import annotations

import gc
import io
import json
import random
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIRequest
from django.core.signals import request_finished
from django.test import Client

from tests.conftest import stored_upload
from users.models import APIKey
from virtool_site.asgi import application, django_asgi_app
from virtool_site.bridge import WSGIBridge, environ_for

BRIDGE = application.application_mapping["http"]
# The bridged requests run on the sync thread and end with request_finished, which closes the connection of a
# test transaction: these tests commit.
sync_thread_db = pytest.mark.django_db(transaction=True)


def http_scope(method: str, path: str, *, query: bytes = b"", headers: list[tuple[bytes, bytes]] = ()) -> dict:
    """An ASGI HTTP scope as daphne builds it, for the host the test settings allow."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 51000),
        "server": ("127.0.0.1", 80),
    }


def call(app: Any, scope: dict, body: bytes = b"") -> tuple[dict, list[dict]]:
    """Run `app` on `scope` to the end: its `http.response.start` and every `http.response.body` message.

    Driven from this (sync) thread through `async_to_sync`, the thread-sensitive sync code of the app runs on this
    thread, as under daphne it runs on one thread of its own."""

    async def run() -> tuple[dict, list[dict]]:
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "http.request", "body": body})
        start = await communicator.receive_output(10)
        assert start["type"] == "http.response.start", start
        bodies = [await communicator.receive_output(10)]
        while bodies[-1].get("more_body"):
            bodies.append(await communicator.receive_output(10))
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(10)
        return start, bodies

    return async_to_sync(run)()


def headers_of(start: dict) -> dict[bytes, list[bytes]]:
    """The response's headers by lower-case name (Django's ASGI handler keeps Django's case, the bridge does not)."""
    out: dict[bytes, list[bytes]] = {}
    for name, value in start["headers"]:
        out.setdefault(name.lower(), []).append(value)
    return out


def body_of(bodies: list[dict]) -> bytes:
    assert all(message["type"] == "http.response.body" for message in bodies)
    return b"".join(message.get("body", b"") for message in bodies)


def session_header(user) -> tuple[bytes, bytes]:
    """A `Cookie` header of a committed session of `user`."""
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.fixture
def fallback_calls(monkeypatch) -> list[str]:
    """The methods of the requests the bridge hands to Django's ASGI handler (the fallback), in order."""
    calls: list[str] = []
    original = BRIDGE.fallback

    async def spy(scope, receive, send):
        calls.append(scope.get("method", scope["type"]))
        await original(scope, receive, send)

    monkeypatch.setattr(BRIDGE, "fallback", spy)
    return calls


@pytest.fixture
def finished() -> list[object]:
    """The senders of Django's `request_finished` signal while the test runs."""
    senders: list[object] = []

    def receiver(sender, **_kwargs) -> None:
        senders.append(sender)

    request_finished.connect(receiver)
    yield senders
    request_finished.disconnect(receiver)


# --- environ_for ------------------------------------------------------------------------------------------------


def test_environ_for_splits_root_path_from_path_and_keeps_the_query_string():
    scope = {
        **http_scope("GET", "/virtool/api/samples", query=b"find=a%20b&page=2"),
        "root_path": "/virtool",
    }
    environ = environ_for(scope)
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["SCRIPT_NAME"] == "/virtool"
    assert environ["PATH_INFO"] == "/api/samples"
    assert environ["QUERY_STRING"] == "find=a%20b&page=2"
    assert environ["wsgi.input"].read() == b""


def test_environ_for_keeps_a_path_outside_root_path_whole():
    environ = environ_for({**http_scope("GET", "/api/account"), "root_path": "/virtool"})
    assert environ["SCRIPT_NAME"] == "/virtool"
    assert environ["PATH_INFO"] == "/api/account"


def test_environ_for_gives_non_ascii_paths_as_latin_1_decoded_utf_8_bytes():
    # PEP 3333: environ strings are the request's bytes decoded as latin-1; Django encodes them back.
    environ = environ_for({**http_scope("GET", "/api/labels/café ü"), "root_path": "/ré"})
    assert environ["PATH_INFO"] == "/api/labels/café ü".encode().decode("latin-1")
    assert environ["PATH_INFO"].encode("latin-1").decode() == "/api/labels/café ü"
    assert environ["SCRIPT_NAME"].encode("latin-1").decode() == "/ré"


def test_environ_for_joins_repeated_headers_with_commas():
    scope = http_scope(
        "GET",
        "/",
        headers=[
            (b"accept", b"text/html"),
            (b"x-forwarded-for", b"10.0.0.1"),
            (b"accept", b"application/json"),
            (b"x-forwarded-for", b"10.0.0.2"),
        ],
    )
    environ = environ_for(scope)
    assert environ["HTTP_ACCEPT"] == "text/html,application/json"
    assert environ["HTTP_X_FORWARDED_FOR"] == "10.0.0.1,10.0.0.2"
    assert environ["HTTP_HOST"] == "testserver"


def test_environ_for_drops_header_names_with_underscores():
    # `X_Forwarded_Proto: https` from a client must not pass for the proxy's `X-Forwarded-Proto` (Django's ASGI
    # handler and WSGI servers drop such names for that reason).
    scope = http_scope("GET", "/", headers=[(b"x_forwarded_proto", b"https"), (b"x-forwarded-proto", b"http")])
    assert environ_for(scope)["HTTP_X_FORWARDED_PROTO"] == "http"


def test_environ_for_gives_the_headers_of_djangos_asgi_request():
    scope = http_scope(
        "GET",
        "/api/samples",
        query=b"page=2",
        headers=[
            (b"cookie", b"csrftoken=abc"),
            (b"cookie", b"sessionid=xyz"),
            (b"accept", b"application/json"),
            (b"accept", b"text/html"),
            (b"remote_user", b"admin"),
            (b"content-type", b"text/plain"),
            (b"user-agent", "Ünïcode/1.0".encode("latin-1")),
        ],
    )
    meta = ASGIRequest(scope, io.BytesIO()).META
    environ = environ_for(scope)
    keys = {key for key in meta if key.startswith(("HTTP_", "CONTENT_"))}
    assert keys == {key for key in environ if key.startswith(("HTTP_", "CONTENT_"))}
    assert {key: environ[key] for key in keys} == {key: meta[key] for key in keys}
    for key in ("REQUEST_METHOD", "QUERY_STRING", "REMOTE_ADDR", "SERVER_NAME", "SERVER_PORT"):
        assert environ[key] == meta[key], key


def test_environ_for_names_content_type_and_length_without_http_prefix():
    scope = http_scope("GET", "/", headers=[(b"content-type", b"application/json"), (b"content-length", b"0")])
    environ = environ_for(scope)
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "0"
    assert "HTTP_CONTENT_TYPE" not in environ
    assert "HTTP_CONTENT_LENGTH" not in environ


def test_environ_for_has_client_server_and_scheme():
    scope = {**http_scope("GET", "/"), "client": ("10.1.2.3", 40123), "server": ("virtool.example", 8443)}
    scope["scheme"] = "https"
    scope["http_version"] = "2"
    environ = environ_for(scope)
    assert environ["REMOTE_ADDR"] == "10.1.2.3"
    assert environ["REMOTE_PORT"] == "40123"
    assert environ["SERVER_NAME"] == "virtool.example"
    assert environ["SERVER_PORT"] == "8443"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["SERVER_PROTOCOL"] == "HTTP/2"


def test_environ_for_without_client_or_server_uses_defaults():
    scope = {**http_scope("GET", "/"), "server": None}
    del scope["client"], scope["scheme"]
    environ = environ_for(scope)
    assert "REMOTE_ADDR" not in environ
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("localhost", "80")
    assert environ["wsgi.url_scheme"] == "http"
    # A Unix socket: daphne gives the path and no port.
    assert environ_for({**http_scope("GET", "/"), "server": ("/run/virtool.sock", None)})["SERVER_PORT"] == "0"


# --- Which path a request takes -----------------------------------------------------------------------------------


@sync_thread_db
def test_requests_with_a_body_other_methods_and_websockets_go_to_the_fallback():
    seen: list[tuple[str, str]] = []

    async def recorder(scope, receive, send):
        seen.append((scope["type"], scope.get("method", "")))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"fallback"})

    bridge = WSGIBridge(recorder)
    cases = [
        http_scope("POST", "/api/account/keys"),
        http_scope("PUT", "/api/account"),
        http_scope("DELETE", "/api/account/keys/x"),
        http_scope("OPTIONS", "/api/account"),
        http_scope("GET", "/api/account", headers=[(b"content-length", b"5")]),
        http_scope("GET", "/api/account", headers=[(b"transfer-encoding", b"chunked")]),
    ]
    for scope in cases:
        start, bodies = call(bridge, scope, b"hello")
        assert (start["status"], body_of(bodies)) == (299, b"fallback")

    async def websocket() -> None:
        communicator = ApplicationCommunicator(bridge, {"type": "websocket", "path": "/ws", "headers": []})
        await communicator.send_input({"type": "websocket.connect"})
        assert (await communicator.receive_output(5))["status"] == 299
        await communicator.wait(5)

    async_to_sync(websocket)()
    assert seen == [
        ("http", "POST"),
        ("http", "PUT"),
        ("http", "DELETE"),
        ("http", "OPTIONS"),
        ("http", "GET"),
        ("http", "GET"),
        ("websocket", ""),
    ]

    # Bodiless GET and HEAD (an empty Content-Length too) are Django's, through the WSGI handler.
    for method, headers in [("GET", []), ("HEAD", []), ("GET", [(b"content-length", b"0")])]:
        start, _ = call(bridge, http_scope(method, "/api/account", headers=headers))
        assert start["status"] == 401
    assert len(seen) == 7


# --- Through the ASGI application ---------------------------------------------------------------------------------


@sync_thread_db
def test_signed_in_get_answers_as_the_test_client(admin_user, fallback_calls, finished):
    cookie = session_header(admin_user)
    expected = Client(headers={"cookie": cookie[1].decode()}).get("/api/account")
    assert expected.status_code == 200
    finished.clear()

    start, bodies = call(application, http_scope("GET", "/api/account", headers=[cookie]))
    headers = headers_of(start)
    assert start["status"] == 200
    assert json.loads(body_of(bodies)) == expected.json()
    assert json.loads(body_of(bodies))["handle"] == "admin"
    assert headers[b"content-type"] == [expected["Content-Type"].encode()]
    assert headers[b"content-length"] == [str(len(body_of(bodies))).encode()]
    assert fallback_calls == []  # the WSGI handler answered
    assert finished == [type(BRIDGE.handler)]  # request_finished, once: connections released as before


@sync_thread_db
def test_a_bridged_request_crosses_to_the_sync_thread_once(admin_user, monkeypatch):
    hops: list[str] = []
    for name in ("_call", "_next", "_close"):
        hop = getattr(BRIDGE, name)

        async def counted(*args, _name=name, _hop=hop):
            hops.append(_name)
            return await _hop(*args)

        monkeypatch.setattr(BRIDGE, name, counted)
    start, _ = call(application, http_scope("GET", "/api/account", headers=[session_header(admin_user)]))
    assert start["status"] == 200
    assert hops == ["_call"]  # the whole middleware chain and the view in one call; the body sent from the loop


@sync_thread_db
def test_bridged_headers_are_those_of_djangos_asgi_handler(admin_user):
    # A first request of a fresh session slides its expiry (SessionActivityMiddleware): both answers set the cookie.
    scope = http_scope("GET", "/api/account", headers=[session_header(admin_user)])
    bridged, _ = call(application, scope)
    direct, _ = call(django_asgi_app, {**scope, "headers": [*scope["headers"][:1], session_header(admin_user)]})
    assert bridged["status"] == direct["status"] == 200
    bridged_headers, direct_headers = headers_of(bridged), headers_of(direct)
    assert set(bridged_headers) == set(direct_headers)
    assert b"set-cookie" in bridged_headers
    for name, values in bridged_headers.items():
        for value in values:
            assert value == value.strip(), (name, value)  # as Django's ASGI handler: no surrounding whitespace
        if name not in (b"set-cookie", b"content-length"):  # a new session key and expiry; another user's length
            assert values == direct_headers[name], name


@sync_thread_db
def test_get_with_page_query(admin_user, fallback_calls):
    for number in range(3):
        stored_upload(admin_user, b"@r\nACGT\n+\nIIII\n", name=f"reads_{number}.fq", upload_type="reads")
    cookie = session_header(admin_user)
    expected = Client(headers={"cookie": cookie[1].decode()}).get("/api/uploads?page=2&per_page=1")
    assert expected.status_code == 200

    start, bodies = call(application, http_scope("GET", "/api/uploads", query=b"page=2&per_page=1", headers=[cookie]))
    answer = json.loads(body_of(bodies))
    assert start["status"] == 200
    assert answer == expected.json()
    assert answer["page"] == 2
    assert [item["name"] for item in answer["items"]] == [item["name"] for item in expected.json()["items"]]
    assert len(answer["items"]) == 1
    assert fallback_calls == []


@sync_thread_db
def test_head_answers_the_status_and_headers_of_get(admin_user, fallback_calls, finished):
    cookie = session_header(admin_user)
    get_start, get_bodies = call(application, http_scope("GET", "/api/account", headers=[cookie]))
    finished.clear()
    head_start, _ = call(application, http_scope("HEAD", "/api/account", headers=[cookie]))
    assert head_start["status"] == get_start["status"] == 200
    head_headers = headers_of(head_start)
    assert head_headers[b"content-type"] == headers_of(get_start)[b"content-type"]
    assert head_headers[b"content-length"] == [str(len(body_of(get_bodies))).encode()]
    assert fallback_calls == []
    assert len(finished) == 1


@sync_thread_db
def test_unknown_api_path_is_virtools_json_404(admin_user, fallback_calls):
    cookie = session_header(admin_user)
    expected = Client(headers={"cookie": cookie[1].decode()}).get("/api/nothing/here")
    start, bodies = call(application, http_scope("GET", "/api/nothing/here", headers=[cookie]))
    assert start["status"] == expected.status_code == 404
    assert json.loads(body_of(bodies)) == expected.json()
    assert json.loads(body_of(bodies))["id"] == "not_found"
    assert headers_of(start)[b"content-type"] == [expected["Content-Type"].encode()]
    assert fallback_calls == []


@sync_thread_db
def test_anonymous_get_is_refused_as_by_the_test_client(fallback_calls):
    expected = Client().get("/api/account")
    start, bodies = call(application, http_scope("GET", "/api/account"))
    assert start["status"] == expected.status_code == 401
    assert json.loads(body_of(bodies)) == expected.json()


@sync_thread_db
def test_post_with_body_goes_to_the_asgi_handler(admin_user, fallback_calls):
    cookie = session_header(admin_user)
    body = json.dumps({"name": "bridge key", "permissions": {}}).encode()
    headers = [
        cookie,
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"origin", b"http://testserver"),
    ]
    start, bodies = call(application, http_scope("POST", "/api/account/keys", headers=headers), body)
    assert start["status"] == 201, body_of(bodies)
    assert json.loads(body_of(bodies))["name"] == "bridge key"
    assert fallback_calls == ["POST"]
    assert APIKey.objects.filter(user=admin_user, name="bridge key").exists()
    # Django's ASGI handler ran the view on a thread of the request's own (ThreadSensitiveContext), now ended: its
    # database connection goes with it when collected, before the test database is dropped.
    gc.collect()


@sync_thread_db
def test_file_download_streams_byte_identical_in_several_messages(admin_user, fallback_calls, finished):
    data = random.Random(3).randbytes(300_000)  # FileResponse reads 4 KiB blocks: about 70 chunks
    upload = stored_upload(admin_user, data, name="reads.fq", upload_type="reads")
    cookie = session_header(admin_user)
    finished.clear()

    start, bodies = call(application, http_scope("GET", f"/api/uploads/{upload.pk}", headers=[cookie]))
    assert start["status"] == 200
    assert headers_of(start)[b"content-length"] == [str(len(data)).encode()]
    assert b"attachment" in headers_of(start)[b"content-disposition"][0]
    assert len(bodies) > 10
    assert all(message["more_body"] for message in bodies[:-1])
    assert not bodies[-1].get("more_body")
    assert body_of(bodies) == data
    assert fallback_calls == []
    assert finished == [type(BRIDGE.handler)]  # once, when the file was read to its end and closed


@sync_thread_db
def test_ranged_download_streams_the_range(admin_user, fallback_calls):
    data = random.Random(4).randbytes(2_500_000)  # StreamingHttpResponse of 1 MiB chunks: 2 of them for the range
    upload = stored_upload(admin_user, data, name="reads.fq", upload_type="reads")
    headers = [session_header(admin_user), (b"range", b"bytes=100-1500099")]
    start, bodies = call(application, http_scope("GET", f"/api/uploads/{upload.pk}", headers=headers))
    assert start["status"] == 206
    assert headers_of(start)[b"content-range"] == [f"bytes 100-1500099/{len(data)}".encode()]
    assert len([message for message in bodies if message.get("body")]) == 2
    assert body_of(bodies) == data[100:1500100]
    assert fallback_calls == []
