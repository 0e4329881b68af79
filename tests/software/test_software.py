"""This software's own releases against a fake GitHub on 127.0.0.1: the refresher records the newest stable release
of VIRTOOL_SOFTWARE_SLUG (drafts and prereleases left out), `newer` against the running version, ETag/304, failures
in `errors` (cleared by the next good check), one check at a time; `GET /api/software` for administrators only;
live `software` messages to administrators only; an empty slug turns it all off."""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest

from core import events
from software import selectors, services
from software.tasks import software_release_refresh_task
from tests.conftest import client_for
from tests.github_server import RECORDED

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "virtool/virtool-django"
RELEASES = f"/repos/{SLUG}/releases"
NOTES = "## What's new\n\n- HMM releases installed from GitHub\n- Administrators are told about new versions"
FAILED = f"Could not check for a new version at {SLUG}"


def releases() -> list[dict]:
    return json.loads((RECORDED / "virtool-django-releases.json").read_text())


@pytest.fixture
def running(monkeypatch):
    """Pretend to run a version: `running("v0.1.0-3-gabc1234")`."""

    def pretend(version: str) -> None:
        monkeypatch.setattr(selectors, "get_version", lambda: version)

    pretend("0.1.0")
    return pretend


def document(client) -> dict:
    response = client.get("/api/software")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_newest_stable_release_is_recorded_and_newer_than_the_running_version(github, running, admin_client):
    github.script(RELEASES, github.json(releases(), etag='W/"list1"'))
    before = document(admin_client)
    assert (before["release"], before["newer"], before["errors"], before["retrieved_at"]) == (None, False, [], None)

    services.software_release_refresh()
    status = document(admin_client)
    assert status == {
        "id": "software",
        "installed": "0.1.0",
        "slug": SLUG,
        "enabled": True,
        "release": {
            "id": 190000002,
            "name": "Virtool on Django 0.2.0",
            "tag_name": "v0.2.0",
            "body": NOTES,
            "html_url": "https://github.com/virtool/virtool-django/releases/tag/v0.2.0",
            "published_at": "2026-11-10T14:12:31Z",
            "prerelease": False,
        },
        "newer": True,
        "body": NOTES,
        "errors": [],
        "retrieved_at": status["retrieved_at"],
    }
    assert status["retrieved_at"]

    # The same version, a checkout past it, a later one: newer by version, never by name.
    for version, newer in (("v0.2.0", False), ("v0.1.0-12-g0123abc", True), ("v0.2.0-1-g0123abc-dirty", False)):
        running(version)
        assert document(admin_client)["newer"] is newer, version

    # Asked again with the list's ETag: 304, nothing changes but `retrieved_at`.
    services.software_release_refresh()
    assert github.requests[-1][1]["If-None-Match"] == 'W/"list1"'
    again = document(admin_client)
    assert again["release"] == status["release"]
    assert again["retrieved_at"] >= status["retrieved_at"]


def test_only_administrators_may_read_it(github, running, make_user, user_client, anon_client):
    assert anon_client.get("/api/software").status_code == 401
    response = user_client.get("/api/software")
    assert (response.status_code, response.json()) == (
        403,
        {"id": "insufficient_rights", "message": "Insufficient rights"},
    )
    assert client_for(make_user("lowest", role="base")).get("/api/software").status_code == 200


def test_failures_are_errors_and_the_next_good_check_clears_them(github, running, settings, admin_client):
    github.script(RELEASES, github.json(releases(), etag='"a"'))
    services.software_release_refresh()
    known = document(admin_client)["release"]

    settings.VIRTOOL_GITHUB_API_URL = "http://127.0.0.1:9"
    services.software_release_refresh()
    status = document(admin_client)
    assert status["errors"] == [f"{FAILED}: Could not reach GitHub (ConnectionError)"]
    assert status["release"] == known  # kept

    settings.VIRTOOL_GITHUB_API_URL = github.url
    github.script(RELEASES, github.json({"message": "Server Error"}, status=500))
    services.software_release_refresh()
    assert document(admin_client)["errors"] == [f"{FAILED}: GitHub answered 500 for {SLUG}"]

    newer = releases()
    newer[2].update(tag_name="v0.2.1", name="Virtool on Django 0.2.1", id=190000005)
    github.script(RELEASES, github.json(newer, etag='"b"'))
    services.software_release_refresh()
    status = document(admin_client)
    assert (status["errors"], status["release"]["tag_name"]) == ([], "v0.2.1")


def test_an_empty_slug_checks_nothing(github, running, settings, admin_client):
    settings.VIRTOOL_SOFTWARE_SLUG = ""
    github.script(RELEASES, github.json(releases()))
    assert services.software_release_refresh() is None
    assert github.paths() == []
    status = document(admin_client)
    assert (status["enabled"], status["release"], status["newer"]) == (False, None, False)


def test_a_changed_slug_starts_afresh(github, running, settings, admin_client):
    github.script(RELEASES, github.json(releases(), etag='"same"'))
    services.software_release_refresh()
    settings.VIRTOOL_SOFTWARE_SLUG = "someone/fork"
    assert document(admin_client)["release"] is None  # the other repository's release is not this one's
    github.script("/repos/someone/fork/releases", github.json(releases()[1:2], etag='"same"'))
    services.software_release_refresh()
    assert "If-None-Match" not in github.requests[-1][1]  # the other repository's ETag is not sent
    status = document(admin_client)
    assert (status["release"], status["newer"], status["errors"]) == (None, False, [])  # only a prerelease there


def test_two_checks_at_once_ask_github_once(github, running):
    github.script(RELEASES, dataclasses.replace(github.json(releases(), etag='"slow"'), delay=1.0))
    threads = [threading.Thread(target=lambda: software_release_refresh_task.apply().get()) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert github.paths() == [RELEASES]
    assert selectors.software_status_get().release["tag_name"] == "v0.2.0"


def test_changes_reach_administrators_only(github, running, channel_reader):
    admins = channel_reader().join(events.GROUP_ADMINS)
    everyone = channel_reader().join(events.GROUP_ALL)
    github.script(RELEASES, github.json(releases()))
    services.software_release_refresh()
    messages = [m for m in admins.messages() if m["interface"] == "software"]
    assert messages
    assert messages[-1]["data"]["release"]["tag_name"] == "v0.2.0"
    assert messages[-1]["data"]["newer"] is True
    assert [m for m in everyone.messages() if m["interface"] == "software"] == []
