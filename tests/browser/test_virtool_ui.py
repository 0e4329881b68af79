"""Virtool's own web client (7.12.0, unchanged) walked in headless Chromium against our API, through the harness
of `tests/browser/virtool_ui.py`, with real data: the first user, logging out and in, the demo reference with its
OTUs, an OTU's history and its first index built from the client, the official reference installed from the
client's "Official Reference" box (a fake GitHub on 127.0.0.1) and updated to its next release, uploading the RpRSV
reads and creating a sample from them in the client's form, its quality charts, a PathoScope analysis started from
the analyses tab and followed live to its result, the HMM profiles (none, then installed) and one profile, a
subtraction made from an uploaded host genome, the jobs list and a job, the administration's users, administrators,
a new group with a permission and the settings, the account with a new API key, and logging out.

The walk fails on any request it did not expect to fail, any uncaught page error, any console error other than the
client's two known faults (`../shared/virtool-ui/README.md`), and any screen showing "Something went wrong" or
staying on its loader. Screenshots: `$VIRTOOL_SCREENSHOTS/virtool-ui-*.png` (default /tmp).
"""

from __future__ import annotations

import gzip
import os
import random
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, expect
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import in_thread
from tests.browser.virtool_ui import Harness, virtool_ui
from tests.conftest import SHARED, client_for, show_log_if_failed, wait_for
from tests.github_server import FakeGitHub, download_path, recorded, with_asset
from tests.references.conftest import gz_json
from tests.references.test_remote import release_files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

READS = [SHARED / "data" / "samples" / "rprsv_1.fq.gz", SHARED / "data" / "samples" / "rprsv_2.fq.gz"]
SCREENSHOTS = Path(os.environ.get("VIRTOOL_SCREENSHOTS", "/tmp"))
HANDLE = "ada"
COLLEAGUE = "grace"
PASSWORD = "correct horse battery"
LOADER = "[role=status][aria-label=loading]"
REMOTE_LATEST = "/repos/virtool/ref-plant-viruses/releases/latest"


class Watch:
    """Everything that went wrong in the tab. `expected` holds (status, path regex) pairs the walk causes on
    purpose: the client's known fault of asking for the account while logged out (401)."""

    def __init__(self, page: Page, harness: Harness) -> None:
        self.harness = harness
        self.problems: list[str] = []
        self.expected: list[tuple[int, re.Pattern[str]]] = []
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self.console)
        page.on("response", self.response)
        page.on("requestfailed", self.request_failed)

    def console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # "Failed to load resource" repeats a response the `response` handler already judged (expected or not).
        if message.text.startswith("Failed to load resource: the server responded with a status of"):
            return
        self.problems.append(f"console error: {message.text}")

    def response(self, response: Response) -> None:
        if response.status < 400:
            return
        path = response.url.removeprefix(self.harness.url)
        if any(status == response.status and pattern.search(path) for status, pattern in self.expected):
            return
        self.problems.append(f"{response.status} {response.request.method} {path}")

    def request_failed(self, request: Request) -> None:
        # Navigating away aborts what the old screen still had in flight; anything else is a failure.
        if request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"request failed: {request.method} {request.url} {request.failure}")

    def check(self) -> None:
        assert not self.problems, self.problems


def screen(page: Page, watch: Watch, name: str, *visible: str) -> None:
    """The screen shows each of `visible` (texts), no loader and no error page; its screenshot is saved."""
    for text in visible:
        expect(page.get_by_text(text, exact=False).first).to_be_visible()
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
    expect(page.locator(LOADER)).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / f"virtool-ui-{name}.png"), full_page=True)
    watch.check()


def prepare_reference(handle: str) -> tuple[str, str, str]:
    """The demo reference imported through our API, as its owner (the worker runs the import)."""
    from jobs.models import Job
    from otus.models import OTU
    from tests.references.conftest import DEMO, make_reference_upload
    from users.models import User

    user = User.objects.get(handle=handle)
    client = client_for(user)
    upload = make_reference_upload(user, source=DEMO)
    reference = client.post("/api/refs", {"import_from": upload.pk, "name": "Demo"}, format="json").json()
    wait_for(lambda: not Job.objects.exclude(state__in=["complete", "error", "cancelled"]).exists(), timeout=120)
    otu = OTU.objects.filter(reference_id=reference["id"]).order_by("name").first()
    assert otu is not None
    return reference["id"], otu.pk, otu.name


def test_virtool_ui_walk(browser: Browser, tmp_path: Path, start_worker, request, github) -> None:
    start_worker(VIRTOOL_GITHUB_API_URL=github.url)
    with virtool_ui(tmp_path, VIRTOOL_GITHUB_API_URL=github.url) as ui:
        try:
            walk(browser, ui, write_host(tmp_path / "rubus_idaeus.fa.gz"), github)
        finally:
            show_log_if_failed(request, "daphne", tmp_path / "daphne.log")


def walk(browser: Browser, ui: Harness, host: Path, github: FakeGitHub) -> None:
    context = browser.new_context(base_url=ui.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    watch = Watch(page, ui)

    # First user: no user yet, so the client opens its setup form.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/setup$"))
    screen(page, watch, "setup", "Create First User")
    page.get_by_label("Username").fill(HANDLE)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/api/users/first")) as created:
        page.get_by_role("button", name="Create User").click()
    assert created.value.status == 201
    arrive(page, "/refs")  # logged in now: the client leaves the setup form

    # Log out and in again; after the login the client stays on /login until the page is reloaded (known fault).
    log_out(page, watch)
    page.get_by_label("Username").fill(HANDLE)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/api/account/login")) as login:
        page.get_by_role("button", name="Login").click()
    assert login.value.status in (200, 201), login.value.status
    arrive(page, "/refs")
    watch.expected.clear()

    reference_id, otu_id, otu_name = in_thread(lambda: prepare_reference(HANDLE))

    # The demo reference, its OTUs, one OTU and its history, and the indexes.
    page.goto("/refs")
    screen(page, watch, "references", "Demo")
    page.get_by_role("link", name="Demo").first.click()
    screen(page, watch, "reference", "Demo", "Latest Index Build", "Contributors")
    page.get_by_role("link", name=re.compile("^OTUs")).click()
    screen(page, watch, "otus", otu_name)
    page.get_by_role("link", name=otu_name).first.click()
    expect(page).to_have_url(re.compile(rf"/refs/{reference_id}/otus/{otu_id}"))
    screen(page, watch, "otu", otu_name, "Isolates", "Sequences")
    page.get_by_role("link", name="History").click()
    screen(page, watch, "otu-history", f"Imported {otu_name}")
    # Build the first index from the indexes page: the client lists the unbuilt changes, then follows the build.
    page.goto(f"/refs/{reference_id}/indexes")
    screen(page, watch, "indexes-unbuilt", "There are unbuilt changes", "No indexes found")
    page.get_by_role("link", name="Rebuild the index").click()
    dialog = page.get_by_role("dialog", name="Rebuild Index")
    expect(dialog.get_by_text("Changes")).to_be_visible()
    expect(dialog.get_by_text(otu_name).first).to_be_visible()
    screen(page, watch, "index-rebuild", "Rebuild Index")
    with page.expect_response(lambda r: r.url.endswith(f"/api/refs/{reference_id}/indexes")) as built:
        dialog.get_by_role("button", name="Start").click()
    assert built.value.status == 201, built.value.text()
    wait_for(lambda: in_thread(lambda: index_ready(reference_id)), timeout=120)
    expect(page.get_by_text("Active")).to_be_visible(timeout=30_000)  # the list follows the build live
    screen(page, watch, "indexes", "Version 0", "Active")

    remote_reference(page, watch, github)

    # Upload the RpRSV reads on the read files page, then create a sample from them.
    page.goto("/samples/files")
    screen(page, watch, "read-files", "Read Files", "Drag files here to upload")
    page.locator("input[type=file]").set_input_files([str(path) for path in READS])
    for path in READS:
        expect(page.get_by_text(path.name).first).to_be_visible(timeout=60_000)
    wait_for(lambda: in_thread(uploads_ready), timeout=60)
    page.reload()
    screen(page, watch, "read-files-uploaded", *(path.name for path in READS))

    page.goto("/samples/create")
    screen(page, watch, "create-sample", "Create Sample", *(path.name for path in READS))
    page.get_by_label("Name", exact=True).fill("RpRSV")
    page.get_by_label("Isolate").fill("Field 4")
    page.get_by_label("Host").fill("Rubus idaeus")
    page.get_by_label("Locale").fill("Okanagan")
    for path in READS:  # the first picked is the left read
        page.get_by_text(path.name).first.click()
    expect(page.get_by_text("2 of 2 selected")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/api/samples") and r.request.method == "POST") as saved:
        page.get_by_role("button", name="Create", exact=True).click()
    assert saved.value.status == 201, saved.value.text()
    sample_id = saved.value.json()["id"]
    expect(page).to_have_url(re.compile(r"/samples(\?.*)?$"))
    screen(page, watch, "samples-creating", "RpRSV")
    wait_for(lambda: in_thread(lambda: sample_ready(sample_id)), timeout=180)

    page.goto("/samples")
    screen(page, watch, "samples", "RpRSV")
    page.get_by_role("link", name="RpRSV").first.click()
    screen(page, watch, "sample", "RpRSV", "Metadata")
    page.get_by_role("link", name="Quality").click()
    screen(page, watch, "sample-quality", "Quality Distribution at Read Positions", "Nucleotide Composition")
    page.get_by_role("link", name="Analyses").click()
    screen(page, watch, "sample-analyses", "No analyses found", "HMM data is not installed")

    # Start PathoScope against the demo reference from the analyses tab; the list follows the job live (no
    # reload) until the analysis is ready, then its result names the virus in the reads.
    page.get_by_role("button", name="Create").click()
    dialog = page.get_by_role("dialog", name="Analyze")
    dialog.get_by_role("combobox").click()
    page.get_by_role("option", name="Demo").click()
    expect(dialog.get_by_text("1 job will be started")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith(f"/api/samples/{sample_id}/analyses")) as started:
        dialog.get_by_role("button", name="Start").click()
    assert started.value.status == 201, started.value.text()
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="Pathoscope")).to_be_visible()
    screen(page, watch, "analysis-started", "Index 0")
    wait_for(lambda: in_thread(lambda: analysis_ready(sample_id)), timeout=240)
    expect(page.get_by_role("button", name="remove")).to_be_visible(timeout=30_000)  # ready: the list changed
    screen(page, watch, "analysis-ready", "Index 0")
    page.get_by_role("link", name="Pathoscope").click()
    screen(page, watch, "analysis-result", "Raspberry ringspot virus")

    # HMMs: Virtool's own "not installed" page, then the real profiles once an administrator has installed them
    # from the shared folder (the client has no upload for them), and one profile.
    page.goto("/hmm")
    screen(page, watch, "hmms-none", "HMM profiles not installed")
    in_thread(lambda: install_hmms(HANDLE))
    page.reload()
    screen(page, watch, "hmms", "HMMs", "preS protein", "late expression factor 11", "Papillomaviridae")
    page.get_by_role("link", name="late expression factor 11").click()
    screen(page, watch, "hmm", "late expression factor 11", "Baculoviridae")

    # Subtractions: none yet; upload a host genome on the subtraction files page, create one from it in the
    # client's dialog, and follow it until it is ready.
    page.goto("/subtractions")
    screen(page, watch, "subtractions-none", "No subtractions found")
    page.goto("/subtractions/files")
    page.locator("input[type=file]").set_input_files(str(host))
    expect(page.get_by_text(host.name).first).to_be_visible(timeout=60_000)
    wait_for(lambda: in_thread(lambda: upload_ready(host.name)), timeout=60)
    page.reload()
    screen(page, watch, "subtraction-files", host.name)
    page.goto("/subtractions?openCreateSubtraction=true")
    dialog = page.get_by_role("dialog", name="Create Subtraction")
    dialog.get_by_label("Name", exact=True).fill("Rubus idaeus")
    dialog.get_by_label("Nickname").fill("Raspberry")
    dialog.get_by_text(host.name).click()
    with page.expect_response(lambda r: r.url.endswith("/api/subtractions") and r.request.method == "POST") as made:
        dialog.get_by_role("button", name=re.compile("Save|Create")).click()
    assert made.value.status == 201, made.value.text()
    subtraction_id = made.value.json()["id"]
    wait_for(lambda: in_thread(lambda: subtraction_ready(subtraction_id)), timeout=120)
    page.goto("/subtractions")
    screen(page, watch, "subtractions", "Rubus idaeus")
    page.get_by_role("link", name="Rubus idaeus").click()
    screen(page, watch, "subtraction", "Rubus idaeus", "Raspberry", host.name)

    # The jobs: none pending or running any more; the succeeded ones (sample creation, index build), and one job.
    page.goto("/jobs")
    screen(page, watch, "jobs-running", "No jobs matching filters")
    page.get_by_role("checkbox", name="succeeded").click()
    screen(page, watch, "jobs-succeeded", "Create Sample", "Build Index")
    page.get_by_role("link", name=re.compile("Create Sample")).first.click()
    expect(page).to_have_url(re.compile(r"/jobs/[^/?]+$"))
    screen(page, watch, "job", "Create Sample")

    # Administration: users, administrators (the list leaves out the viewer, as in Virtool), groups and settings.
    in_thread(make_colleague)
    page.goto("/administration/users")
    screen(page, watch, "admin-users", COLLEAGUE)
    expect(page.get_by_role("link", name=HANDLE, exact=True)).to_be_visible()
    page.goto("/administration/administrators")
    screen(page, watch, "admin-administrators", COLLEAGUE, "Users")
    page.goto("/administration/groups")
    screen(page, watch, "admin-groups-none", "No Groups Exist")
    page.get_by_role("button", name="Create").click()
    dialog = page.get_by_role("dialog", name="Create Group")
    dialog.get_by_role("textbox").fill("Diagnosticians")
    with page.expect_response(lambda r: r.url.endswith("/api/groups") and r.request.method == "POST") as grouped:
        dialog.get_by_role("button", name="Save").click()
    assert grouped.value.status == 201, grouped.value.text()
    expect(page.get_by_text("create_sample")).to_be_visible()
    with page.expect_response(lambda r: "/api/groups/" in r.url and r.request.method == "PATCH") as granted:
        page.get_by_text("create_sample").click()
    assert granted.value.status == 200, granted.value.text()
    screen(page, watch, "admin-groups", "Diagnosticians", "Permissions", "No Group Members")
    page.goto("/administration/settings")
    screen(page, watch, "admin-settings", "JSON API", "Instance Message")

    # The account and its API keys.
    page.goto("/account")
    screen(page, watch, "account", HANDLE, "Full Administrator")
    page.get_by_role("link", name="API").click()
    screen(page, watch, "account-api-none", "Manage API keys")
    page.get_by_role("button", name="Create").click()
    dialog = page.get_by_role("dialog", name="Create API Key")
    dialog.get_by_label("Name").fill("Sequencer uploads")
    with page.expect_response(lambda r: r.url.endswith("/api/account/keys") and r.request.method == "POST") as keyed:
        dialog.get_by_role("button", name="Save").click()
    assert keyed.value.status == 201, keyed.value.text()
    expect(dialog.get_by_text("Here is your key.")).to_be_visible()
    screen(page, watch, "account-api-key", "Here is your key.")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    screen(page, watch, "account-api", "Sequencer uploads")

    log_out(page, watch)
    screen(page, watch, "logged-out", "Login")
    context.close()


def remote_reference(page: Page, watch: Watch, github: FakeGitHub) -> None:
    """The official reference from the client's own "Official Reference" box, installed from release 1 of the fake
    GitHub; release 2 published, the client's "Refresh" sees it, its "Install" updates the reference live, and the
    updated OTU's history says so."""
    first, second = release_files()
    one = with_asset(recorded("ref-plant-viruses-v1.json"), gz_json(first))
    two = with_asset(recorded("ref-plant-viruses-v2.json"), gz_json(second))
    github.script(download_path(one), github.file(gz_json(first)))
    github.script(download_path(two), github.file(gz_json(second)))
    github.script(REMOTE_LATEST, github.json(one, etag='W/"r1"'))

    page.goto("/refs")
    screen(page, watch, "references-official", "Official Reference", "Demo")
    with page.expect_response(lambda r: r.url.endswith("/api/refs") and r.request.method == "POST") as installed:
        page.get_by_role("button", name="Install").click()
    assert installed.value.status == 201, installed.value.text()
    reference_id = installed.value.json()["id"]
    wait_for(lambda: in_thread(lambda: reference_ready(reference_id)), timeout=120)
    page.reload()
    expect(page.get_by_text("Official Reference")).to_have_count(0)  # official_installed: the box goes
    screen(page, watch, "references-remote", "Plant Viruses", "Demo")
    page.get_by_role("link", name="Plant Viruses").first.click()
    screen(page, watch, "reference-remote", "Remote Reference", "Installed Version", "v1.0.0", "Up-to-date")

    github.script(REMOTE_LATEST, github.json(two, etag='W/"r2"'))
    with page.expect_response(lambda r: r.url.endswith(f"/api/refs/{reference_id}/release")) as checked:
        page.get_by_role("button", name="Refresh").click()
    assert checked.value.status == 200, checked.value.text()
    screen(page, watch, "reference-update-available", "Update Available", "v1.1.0")
    with page.expect_response(lambda r: r.url.endswith(f"/api/refs/{reference_id}/updates")) as updated:
        page.get_by_role("button", name="Install").click()
    assert updated.value.status == 201, updated.value.text()
    wait_for(lambda: in_thread(lambda: reference_installed(reference_id) == "v1.1.0"), timeout=120)
    page.reload()
    screen(page, watch, "reference-updated", "Installed Version", "v1.1.0", "Up-to-date")
    otu_id = in_thread(lambda: otu_named(reference_id, "Raspberry ringspot virus"))
    page.goto(f"/refs/{reference_id}/otus/{otu_id}/history")
    screen(page, watch, "otu-history-updated", "Updated Raspberry ringspot virus (RpRSV)", "Remoted Raspberry")


def reference_ready(reference_id: str) -> bool:
    from references.models import Reference

    return Reference.objects.filter(pk=reference_id, ready=True).exists()


def reference_installed(reference_id: str) -> str | None:
    from references.models import Reference

    reference = Reference.objects.get(pk=reference_id)
    return (reference.installed or {}).get("name") if not reference.updates or reference.updates[-1]["ready"] else None


def otu_named(reference_id: str, name: str) -> str:
    from otus.models import OTU

    return OTU.objects.get(reference_id=reference_id, name=name).pk


def arrive(page: Page, path: str) -> None:
    """Go to `path` once the client has done its own navigation after a setup or login (which may abort ours)."""
    for _ in range(20):
        try:
            page.goto(path)
            expect(page).to_have_url(re.compile(re.escape(path)), timeout=2_000)
            return
        except (AssertionError, PlaywrightError):
            continue
    expect(page).to_have_url(re.compile(re.escape(path)))


def log_out(page: Page, watch: Watch) -> None:
    """Log out from the account menu. The open screen's queries then get 401 and the client reloads the page over
    and over (its known fault, as against Virtool), so the walk goes to the login page itself."""
    watch.expected.append((401, re.compile(r"^/api/")))
    page.locator("[aria-haspopup=menu]", has_text=HANDLE[:2].upper()).click()
    with page.expect_request(lambda r: r.url.endswith("/api/account/logout")):
        page.get_by_role("menuitem", name="Logout").click()
    # Until the logout has reached the server, /login still finds a session and sends the client back in.
    for _ in range(20):
        try:
            page.goto("/login")  # a reload of the loop may abort it
            expect(page.get_by_role("button", name="Login")).to_be_visible(timeout=2_000)
            break
        except (AssertionError, PlaywrightError):
            continue
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("button", name="Login")).to_be_visible()


def make_colleague() -> None:
    """A second user, an administrator of users, for the users and administrators pages."""
    from users.constants import AdministratorRole
    from users.models import User

    User.objects.create_user(handle=COLLEAGUE, password=PASSWORD, administrator_role=AdministratorRole.USERS)


def install_hmms(handle: str) -> None:
    from hmm.services import hmm_install_path
    from users.models import User

    assert hmm_install_path(path=SHARED / "data" / "hmm", user=User.objects.get(handle=handle)) == 3


def upload_ready(name: str) -> bool:
    from files.models import Upload

    return Upload.objects.filter(ready=True, name=name).exists()


def subtraction_ready(subtraction_id: str) -> bool:
    from subtractions.models import Subtraction

    return Subtraction.objects.filter(pk=subtraction_id, ready=True).exists()


def write_host(path: Path) -> Path:
    """A made-up host genome (there is none in the shared data): two 20 kb chromosomes of seeded random sequence."""
    rng = random.Random(7)
    with gzip.open(path, "wt") as out:
        for name in ("chr1", "chr2"):
            sequence = "".join(rng.choice("ACGT") for _ in range(20_000))
            out.write(f">{name}\n" + "\n".join(sequence[i : i + 80] for i in range(0, len(sequence), 80)) + "\n")
    return path


def index_ready(reference_id: str) -> bool:
    from indexes.models import Index

    return Index.objects.filter(reference_id=reference_id, ready=True).exists()


def analysis_ready(sample_id: str) -> bool:
    from analyses.models import Analysis

    return Analysis.objects.filter(sample_id=sample_id, ready=True).exists()


def uploads_ready() -> bool:
    from files.models import Upload

    return Upload.objects.filter(ready=True, name__in=[path.name for path in READS]).count() == len(READS)


def sample_ready(sample_id: str) -> bool:
    from samples.models import Sample

    return Sample.objects.filter(pk=sample_id, ready=True).exists()
