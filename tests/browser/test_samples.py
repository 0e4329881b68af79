"""The samples pages in headless Chromium: create a sample from uploaded reads, watch it get ready, see its charts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import in_thread
from tests.conftest import session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "samples"
FASTQ = SAMPLES / "small_50bp_1.fq.gz"
SCREENSHOTS = Path(os.environ.get("VIRTOOL_SCREENSHOTS", "/tmp"))


def test_create_a_sample_from_a_chosen_file_and_see_its_quality(
    live_server_url: str, browser: Browser, make_user, start_worker
) -> None:
    from samples.models import Sample

    start_worker()
    cookie = in_thread(lambda: session_cookie_for(make_user("ada", role="full")))
    context = browser.new_context(base_url=live_server_url, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server_url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto("/samples")
    expect(page.get_by_role("heading", level=1)).to_have_text("Samples")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.locator("#samples-empty")).to_have_text("No samples yet. Create one from uploaded reads.")

    # The create form: choose the FASTQ file; it is uploaded with progress, selected, and names the sample.
    page.get_by_role("button", name="Create sample").click()
    expect(page.locator("#create-section")).to_be_visible()
    page.locator("#file-input").set_input_files(str(FASTQ))
    expect(page.locator("#sample-transfers .transfer-state")).to_have_text("Uploaded", timeout=30_000)
    expect(page.get_by_role("progressbar", name=f"Upload of {FASTQ.name}")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_role("checkbox", name=FASTQ.name)).to_be_checked()
    expect(page.get_by_label("Name", exact=True)).to_have_value("small_50bp")
    page.get_by_label("Host", exact=True).fill("Grapevine")
    page.get_by_label("Library type").select_option("srna")

    # Submitting with an empty name shows the error next to the field.
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#create-form .field:has(#sample-name) .field-error")).to_have_text("A name is required.")
    page.get_by_label("Name", exact=True).fill("small_50bp")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#create-section")).to_be_hidden()

    # The row follows its job live and turns ready when the worker is done.
    row = page.locator("#sample-table tbody tr").filter(has=page.get_by_role("link", name="small_50bp"))
    expect(row).to_have_count(1)
    expect(row.locator("[data-part=host]")).to_have_text("Grapevine")
    expect(row.locator("[data-part=library]")).to_have_text("sRNA")
    expect(row.locator("[data-part=user]")).to_have_text("ada")
    expect(row).to_have_attribute("data-ready", "true", timeout=60_000)
    expect(row.locator(".badge.ok")).to_have_text("Ready")
    page.screenshot(path=str(SCREENSHOTS / "samples-list.png"), full_page=True)

    sample_id = in_thread(lambda: Sample.objects.get(name="small_50bp").pk)
    row.get_by_role("link", name="small_50bp").click()
    expect(page).to_have_url(f"{live_server_url}/samples/{sample_id}")
    expect(page.locator("#sample-title")).to_have_text("small_50bp")
    expect(page.locator("[data-fact=count]")).to_have_text("25,000")
    quality = page.locator("svg[data-chart=quality]")
    expect(quality.locator("rect.box")).to_have_count(50)
    expect(quality.locator("path.mean-line")).to_have_count(1)
    expect(page.locator("svg[data-chart=composition] path.composition-line")).to_have_count(4)
    assert page.locator("svg[data-chart=distribution] rect.bar").count() > 0
    expect(page.locator("#reads-files a")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "sample-detail.png"), full_page=True)

    # Editing the metadata saves it with PATCH.
    page.get_by_label("Isolate").fill("Isolate 7")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_have_text("Saved")
    assert in_thread(lambda: Sample.objects.get(pk=sample_id).isolate) == "Isolate 7"
    assert errors == []
    context.close()
