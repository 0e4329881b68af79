"""The analyses overview in headless Chromium on real PathoScope analyses (rprsv, small_50bp, and one that failed):
the rows with their headlines, a filter, a sort, the failed one's reason and "Try again" (followed live to its
result); then the samples list's latest calls."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from analyses.base import AnalysisError
from tests.browser.conftest import in_thread
from tests.browser.test_analyses import SCREENSHOTS, open_page
from tests.conftest import SHARED, client_for, run_waiting_jobs, session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RPRSV = "Raspberry ringspot virus"
BROKEN = "bowtie2 ran out of memory mapping the reads"
SAMPLES = SHARED / "data" / "samples"


@pytest.fixture
def scientist(make_user, jobs_here):
    return make_user("ada", role="full")


def analysed(user, mocker) -> dict:
    """The demo reference, the rprsv and small_50bp samples, a PathoScope analysis of each, and one of small_50bp
    that failed; the jobs run here."""
    from tests.analyses.test_workflow import prepare
    from tests.samples.test_api import make_upload

    client = client_for(user)
    reference, rprsv = prepare(client, user)
    uploads = [make_upload(user, SAMPLES / name) for name in ("small_50bp_1.fq.gz", "small_50bp_2.fq.gz")]
    small = client.post("/api/samples", {"name": "small_50bp", "files": [u.pk for u in uploads]}, format="json")
    small = small.json()
    assert run_waiting_jobs() == ["complete"]
    ids = {}
    for key, sample in (("rprsv_analysis", rprsv), ("small_analysis", small)):
        response = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json")
        ids[key] = response.json()["id"]
    assert run_waiting_jobs() == ["complete", "complete"]
    patched = mocker.patch("analyses.workflows.index_reference", side_effect=AnalysisError(BROKEN))
    response = client.post(f"/api/samples/{small['id']}/analyses", {"ref_id": reference["id"]}, format="json")
    ids["failed"] = response.json()["id"]
    assert run_waiting_jobs() == ["error"]
    mocker.stop(patched)
    return {"reference": reference, "rprsv": rprsv, "small": small, **ids}


def test_overview_rows_filter_sort_failed_try_again_and_latest_calls(
    scientist, mocker, live_server_url: str, browser: Browser
) -> None:
    made = in_thread(lambda: analysed(scientist, mocker))
    cookie = in_thread(lambda: session_cookie_for(scientist))
    context, page, errors = open_page(browser, live_server_url, cookie, "/")
    expect(page.get_by_role("navigation").get_by_role("link", name="Analyses")).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name="Analyses").click()
    expect(page).to_have_url(f"{live_server_url}/analyses")

    rows = page.locator("#overview-table tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#overview-count")).to_have_text("3 analyses.")
    found = page.locator(f"tr[data-id='{made['rprsv_analysis']}']")
    expect(found.locator("[data-part=sample]")).to_have_text("rprsv_1.fq.gz")
    expect(found.locator("[data-part=workflow]")).to_have_text("PathoScope")
    expect(found.locator("[data-part=reference]")).to_have_text("Demo · index 0")
    expect(found.locator("[data-part=subtractions]")).to_have_text("None")
    expect(found.locator("[data-part=state]")).to_have_text("Ready")
    expect(found.locator("[data-part=headline] [data-call=detected]")).to_have_text([RPRSV])
    expect(found.locator("[data-part=user]")).to_have_text("ada")
    expect(found.locator("[data-part=duration]")).to_have_text(re.compile(r"^\d+ (s|min \d+ s)$"))
    nothing = page.locator(f"tr[data-id='{made['small_analysis']}']")
    expect(nothing.locator("[data-part=headline]")).to_have_text("Nothing detected")

    # The failed analysis says why, in its job's words, and offers to try again or remove it.
    failed = page.locator(f"tr[data-id='{made['failed']}']")
    expect(failed.locator("[data-part=state] .badge")).to_have_text("Failed")
    expect(failed.locator("[data-part=error]")).to_contain_text(BROKEN)
    expect(failed.get_by_role("button", name="Remove")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "analyses-overview.png"), full_page=True)

    # Filter by state, then by sample name; the address keeps the filters.
    page.get_by_label("State").select_option("failed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", made["failed"])
    expect(page).to_have_url(f"{live_server_url}/analyses?state=failed")
    page.get_by_label("State").select_option("")
    page.get_by_label("Sample", exact=True).fill("small")
    expect(rows).to_have_count(2)
    expect(page.locator("#overview-count")).to_contain_text("2 analyses. 3 in all.")
    page.get_by_label("Sample", exact=True).fill("")
    expect(rows).to_have_count(3)

    # Sort by sample: rprsv_1.fq.gz before small_50bp (newest first within it), then the reverse.
    page.get_by_label("Sort").select_option("sample")
    expect(rows.first).to_have_attribute("data-id", made["rprsv_analysis"])
    page.get_by_label("Sort").select_option("-sample")
    expect(rows.first).to_have_attribute("data-id", made["failed"])
    expect(rows.last).to_have_attribute("data-id", made["rprsv_analysis"])

    # Try again: the analysis runs again (its progress shown), and its result arrives live.
    failed.get_by_role("button", name="Try again").click()
    expect(failed.locator("[data-part=state] [role=progressbar]")).to_be_visible()
    expect(failed).to_have_attribute("data-state", "running")
    assert in_thread(run_waiting_jobs) == ["complete"]
    expect(failed).to_have_attribute("data-state", "ready", timeout=20_000)
    expect(failed.locator("[data-part=headline]")).to_have_text("Nothing detected")

    # The samples list shows each sample's latest calls, linked to the analysis.
    page.get_by_role("navigation").get_by_role("link", name="Samples").click()
    sample_rows = page.locator("#sample-table tbody tr")
    expect(sample_rows).to_have_count(2)
    calls = page.locator(f"#sample-table tr[data-id='{made['rprsv']['id']}'] [data-part=calls]")
    expect(calls.locator("[data-call=detected]")).to_have_text([RPRSV])
    expect(calls.locator("a").first).to_have_attribute(
        "href", f"/samples/{made['rprsv']['id']}/analyses/{made['rprsv_analysis']}"
    )
    small_calls = page.locator(f"#sample-table tr[data-id='{made['small']['id']}'] [data-part=calls]")
    expect(small_calls).to_have_text("Nothing detected")
    page.screenshot(path=str(SCREENSHOTS / "samples-latest-calls.png"), full_page=True)
    assert errors == []
    context.close()
