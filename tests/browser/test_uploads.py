"""The uploads page in headless Chromium: drop files, watch their progress, see them listed live, delete one."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import in_thread
from tests.conftest import session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "samples"
FASTQ = [SAMPLES / "rprsv_1.fq.gz", SAMPLES / "small_50bp_2.fq.gz"]
SCREENSHOTS = Path(os.environ.get("VIRTOOL_SCREENSHOTS", "/tmp"))


# Builds a DataTransfer holding real File objects in the page: what the browser hands a drop handler.
MAKE_DATA_TRANSFER = """
(files) => {
  const transfer = new DataTransfer();
  for (const { name, data } of files) {
    const binary = atob(data);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    transfer.items.add(new File([bytes], name));
  }
  return transfer;
}
"""


def drop_files(page: Page, files: list[tuple[str, bytes]]) -> None:
    """Drag files over the drop zone and drop them, as a person dragging them from a file manager would."""
    payload = [{"name": name, "data": base64.b64encode(data).decode()} for name, data in files]
    transfer = page.evaluate_handle(MAKE_DATA_TRANSFER, payload)
    zone = page.locator("#drop-zone")
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    zone.dispatch_event("dragover", {"dataTransfer": transfer})
    expect(zone).to_have_class("drop-zone dragging")
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    expect(zone).to_have_class("drop-zone")
    transfer.dispose()


def throttle_uploads(context: BrowserContext, page: Page, bytes_per_second: int) -> None:
    """Slow the page's outgoing traffic (Chromium's DevTools network emulation), so progress can be watched."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )


def open_page(browser: Browser, live_server_url: str, cookie: str) -> tuple[BrowserContext, Page, list[str]]:
    context = browser.new_context(base_url=live_server_url, viewport={"width": 1200, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server_url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/uploads")
    expect(page.get_by_role("heading", level=1)).to_have_text("Uploads")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    return context, page, errors


def transfer_row(page: Page, name: str):
    return page.locator("#transfers li.transfer").filter(has=page.get_by_text(name, exact=True))


def test_drop_two_fastq_files_watch_them_upload_and_appear_live(
    live_server_url: str, browser: Browser, make_user
) -> None:
    from files.models import Upload

    cookie = in_thread(lambda: session_cookie_for(make_user("ada", role="full")))
    context, page, errors = open_page(browser, live_server_url, cookie)
    expect(page.get_by_role("link", name="Uploads")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("button", name="Choose files")).to_be_enabled()
    expect(page.locator("#upload-denied")).to_be_hidden()
    expect(page.locator("#uploads-empty")).to_have_text(
        "No files uploaded yet. Uploaded files appear here until they are used or removed."
    )
    page.evaluate("window.__notReloaded = true")

    # A file that is not FASTQ, chosen with the file picker as reads: the row shows the server's refusal.
    page.locator("#file-input").set_input_files(
        files=[{"name": "notes.fq", "mimeType": "text/plain", "buffer": b"these are my notes\nnot reads\n"}]
    )
    bad = transfer_row(page, "notes.fq")
    expect(bad.locator(".transfer-state")).to_have_text("Failed")
    expect(bad.locator(".transfer-error")).to_have_text(
        "notes.fq is not a FASTQ file: a FASTQ file starts with a line beginning with '@'"
    )
    expect(bad.get_by_role("button", name="Dismiss notes.fq")).to_be_visible()

    # Two real FASTQ files dropped at once, sent slowly enough to watch both bars move.
    throttle_uploads(context, page, 600_000)
    files = [(path.name, path.read_bytes()) for path in FASTQ]
    drop_files(page, files)
    bars = [page.get_by_role("progressbar", name=f"Upload of {name}") for name, _ in files]
    for bar in bars:
        expect(bar).to_be_visible()
    expect(transfer_row(page, files[0][0]).locator(".transfer-state")).to_have_text("Uploading")
    expect(transfer_row(page, files[1][0]).locator(".transfer-state")).to_have_text("Uploading")
    # Part way: some progress, not all of it, with a speed.
    page.wait_for_function(
        """() => [...document.querySelectorAll('#transfers [role=progressbar]')].slice(1)
              .every((bar) => Number(bar.getAttribute('aria-valuenow')) >= 20)"""
    )
    values = [int(bar.get_attribute("aria-valuenow")) for bar in bars]
    assert all(0 < value < 100 for value in values), values
    expect(transfer_row(page, files[0][0]).locator(".transfer-detail")).to_contain_text("/s")
    page.screenshot(path=str(SCREENSHOTS / "uploads-during.png"), full_page=True)

    for (name, _data), bar in zip(files, bars, strict=True):
        row = transfer_row(page, name)
        expect(row.locator(".transfer-state")).to_have_text("Uploaded", timeout=30_000)
        expect(bar).to_have_attribute("aria-valuenow", "100")
        expect(row.locator(".transfer-error")).to_be_hidden()
        expect(row.get_by_role("button", name=f"Dismiss {name}")).to_be_visible()

    # The list below shows both without a reload, with download links, sizes, the user and the age.
    table = page.locator("#upload-table")
    for name, data in files:
        listed = table.locator("tbody tr").filter(has=page.get_by_role("link", name=f"Download {name}"))
        expect(listed).to_have_count(1)
        expect(listed.locator("[data-part=type]")).to_have_text("Reads")
        expect(listed.locator("[data-part=user]")).to_have_text("ada")
        expect(listed.locator("time")).to_have_text("just now")
        expect(listed.locator("[data-part=size]")).to_have_attribute("title", f"{len(data):,} bytes")
    expect(page.locator("#uploads-count")).to_have_text("2 files.")
    assert page.evaluate("window.__notReloaded") is True
    page.screenshot(path=str(SCREENSHOTS / "uploads-after.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "uploads-narrow.png"), full_page=True)
    page.set_viewport_size({"width": 1200, "height": 900})

    uploads = in_thread(lambda: {row.name: row for row in Upload.objects.select_related("user")})
    assert sorted(uploads) == sorted(name for name, _ in files)
    for name, data in files:
        upload = uploads[name]
        assert upload.size == len(data)
        assert upload.sha256 == hashlib.sha256(data).hexdigest()
        assert upload.type == "reads"
        assert upload.user.handle == "ada"
        assert upload.ready
        assert not upload.removed

    # The download link serves the very bytes.
    name, data = files[1]
    link = page.get_by_role("link", name=f"Download {name}")
    response = context.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.body() == data

    # Deleting one (after confirming) takes it out of the list; the record is marked removed.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Delete {name}").click()
    expect(page.get_by_role("link", name=f"Download {name}")).to_have_count(0)
    expect(page.locator("#uploads-count")).to_have_text("1 file.")
    assert in_thread(lambda: Upload.objects.get(name=name).removed) is True

    # Finished rows can be cleared together.
    page.get_by_role("button", name="Clear finished").click()
    expect(page.locator("#transfers li")).to_have_count(0)
    assert errors == []
    context.close()


def test_queue_of_two_at_a_time_and_cancel(live_server_url: str, browser: Browser, make_user) -> None:
    from files.models import Upload

    cookie = in_thread(lambda: session_cookie_for(make_user("ada", role="full")))
    context, page, errors = open_page(browser, live_server_url, cookie)
    throttle_uploads(context, page, 300_000)
    record = b"@read\n" + b"ACGT" * 50 + b"\n+\n" + b"I" * 200 + b"\n"
    data = record * (1_500_000 // len(record))
    names = ["a_R1.fastq", "b_R1.fastq", "c_R1.fastq"]
    drop_files(page, [(name, data) for name in names])

    first, second, third = (transfer_row(page, name) for name in names)
    expect(first.locator(".transfer-state")).to_have_text("Uploading")
    expect(second.locator(".transfer-state")).to_have_text("Uploading")
    expect(third.locator(".transfer-state")).to_have_text("Waiting")
    expect(third.locator(".transfer-detail")).to_have_text("Waiting for another upload to finish")

    # Cancelling one that is being sent lets the waiting one start; nothing of the cancelled one is stored.
    first.get_by_role("button", name="Cancel upload of a_R1.fastq").click()
    expect(first.locator(".transfer-state")).to_have_text("Cancelled")
    expect(third.locator(".transfer-state")).to_have_text("Uploading")
    expect(first.get_by_role("button", name="Dismiss a_R1.fastq")).to_be_visible()
    for row in (second, third):
        expect(row.locator(".transfer-state")).to_have_text("Uploaded", timeout=45_000)
    listed = page.locator("#upload-table tbody tr")
    expect(listed).to_have_count(2)
    assert sorted(in_thread(lambda: list(Upload.objects.values_list("name", flat=True)))) == names[1:]
    assert errors == []
    context.close()


def test_without_upload_permission_the_drop_zone_is_disabled_and_the_list_follows_others(
    live_server_url: str, browser: Browser, make_user
) -> None:
    from files.models import Upload
    from files.services import upload_create
    from files.storage import files_path

    def prepare() -> tuple[str, str]:
        owner = make_user("ada", role="full")
        temp = files_path() / "incoming"
        content = b"@r\nACGT\n+\nIIII\n"
        temp.write_bytes(content)
        digest = hashlib.sha256(content).hexdigest()
        upload_create(name="old.fq", upload_type="reads", user=owner, temp_path=temp, size=len(content), sha256=digest)
        return session_cookie_for(make_user("bob")), session_cookie_for(owner)

    cookie, owner_cookie = in_thread(prepare)
    context, page, errors = open_page(browser, live_server_url, cookie)
    expect(page.locator("#upload-denied")).to_be_visible()
    expect(page.locator("#upload-denied")).to_contain_text("Upload files")
    expect(page.get_by_role("button", name="Choose files")).to_be_disabled()
    expect(page.locator("#drop-zone")).to_have_attribute("aria-disabled", "true")
    # Listed and downloadable, but without a Delete button (no `remove_file`).
    expect(page.get_by_role("link", name="Download old.fq")).to_be_visible()
    expect(page.get_by_role("button", name="Delete old.fq")).to_have_count(0)
    # A drop is refused in the page, before anything is sent.
    drop_files(page, [("x.fq", b"@r\nACGT\n+\nIIII\n")])
    expect(page.locator("#toast")).to_have_text("You do not have permission to upload files.")
    expect(page.locator("#transfers li")).to_have_count(0)
    assert in_thread(lambda: Upload.objects.count()) == 1

    # Someone else uploads and removes files through the API: the open list follows the `uploads` events.
    page.evaluate("window.__notReloaded = true")
    other = requests.Session()
    other.headers.update({"Origin": live_server_url, "Cookie": f"sessionid={owner_cookie}"})
    response = other.post(
        f"{live_server_url}/api/uploads?name=genome.fa.gz&type=subtraction",
        files={"file": ("genome.fa.gz", b">chr1\nACGT\n")},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    listed = page.locator(f'#upload-table tr[data-id="{created["id"]}"]')
    expect(listed.get_by_role("link", name="Download genome.fa.gz")).to_be_visible()
    expect(listed.locator("[data-part=type]")).to_have_text("Subtraction")
    expect(page.locator("#upload-table tbody tr")).to_have_count(2)
    expect(page.locator("#upload-table tbody tr").first).to_have_attribute("data-id", str(created["id"]))

    old_id = in_thread(lambda: Upload.objects.get(name="old.fq").pk)
    assert other.delete(f"{live_server_url}/api/uploads/{old_id}", timeout=10).status_code == 204
    expect(page.get_by_role("link", name="Download old.fq")).to_have_count(0)
    expect(page.locator("#uploads-count")).to_have_text("1 file.")
    assert page.evaluate("window.__notReloaded") is True
    other.close()
    assert errors == []
    context.close()
