"""Releases in headless Chromium, with a fake GitHub on 127.0.0.1 that the live server and the worker are pointed at:
the HMM page shows the latest release (published, whether it is newer, the last check's errors), installs it with
live progress on a real worker and follows the next release and a failed check live; administrators see a
"new version available" notice with the release notes, on every page and as soon as the refresher finds it;
others never do."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from packaging.version import Version
from playwright.sync_api import Browser, expect

from core.version import get_version
from tests.browser.conftest import in_thread
from tests.browser.test_analyses import open_page
from tests.conftest import session_cookie_for
from tests.github_server import RECORDED, download_path, recorded, with_asset
from tests.hmm.conftest import release_archive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("VIRTOOL_SCREENSHOTS", "/tmp"))

LATEST = "/repos/virtool/virtool-hmm/releases/latest"
ARCHIVE = release_archive()


def serve_hmm_release(github, name: str, release_id: int) -> None:
    document = with_asset(recorded("virtool-hmm-v1.json"), ARCHIVE)
    document.update(
        id=release_id, name=name, tag_name=name, html_url=f"https://github.com/virtool/virtool-hmm/releases/tag/{name}"
    )
    document["assets"][0]["browser_download_url"] = f"{{base}}/downloads/virtool/virtool-hmm/{name}/vthmm.tar.gz"
    github.script(LATEST, github.json(document, etag=f'"{name}"'))
    github.script(download_path(document), github.file(ARCHIVE))


@pytest.fixture
def people(make_user) -> dict:
    return {
        "admin": session_cookie_for(make_user("ada", role="full")),
        "curator": session_cookie_for(make_user("cora", permissions=["modify_hmm"])),
        "reader": session_cookie_for(make_user("reader")),
    }


def test_the_hmm_page_shows_the_release_installs_it_and_follows_the_next(
    github, people, live_server_url: str, browser: Browser, start_worker, settings
) -> None:
    from hmm.services import hmm_release_refresh

    serve_hmm_release(github, "v0.2.1", 1)
    start_worker(queues="small", concurrency=1)
    _, page, errors = open_page(browser, live_server_url, people["curator"], "/hmms")
    expect(page.locator("#status-none")).to_contain_text("HMM profiles are not installed.")
    expect(page.locator("#release-none")).to_have_text("No release of the HMM repository is known yet.")

    # Checked from the page: the release, when it was published, and that it is not installed.
    page.get_by_role("button", name="Check for a new release").click()
    expect(page.locator("#release-name")).to_have_text("v0.2.1")
    expect(page.locator("#release-name")).to_have_attribute(
        "href", "https://github.com/virtool/virtool-hmm/releases/tag/v0.2.1"
    )
    expect(page.locator("#release-published")).not_to_have_text("—")
    expect(page.locator("#release-state")).to_have_text("Not installed yet.")

    # Installed with one button, followed live until the profiles are listed.
    page.get_by_role("button", name="Install v0.2.1").click()
    expect(page.locator("[data-fact=name]")).to_have_text("v0.2.1", timeout=60_000)
    expect(page.locator("[data-fact=count]")).to_have_text("3")
    expect(page.locator("#status-installed")).to_contain_text("Official release")
    expect(page.locator("#hmm-table tbody tr")).to_have_count(3)
    expect(page.locator("#release-state")).to_have_text("The installed HMMs are this release: they are up to date.")
    expect(page.locator("#release-install")).to_be_hidden()

    # The refresher finds the next release: the page says so at once, and offers the update.
    serve_hmm_release(github, "v0.3.0", 2)
    in_thread(hmm_release_refresh)
    expect(page.locator("#release-name")).to_have_text("v0.3.0")
    expect(page.locator("#release-state")).to_have_text("Newer than the installed release (v0.2.1).")
    expect(page.get_by_role("button", name="Update to v0.3.0")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "hmm-release.png"), full_page=True)

    # A check that fails is told, the release known before stays; the next good one clears it.
    settings.VIRTOOL_GITHUB_API_URL = "http://127.0.0.1:9"
    in_thread(hmm_release_refresh)
    expect(page.locator("#release-errors")).to_contain_text(
        "Could not check for a new HMM release of virtool/virtool-hmm: Could not reach GitHub"
    )
    expect(page.locator("#release-name")).to_have_text("v0.3.0")
    expect(page.locator("#install-failed")).to_be_hidden()  # not an install that failed
    settings.VIRTOOL_GITHUB_API_URL = github.url
    in_thread(hmm_release_refresh)
    expect(page.locator("#release-errors")).to_be_hidden()

    # A reader sees the release, not the buttons.
    _, reader_page, reader_errors = open_page(browser, live_server_url, people["reader"], "/hmms")
    expect(reader_page.locator("#release-name")).to_have_text("v0.3.0")
    expect(reader_page.locator("#release-install")).to_be_hidden()
    expect(reader_page.locator("#release-check")).to_be_hidden()
    assert errors == []
    assert reader_errors == []


def test_administrators_see_a_new_version_notice_with_the_release_notes(
    github, people, live_server_url: str, browser: Browser
) -> None:
    from software.selectors import installed_version
    from software.services import software_release_refresh

    running = Version(installed_version().lstrip("vV"))
    tag = f"v{running.major + 1}.0.0"
    releases = json.loads((RECORDED / "virtool-django-releases.json").read_text())
    releases[2].update(
        tag_name=tag,
        name=f"Virtool on Django {tag}",
        html_url=f"https://github.com/virtool/virtool-django/releases/tag/{tag}",
    )
    github.script("/repos/virtool/virtool-django/releases", github.json(releases, etag='"list"'))

    _, page, errors = open_page(browser, live_server_url, people["admin"], "/hmms")
    expect(page.locator("#software-notice")).to_be_hidden()
    _, reader_page, reader_errors = open_page(browser, live_server_url, people["reader"], "/hmms")

    # The refresher finds it: the administrator's page shows it at once.
    in_thread(software_release_refresh)
    notice = page.locator("#software-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(f"New version available: Virtool on Django {tag}")
    expect(page.locator("#software-installed")).to_have_text(get_version())
    expect(page.locator("#software-release-link")).to_have_attribute(
        "href", f"https://github.com/virtool/virtool-django/releases/tag/{tag}"
    )
    page.get_by_text("Release notes").click()
    expect(page.locator("#software-release-notes")).to_contain_text("HMM releases installed from GitHub")
    page.screenshot(path=str(SCREENSHOTS / "software-notice.png"))

    # On every page, rendered with it.
    page.goto("/samples")
    expect(page.locator("#software-notice")).to_be_visible()
    expect(page.locator("#software-release-name")).to_have_text(f"Virtool on Django {tag}")

    # Others never see it, nor can they ask.
    reader_page.reload()
    expect(reader_page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(reader_page.locator("#software-notice")).to_have_count(0)
    assert reader_page.request.get(f"{live_server_url}/api/software").status == 403
    assert errors == []
    assert reader_errors == []
