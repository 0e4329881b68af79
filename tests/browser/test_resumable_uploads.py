"""Resumable uploads in the browser (tus, the Uploads page): the network goes away in the middle of an upload and
comes back, the session ends in the middle of one and the user signs in again; each completes with the right size
and checksum, continued (one upload on the server, never started again)."""

from __future__ import annotations

import hashlib
import random
import time

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.browser.conftest import in_thread
from tests.browser.test_uploads import open_page, throttle_uploads, transfer_row
from tests.conftest import session_cookie_for, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHUNK = 4 * 1024 * 1024  # files/static/files/resumable.js CHUNK_SIZE


def fastq(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    records = []
    total = 0
    while total < size:
        bases = "".join(rng.choices("ACGT", k=150))
        record = f"@read{len(records)}\n{bases}\n+\n{'F' * 150}\n".encode()
        records.append(record)
        total += len(record)
    return b"".join(records)


def offset() -> int:
    from files.models import Upload

    row = Upload.objects.first()
    return row.offset if row else 0


def test_upload_cut_by_the_network_resumes_and_completes(live_server_url: str, browser: Browser, make_user) -> None:
    from files.models import Upload

    cookie = in_thread(lambda: session_cookie_for(make_user("ada", role="full")))
    context, page, errors = open_page(browser, live_server_url, cookie)
    throttle_uploads(context, page, 4_000_000)  # slow enough to cut it half-way
    data = fastq(4 * CHUNK + 500_000, seed=1)
    refused: list[str] = []

    def network_down(route: Route) -> None:
        refused.append(f"{route.request.method} {route.request.url}")
        route.abort("internetdisconnected")

    page.locator("#file-input").set_input_files(
        files=[{"name": "run_S1_R1.fastq", "mimeType": "text/plain", "buffer": data}]
    )
    row = transfer_row(page, "run_S1_R1.fastq")
    expect(row.locator(".transfer-state")).to_have_text("Uploading")
    expect(page.get_by_role("progressbar", name="All uploads")).to_be_visible()

    # The network goes away once the server holds the first chunk.
    wait_for(lambda: in_thread(offset) >= CHUNK, timeout=30)
    # (Routed only while it is down: Chromium's interception loses the body of a file sent through it.)
    page.route("**/api/uploads/tus**", network_down)
    expect(row.locator(".transfer-state")).to_have_text("Paused", timeout=30_000)
    expect(row.locator(".transfer-error")).to_contain_text("The connection was lost")
    held = in_thread(offset)
    assert CHUNK <= held < len(data)
    page.screenshot(path="/tmp/uploads-paused.png", full_page=True)
    time.sleep(2)
    assert in_thread(offset) == held  # nothing got through while it was down
    percent = int(row.get_by_role("progressbar").get_attribute("aria-valuenow"))
    assert 0 < percent < 100

    # Back again: it goes on from what the server holds, without starting over.
    page.unroute("**/api/uploads/tus**", network_down)
    expect(row.locator(".transfer-state")).to_have_text("Uploaded", timeout=60_000)
    expect(row.locator(".transfer-error")).to_be_hidden()
    overall = page.get_by_role("progressbar", name="All uploads")
    expect(overall).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#transfers-overall-text")).to_contain_text("1 of 1 file uploaded")
    assert refused, "no request was refused while the network was down"
    uploads = in_thread(lambda: list(Upload.objects.all()))
    assert len(uploads) == 1
    upload = uploads[0]
    assert (upload.ready, upload.size) == (True, len(data))
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    listed = page.locator(f'#upload-table tr[data-id="{upload.pk}"]')
    expect(listed.locator("[data-part=size]")).to_have_attribute("title", f"{len(data):,} bytes")
    assert errors == []
    context.close()


def test_upload_paused_by_an_ended_session_resumes_after_signing_in(
    live_server_url: str, browser: Browser, make_user
) -> None:
    from django.contrib.sessions.models import Session

    from files.models import Upload

    user = in_thread(lambda: make_user("ada", role="full"))
    context, page, errors = open_page(browser, live_server_url, in_thread(lambda: session_cookie_for(user)))
    throttle_uploads(context, page, 4_000_000)
    data = fastq(3 * CHUNK + 100_000, seed=2)
    page.locator("#file-input").set_input_files(
        files=[{"name": "late_R1.fq", "mimeType": "text/plain", "buffer": data}]
    )
    row = transfer_row(page, "late_R1.fq")
    wait_for(lambda: in_thread(offset) >= CHUNK, timeout=30)
    in_thread(lambda: Session.objects.all().delete())  # the session ends (expired, or signed out elsewhere)
    expect(row.locator(".transfer-state")).to_have_text("Paused", timeout=30_000)
    expect(row.locator(".transfer-error")).to_contain_text("Sign in again")
    resume = row.get_by_role("button", name="Resume upload of late_R1.fq")
    expect(resume).to_be_visible()
    held = in_thread(offset)
    assert 0 < held < len(data)

    # Signed in again (a new session of the same user, as a login in another tab gives): Resume continues it.
    context.add_cookies(
        [{"name": "sessionid", "value": in_thread(lambda: session_cookie_for(user)), "url": live_server_url}]
    )
    resume.click()
    expect(row.locator(".transfer-state")).to_have_text("Uploaded", timeout=60_000)
    uploads = in_thread(lambda: list(Upload.objects.all()))
    assert [(u.ready, u.size, u.sha256) for u in uploads] == [(True, len(data), hashlib.sha256(data).hexdigest())]
    assert errors == []
    context.close()


def test_dozens_of_files_each_with_its_bar_and_one_over_all(live_server_url: str, browser: Browser, make_user) -> None:
    from files.models import Upload
    from tests.browser.test_uploads import drop_files

    cookie = in_thread(lambda: session_cookie_for(make_user("ada", role="full")))
    context, page, errors = open_page(browser, live_server_url, cookie)
    files = [
        (f"plate1_A{index:02d}_R{1 + index % 2}.fq", fastq(20_000 + index * 1000, seed=index)) for index in range(30)
    ]
    drop_files(page, files)
    expect(page.locator("#transfers li.transfer")).to_have_count(30)
    expect(page.get_by_role("progressbar", name="Upload of plate1_A29_R2.fq")).to_be_visible()
    overall = page.get_by_role("progressbar", name="All uploads")
    expect(page.locator("#transfers-overall-text")).to_contain_text("30 of 30 files uploaded", timeout=60_000)
    expect(overall).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#transfers .transfer-state", has_text="Uploaded")).to_have_count(30)
    total = sum(len(data) for _, data in files)
    rows = in_thread(lambda: list(Upload.objects.filter(ready=True).values_list("name", "size", "sha256")))
    assert sorted(rows) == sorted((name, len(data), hashlib.sha256(data).hexdigest()) for name, data in files)
    assert sum(size for _, size, _ in rows) == total
    assert errors == []
    context.close()
