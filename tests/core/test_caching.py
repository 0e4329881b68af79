"""Responses, sessions and users kept per process until the database changes (core/caching.py): a repeated request
is answered without the view's queries, and any committed write, whoever makes it and however (a `save()`, a
`QuerySet.update()` that sends no signal, another connection), is seen by the next request."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.caching import MarkedValues, ResponseStore, database_marker, store
from samples.models import Sample
from tests.conftest import client_for
from users.models import User

SQLITE_ONLY = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the change marker is SQLite's (core/caching.py): elsewhere nothing is kept",
)


@pytest.fixture(autouse=True)
def _empty_store():
    store.clear()
    yield
    store.clear()


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [document["name"] for document in response.json()["documents"]]


def _queries(client, path: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return len(queries), response


@SQLITE_ONLY
@pytest.mark.django_db
def test_marker_moves_with_every_write_of_this_connection(user):
    before = database_marker()
    assert before is not None
    assert database_marker() == before  # reading changes nothing
    Sample.objects.filter(pk=-1).update(name="nothing")  # a write that changes no row
    Sample.objects.create(name="Written", user=user)
    assert database_marker() != before


@SQLITE_ONLY
@pytest.mark.django_db(transaction=True)
def test_marker_moves_with_a_commit_of_another_connection(user):
    """A write committed elsewhere (another process, a Celery worker) moves SQLite's data_version."""
    before = database_marker()
    other = sqlite3.connect(settings.DATABASES["default"]["NAME"])
    other.execute("UPDATE users_user SET handle = 'renamed elsewhere' WHERE id = ?", (user.pk,))
    other.commit()
    other.close()
    assert database_marker() != before


@SQLITE_ONLY
@pytest.mark.django_db
def test_repeated_list_is_served_without_the_views_queries(user):
    client = client_for(user)
    Sample.objects.create(name="First", user=user, ready=True, all_read=True)
    client.get("/api/account")  # the session's first request records its activity (a write)
    first_count, first = _queries(client, "/api/samples")
    second_count, second = _queries(client, "/api/samples")
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second_count < first_count
    assert second_count == 0  # the response, the session and the user kept; markers are read on the raw connection


@pytest.mark.django_db
def test_a_write_without_signals_is_seen_at_once(user):
    client = client_for(user)
    sample = Sample.objects.create(name="Before", user=user, ready=True, all_read=True)
    assert _names(client.get("/api/samples")) == ["Before"]
    Sample.objects.filter(pk=sample.pk).update(name="After")  # no post_save, no dispatch
    assert _names(client.get("/api/samples")) == ["After"]
    Sample.objects.create(name="Another", user=user, ready=True, all_read=True)
    assert sorted(_names(client.get("/api/samples"))) == ["After", "Another"]


@pytest.mark.django_db
def test_each_request_is_its_own_key(make_user):
    owner = make_user("owner")
    other = make_user("other")
    Sample.objects.create(name="Private", user=owner, ready=True, all_read=False, group_read=False)
    Sample.objects.create(name="Shared", user=owner, ready=True, all_read=True)
    owner_client, other_client = client_for(owner), client_for(other)
    assert sorted(_names(owner_client.get("/api/samples"))) == ["Private", "Shared"]
    assert _names(other_client.get("/api/samples")) == ["Shared"]  # not the owner's cached page
    assert _names(owner_client.get("/api/samples?find=Priv")) == ["Private"]
    assert owner_client.get("/api/samples?per_page=1").json()["per_page"] == 1
    assert owner_client.get("/api/samples?sort=bogus").status_code == 400  # errors are not kept
    assert owner_client.get("/api/samples?sort=bogus").status_code == 400


@pytest.mark.django_db
def test_account_follows_its_changes(user):
    client = client_for(user)
    assert client.get("/api/account").json()["handle"] == user.handle
    User.objects.filter(pk=user.pk).update(handle="renamed")
    assert client.get("/api/account").json()["handle"] == "renamed"


@pytest.mark.django_db
def test_logout_and_deactivation_end_the_session_at_once(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    alice_client, bob_client = client_for(alice), client_for(bob)
    for client in (alice_client, bob_client):
        assert client.get("/api/account").status_code == 200
        assert client.get("/api/account").status_code == 200  # now from the per-process copies
    assert alice_client.get("/api/account/logout").status_code in (200, 204)
    assert alice_client.get("/api/account").status_code == 401
    User.objects.filter(pk=bob.pk).update(is_active=False)
    assert bob_client.get("/api/account").status_code == 401


@pytest.mark.django_db
def test_an_expired_session_is_refused_without_a_write(user, monkeypatch):
    """Expiry is a matter of the clock: the kept session row is checked against it on every read."""
    client = client_for(user)
    assert client.get("/api/account").status_code == 200
    expiry = Session.objects.get().expire_date
    later = expiry + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client.get("/api/account").status_code == 401


@pytest.mark.django_db
def test_sessions_of_djangos_model_backend_stay_signed_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")  # as sessions made before
    assert client.get("/api/account", HTTP_ACCEPT="application/json").json()["handle"] == user.handle


@pytest.mark.django_db
def test_nothing_kept_when_turned_off(user, settings):
    settings.VIRTOOL_RESPONSE_CACHE_ENTRIES = 0
    client = client_for(user)
    client.get("/api/account")  # the session's first request records its activity (a write)
    first_count, _ = _queries(client, "/api/samples")
    second_count, _ = _queries(client, "/api/samples")
    assert second_count == first_count > 3
    assert len(store) == 0


def test_store_is_bounded_by_entries_bytes_and_body_size():
    bounded = ResponseStore(max_entries=2, max_bytes=10, max_body=6)
    bounded.put(("a",), (1,), b"aaaa", "application/json")
    bounded.put(("b",), (1,), b"bbbb", "application/json")
    assert bounded.get(("a",), (1,)) == (b"aaaa", "application/json")  # a is now the most recent
    bounded.put(("c",), (1,), b"cccc", "application/json")  # 12 bytes > 10: the oldest (b) goes
    assert bounded.get(("b",), (1,)) is None
    assert bounded.get(("a",), (1,)) is not None
    assert bounded.get(("c",), (1,)) is not None
    bounded.put(("d",), (1,), b"ddddddd", "application/json")  # larger than a body may be: not kept
    assert bounded.get(("d",), (1,)) is None
    assert bounded.get(("a",), (2,)) is None  # another marker: dropped
    assert len(bounded) == 1


@SQLITE_ONLY
@pytest.mark.django_db
def test_marked_values_load_again_after_a_write(user):
    values = MarkedValues(max_entries=1)
    loads: list[int] = []

    def load() -> str:
        loads.append(1)
        return User.objects.get(pk=user.pk).handle

    assert values.get_or_load("k", load) == user.handle
    assert values.get_or_load("k", load) == user.handle
    assert len(loads) == 1
    User.objects.filter(pk=user.pk).update(handle="changed")
    assert values.get_or_load("k", load) == "changed"
    values.get_or_load("other", load)  # one entry at most: "k" goes
    values.get_or_load("k", load)
    assert len(loads) == 4
