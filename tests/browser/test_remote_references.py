"""The official reference in headless Chromium, against the fake GitHub of `tests/github_server.py` (its URL given
to the server and the workers): installed from the references page (a GitHub that cannot be reached first, said in
words), followed live until ready; on its page, release 2 found by "Check now" with its notes shown as text, the
update reviewed (one OTU updated over a local edit, one added, one removed, ours kept), installed with live
progress, and the update in the updated OTU's history. Then what goes wrong, in words: an install whose file
cannot be read, a check while GitHub cannot be reached, a release whose file cannot be read in the review.

The tests fail on any request they did not expect to fail, any uncaught page error and any console error."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, Request, Response, expect

from tests.browser.conftest import in_thread
from tests.conftest import client_for, session_cookie_for, show_log_if_failed, stop
from tests.github_server import Answer, download_path, recorded, with_asset
from tests.live import daphne
from tests.references.conftest import gz_json
from tests.references.test_remote import ADDED, LATEST, REMOVED, RPRSV, SLUG, release_files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("VIRTOOL_SCREENSHOTS", "/tmp"))
# Markup in release notes must stay text: the page never parses it.
NOTES_MARKUP = '\n\n<img src="x" onerror="window.pwned = true"> <b>bold</b>'
OWN_OTU = "Our local virus"


@pytest.fixture
def releases(github):
    """The fake GitHub with both releases (as in tests/references/test_remote.py), their downloads slowed so that
    progress can be seen, and markup in the notes of release 2; at first it drops every connection."""
    first, second = release_files()
    one = with_asset(recorded("ref-plant-viruses-v1.json"), gz_json(first))
    two = with_asset(recorded("ref-plant-viruses-v2.json"), gz_json(second))
    two["body"] += NOTES_MARKUP
    for document, content in ((one, first), (two, second)):
        slow = Answer(body=gz_json(content), headers={"Content-Type": "application/gzip"}, delay=1)
        github.script(download_path(document), slow)
    github.script(LATEST, Answer(drop=True))
    github.one, github.two = one, two
    return github


class Watch:
    """What went wrong in the tab; `expected` holds the (status, method, path) answers the test causes on purpose."""

    def __init__(self, page: Page, url: str) -> None:
        self.url = url
        self.problems: list[str] = []
        self.expected: list[tuple[int, str, str]] = []
        self.seen: list[tuple[int, str, str]] = []
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self.console)
        page.on("response", self.response)
        page.on("requestfailed", self.request_failed)

    def console(self, message: ConsoleMessage) -> None:
        # "Failed to load resource" repeats a response that `response` already judged (expected or not).
        if message.type == "error" and not message.text.startswith("Failed to load resource: the server responded"):
            self.problems.append(f"console error: {message.text}")

    def response(self, response: Response) -> None:
        if response.status < 400:
            return
        answer = (response.status, response.request.method, response.url.removeprefix(self.url))
        self.seen.append(answer)
        if answer not in self.expected:
            self.problems.append(" ".join(map(str, answer)))

    def request_failed(self, request: Request) -> None:
        if request.failure != "net::ERR_ABORTED":  # navigating away aborts what the old page had in flight
            self.problems.append(f"request failed: {request.method} {request.url} {request.failure}")

    def check(self) -> None:
        assert not self.problems, self.problems


def local_work(user, ref_id: str) -> None:
    """Before the update: an edit of an OTU the release changes, and an OTU of our own (through the API)."""
    from otus.models import OTU

    client = client_for(user)
    rprsv = OTU.objects.get(reference_id=ref_id, name=RPRSV)
    sequence = rprsv.sequences.get(accession="NC_005266")
    edited = client.patch(
        f"/api/otus/{rprsv.pk}/isolates/{sequence.isolate_id}/sequences/{sequence.pk}",
        {"host": "Rubus idaeus"},
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    own = client.post(f"/api/refs/{ref_id}/otus", {"name": OWN_OTU, "abbreviation": "OLV"}, format="json")
    assert own.status_code == 201, own.json()


def test_install_the_official_reference_then_review_and_install_its_update(
    browser: Browser, releases, make_user, start_worker, tmp_path: Path, request
) -> None:
    user = in_thread(lambda: make_user("cura", permissions=["create_ref"]))
    cookie = in_thread(lambda: session_cookie_for(user))
    # The fake GitHub's URL must reach both the server (release checks, previews) and the workers (downloads).
    with daphne(tmp_path, VIRTOOL_GITHUB_API_URL=releases.url) as (url, _process):
        try:
            walk(browser, url, cookie, user, releases, lambda: start_worker(VIRTOOL_GITHUB_API_URL=releases.url))
        finally:
            show_log_if_failed(request, "daphne", tmp_path / "daphne.log")


def open_tab(browser: Browser, url: str, cookie: str) -> tuple[BrowserContext, Page, Watch]:
    """A signed-in tab on the references page, connected to the live updates, watched."""
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = Watch(page, url)
    page.goto("/refs")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    return context, page, watch


def install(page: Page) -> Locator:
    """Install the official reference from the box of the references page; its row once ready."""
    page.get_by_role("button", name="Install the official plant virus reference").click()
    row = page.locator("#refs-list .ref-item").filter(has=page.get_by_role("link", name="Plant Viruses"))
    expect(row).to_have_count(1)
    expect(page.locator("#official-section")).to_be_hidden()
    expect(row).to_have_attribute("data-ready", "true", timeout=60_000)
    return row


def walk(browser: Browser, url: str, cookie: str, user, releases, worker) -> None:
    running = worker()
    context, page, watch = open_tab(browser, url, cookie)

    # The official reference is not installed: the box offers it. GitHub cannot be reached: said, nothing made.
    box = page.locator("#official-section")
    expect(box).to_be_visible()
    expect(page.locator("#refs-empty")).to_be_visible()
    watch.expected.append((502, "POST", "/api/refs"))
    box.get_by_role("button", name="Install the official plant virus reference").click()
    expect(page.locator("#official-problem")).to_contain_text("GitHub could not be reached, so nothing was installed")
    expect(page.locator("#official-problem")).to_contain_text("Could not reach GitHub")
    expect(page.locator("#refs-list .ref-item")).to_have_count(0)
    assert watch.seen == [(502, "POST", "/api/refs")]
    watch.expected.clear()

    # GitHub answers: release 1 is installed as a tracked task, its progress followed live until ready.
    releases.script(LATEST, releases.json(releases.one, etag='W/"r1"'))
    box.get_by_role("button", name="Install the official plant virus reference").click()
    row = page.locator("#refs-list .ref-item").filter(has=page.get_by_role("link", name="Plant Viruses"))
    expect(row).to_have_count(1)
    expect(box).to_be_hidden()
    expect(row.locator(".badge", has_text="Installing…")).to_be_visible()
    expect(row.get_by_role("progressbar")).to_be_visible()
    expect(row).to_have_attribute("data-ready", "true", timeout=60_000)
    expect(row).to_contain_text("23 OTUs")
    expect(row).to_contain_text("release v1.0.0")
    expect(page.locator("#official-problem")).to_be_hidden()
    page.screenshot(path=str(SCREENSHOTS / "remote-references-list.png"), full_page=True)

    # Its page: where it comes from, the release installed, up to date.
    row.get_by_role("link", name="Plant Viruses").click()
    expect(page.locator("#ref-title")).to_have_text("Plant Viruses")
    ref_id = page.url.split("/refs/", 1)[1].split("#")[0]
    remote = page.locator("#remote-section")
    expect(remote.get_by_role("heading", name="Remote reference")).to_be_visible()
    expect(remote.get_by_role("link", name=SLUG)).to_have_attribute("href", f"https://github.com/{SLUG}")
    expect(page.locator("#remote-installed")).to_contain_text("v1.0.0")
    expect(page.locator("#remote-installed")).to_contain_text("published")
    expect(page.locator("#remote-latest")).to_have_attribute("data-state", "current")
    expect(page.locator("#remote-latest")).to_contain_text("Up to date")
    expect(page.locator("#remote-checked")).to_contain_text("Last checked")
    expect(page.locator("#review-update")).to_be_hidden()
    updates = page.locator("#updates-table tbody tr")
    expect(updates).to_have_count(1)
    expect(updates.first).to_have_attribute("data-release", "v1.0.0")
    expect(updates.first.locator("[data-part=state]")).to_have_text("Installed")
    expect(updates.first).to_contain_text("cura")

    # Nothing new on GitHub yet.
    page.get_by_role("button", name="Check now").click()
    expect(page.locator("#toast")).to_contain_text("up to date")
    expect(page.locator("#remote-latest")).to_contain_text("Up to date")

    # Local work, then release 2 is published; "Check now" finds it, its notes shown as text.
    in_thread(lambda: local_work(user, ref_id))
    releases.script(LATEST, releases.json(releases.two, etag='W/"r2"'))
    page.get_by_role("button", name="Check now").click()
    latest = page.locator("#remote-latest")
    expect(latest).to_have_attribute("data-state", "update")
    expect(latest).to_contain_text("Update available")
    expect(latest).to_contain_text("v1.1.0, published")
    notes = page.locator("#remote-notes-body")
    expect(notes).to_contain_text("## Changes")
    expect(notes).to_contain_text("Added Plum pox virus.")
    expect(notes).to_contain_text('<img src="x"')
    expect(notes.locator("img, b")).to_have_count(0)
    assert page.evaluate("window.pwned") is None
    expect(page.locator("#remote-errors")).to_be_hidden()

    # Review: exactly the three changes, the local edit that the update replaces called out.
    page.get_by_role("button", name="Review update to v1.1.0").click()
    preview = page.locator("#update-preview")
    expect(preview.get_by_role("heading", name="What the update to v1.1.0 will change")).to_be_visible()
    expect(page.locator("#preview-summary")).to_have_text("Installing v1.1.0 changes 3 OTUs; 21 OTUs stay as they are.")
    kinds = ("updated", "created", "removed", "kept")
    groups = {kind: preview.locator(f".preview-group[data-kind={kind}] li") for kind in kinds}
    expect(groups["updated"]).to_have_count(1)
    expect(groups["updated"].first).to_contain_text(RPRSV)
    expect(groups["updated"].first.locator(".local-changes")).to_have_text("Local edits replaced")
    expect(groups["created"]).to_have_text([ADDED])
    expect(groups["removed"]).to_have_count(1)
    expect(groups["removed"].first).to_contain_text(REMOVED)
    expect(groups["removed"].first.locator(".local-changes")).to_have_count(0)
    expect(groups["kept"]).to_have_text([OWN_OTU])
    warning = page.locator("#preview-warning")
    expect(warning).to_contain_text("1 OTU edited here will lose those edits.")
    expect(warning).to_contain_text("can be reverted from the history")
    expect(page.locator("#preview-unchanged")).to_have_text("Unchanged: 21 OTUs.")
    page.screenshot(path=str(SCREENSHOTS / "remote-reference-preview.png"), full_page=True)

    # Install it while no worker is free: the update waits, said live; a worker starts and the update's progress
    # follows it to the end: up to date at v1.1.0, both entries listed.
    stop(running)
    preview.get_by_role("button", name="Install update").click()
    expect(preview).to_be_hidden()
    progress = page.locator("#update-progress")
    expect(progress).to_be_visible()
    expect(page.locator("#update-progress-text")).to_have_text("Updating to v1.1.0: Waiting for a worker · 0%")
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    expect(page.locator("#review-update")).to_be_hidden()
    expect(updates.first).to_have_attribute("data-release", "v1.1.0")
    expect(updates.first.locator("[data-part=state]")).to_have_text("Installing…")
    worker()
    expect(latest).to_contain_text("Up to date", timeout=60_000)
    expect(progress).to_be_hidden()
    expect(page.locator("#remote-installed")).to_contain_text("v1.1.0")
    expect(page.locator("#remote-notes")).to_be_hidden()
    expect(page.locator("#update-failed")).to_be_hidden()
    expect(updates).to_have_count(2)
    expect(updates.nth(0)).to_have_attribute("data-release", "v1.1.0")
    expect(updates.nth(0).locator("[data-part=state]")).to_have_text("Installed")
    expect(updates.nth(1)).to_have_attribute("data-release", "v1.0.0")
    expect(updates.nth(1).locator("[data-part=state]")).to_have_text("Done")
    expect(page.locator("#tab-otu-count")).to_have_text("(24)")
    page.screenshot(path=str(SCREENSHOTS / "remote-reference-updated.png"), full_page=True)

    # The updated OTU's history shows the update first.
    page.get_by_label("Find").fill("raspberry")
    expect(page.locator("#otus-table tbody tr")).to_have_count(1)
    page.get_by_role("link", name=RPRSV).click()
    expect(page).to_have_url(re.compile(rf"/refs/{ref_id}/otus/[^/]+$"))
    change = page.locator("#otu-history .change").first
    expect(change).to_have_attribute("data-method", "update")
    expect(change).to_contain_text(f"Updated {RPRSV} (RpRSV)")
    watch.check()
    context.close()


def test_what_goes_wrong_is_said_in_words(
    browser: Browser, releases, make_user, start_worker, tmp_path: Path, request
) -> None:
    user = in_thread(lambda: make_user("cura", permissions=["create_ref"]))
    cookie = in_thread(lambda: session_cookie_for(user))
    good = releases.answers[download_path(releases.one)][0]
    releases.script(LATEST, releases.json(releases.one, etag='W/"r1"'))
    releases.script(download_path(releases.one), releases.file(b"\x1f\x8b not really gzip"))
    with daphne(tmp_path, VIRTOOL_GITHUB_API_URL=releases.url) as (url, _process):
        try:
            start_worker(VIRTOOL_GITHUB_API_URL=releases.url)
            context, page, watch = open_tab(browser, url, cookie)

            # Release 1's file cannot be read: the install fails, nothing is kept, the box says why and offers it again.
            page.get_by_role("button", name="Install the official plant virus reference").click()
            problem = page.locator("#official-problem")
            expect(problem).to_contain_text("The installation of the official reference failed", timeout=60_000)
            expect(problem).to_contain_text("Release v1.0.0 is not a readable reference file")
            expect(problem).to_contain_text("Nothing was kept; you may try again.")
            expect(page.locator("#refs-list .ref-item")).to_have_count(0)
            expect(page.locator("#official-section")).to_be_visible()

            # The file fixed, it installs.
            releases.script(download_path(releases.one), good)
            install(page).get_by_role("link", name="Plant Viruses").click()
            expect(page.locator("#remote-latest")).to_contain_text("Up to date")

            # GitHub cannot be reached when checking: the errors the check kept are shown, the rest stays.
            releases.script(LATEST, Answer(drop=True))
            page.get_by_role("button", name="Check now").click()
            errors = page.locator("#remote-errors")
            expect(errors).to_contain_text("The last check of GitHub failed:")
            expect(errors.locator("li")).to_have_count(1)
            expect(errors.locator("li")).to_contain_text("Could not reach GitHub")
            expect(page.locator("#toast")).to_contain_text("Could not check GitHub")
            expect(page.locator("#remote-installed")).to_contain_text("v1.0.0")

            # Release 2's file cannot be read: the review says so and offers no install.
            releases.script(LATEST, releases.json(releases.two, etag='W/"r2"'))
            releases.script(download_path(releases.two), releases.file(b"not a reference"))
            page.get_by_role("button", name="Check now").click()
            expect(page.locator("#remote-latest")).to_contain_text("Update available")
            expect(errors).to_be_hidden()
            ref_id = page.url.split("/refs/", 1)[1].split("#")[0]
            watch.expected.append((502, "GET", f"/api/refs/{ref_id}/updates/preview"))
            page.get_by_role("button", name="Review update to v1.1.0").click()
            preview_problem = page.locator("#preview-problem")
            expect(preview_problem).to_contain_text("Could not prepare the preview: Release v1.1.0 is not a readable")
            expect(page.get_by_role("button", name="Install update")).to_be_hidden()
            page.get_by_role("button", name="Not now").click()
            expect(page.locator("#update-preview")).to_be_hidden()
            assert watch.seen == [(502, "GET", f"/api/refs/{ref_id}/updates/preview")]
            watch.check()
            context.close()
        finally:
            show_log_if_failed(request, "daphne", tmp_path / "daphne.log")
