"""Errors in Django views and Celery tasks reach Sentry (a real HTTP server on 127.0.0.1 plays Sentry)."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.test import Client

from core.monitoring import sentry_init

pytestmark = pytest.mark.django_db


class Collector(BaseHTTPRequestHandler):
    envelopes: list[str] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        Collector.envelopes.append(body.decode(errors="replace"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        return


@pytest.fixture
def sentry_server():
    Collector.envelopes = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sentry_init(dsn=f"http://publickey@127.0.0.1:{server.server_address[1]}/1")
    yield Collector.envelopes
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # back to a disabled client
    server.shutdown()
    server.server_close()


def events_in(envelopes: list[str]) -> list[dict]:
    events = []
    for envelope in envelopes:
        for line in envelope.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if "exception" in item:
                events.append(item)
    return events


def test_django_view_error_is_reported(sentry_server, admin_user, mocker):
    mocker.patch("core.api.views.settings_get", side_effect=RuntimeError("settings table on fire"))
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    assert client.get("/api/settings").status_code == 500
    sentry_sdk.flush(5)
    (event,) = events_in(sentry_server)
    assert event["exception"]["values"][-1]["value"] == "settings table on fire"
    assert event["release"]


def test_celery_task_error_is_reported(sentry_server, mocker):
    from core.tasks import sessions_clear_expired_task

    mocker.patch("core.services.sessions_clear_expired", side_effect=RuntimeError("session store gone"))
    sessions_clear_expired_task.apply()
    sentry_sdk.flush(5)
    values = [event["exception"]["values"][-1]["value"] for event in events_in(sentry_server)]
    assert "session store gone" in values
