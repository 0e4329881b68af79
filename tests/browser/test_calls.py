"""Calls in headless Chromium on a real PathoScope analysis of the rprsv sample: the call badges with their reasons,
the explanations of each figure, reads as a share of the sample's, tiny weights written readably; then the call rules
and the internal control changed on the reference's settings page, and the result read again under them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import in_thread
from tests.browser.test_analyses import SCREENSHOTS, open_page
from tests.conftest import client_for, run_waiting_jobs, session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RPRSV = "Raspberry ringspot virus"
PLUM_POX = "Plum pox virus"


@pytest.fixture
def scientist(make_user, jobs_here):
    return make_user("ada", role="full")


def analysed(user) -> tuple[dict, dict, dict]:
    """The demo reference with its index, the rprsv sample and its PathoScope analysis, the jobs run here."""
    from tests.analyses.test_workflow import prepare

    client = client_for(user)
    reference, sample = prepare(client, user)
    analysis = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json").json()
    assert run_waiting_jobs() == ["complete"]
    return reference, sample, analysis


def row(page, name: str):
    return page.locator(f"#otu-table tbody.otu-group[data-name='{name}']")


def test_call_badges_reasons_and_rules_edited_on_the_reference(
    scientist, live_server_url: str, browser: Browser
) -> None:
    reference, sample, analysis = in_thread(lambda: analysed(scientist))
    cookie = in_thread(lambda: session_cookie_for(scientist))
    result_url = f"/samples/{sample['id']}/analyses/{analysis['id']}"
    context, page, errors = open_page(browser, live_server_url, cookie, result_url)

    # RpRSV first, detected; the badge's title gives the thresholds it met, the detail lists them.
    first = page.locator("#otu-table tbody.otu-group").first
    expect(first).to_have_attribute("data-name", RPRSV)
    badge = first.locator("[data-part=call] .badge")
    expect(badge).to_have_text("Detected")
    expect(badge).to_have_attribute("data-call", "detected")
    expect(badge).to_have_attribute("title", re.compile(r"NC_005266 covered [\d.]+ % ≥ 50 %"))
    expect(first.locator(".call-reason-list li")).to_contain_text([re.compile(r"reads ≥ 10")])
    expect(page.locator("#results-rules")).to_contain_text("at least 10 reads")
    expect(page.locator("#results-control")).to_be_hidden()
    # Reads, also as a share of the sample's 20,000 reads.
    reads = first.locator("[data-part=reads]")
    expect(reads).to_contain_text(re.compile(r"^[\d,]+\d+(\.\d+)?%$"))
    expect(first.locator(".otu-detail-body")).to_contain_text("of the sample's 20,000 reads")
    # Each figure explained in one sentence: the column titles and the legend.
    header = page.locator("#otu-table > thead")
    expect(header.get_by_role("columnheader", name="Weight")).to_have_attribute("title", re.compile("pi"))
    expect(header.get_by_role("columnheader", name="Median depth")).to_have_attribute("title", re.compile("median"))
    page.get_by_text("What the columns mean").click()
    legend = page.locator("#results-legend")
    for term in ("Call", "Weight", "Best hit", "Reads", "Median depth", "Coverage"):
        expect(legend.locator("dt", has_text=term).first).to_be_visible()

    # The weak hits, once shown: Plum pox virus at noise level, its tiny weight written as a number, not 0%.
    page.get_by_label("Hide weight below 0.1%").uncheck()
    page.get_by_label("Hide coverage below 20%").uncheck()
    plum = row(page, PLUM_POX)
    expect(plum.locator("[data-part=weight]")).to_have_text(re.compile(r"^\d(\.\d+)?e-\d+$"))
    expect(plum.locator("[data-part=call] .badge")).to_have_text("Not detected")
    expect(plum.locator(".call-reasons")).to_contain_text(re.compile(r"weight [\d.]+e-\d+ < 0\.001"))
    page.screenshot(path=str(SCREENSHOTS / "analysis-calls.png"), full_page=True)

    # The reference's settings: a bad rule is refused on its field; stricter coverage and Plum pox virus as the
    # internal control are saved.
    page.goto(f"/refs/{reference['id']}#settings")
    form = page.locator("#call-rules-form")
    expect(form.get_by_label("Minimum reads")).to_have_value("10")
    expect(form.get_by_label("Minimum coverage of each required segment (%)")).to_have_value("50")
    form.get_by_label("Minimum coverage of each required segment (%)").fill("150")
    form.get_by_role("button", name="Apply call rules").click()
    expect(form.locator("#rule-min-coverage")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Minimum coverage of each required segment (%)").fill("99.9")
    form.get_by_label("Internal control").fill(PLUM_POX)
    expect(page.locator("#internal-control-options option")).to_have_count(1)
    form.get_by_role("button", name="Apply call rules").click()
    expect(page.locator("#toast")).to_have_text("Call rules applied")
    saved = in_thread(lambda: client_for(scientist).get(f"/api/refs/{reference['id']}").json())
    assert saved["call_rules"]["min_coverage"] == 0.999
    assert saved["internal_control"]["name"] == PLUM_POX
    page.screenshot(path=str(SCREENSHOTS / "reference-call-rules.png"), full_page=True)

    # The same result read again: RpRSV indeterminate with the segments short of 99.9 %, the control flagged and
    # the other negatives indeterminate because of it.
    page.goto(result_url)
    first = row(page, RPRSV)
    badge = first.locator("[data-part=call] .badge")
    expect(badge).to_have_text("Indeterminate")
    expect(first.locator(".call-reasons")).to_contain_text(re.compile(r"NC_00526[67] covered [\d.]+ % < 99\.9 %"))
    control = page.locator("#results-control")
    expect(control).to_be_visible()
    expect(control).to_have_attribute("data-detected", "false")
    expect(control).to_contain_text(f"Internal control {PLUM_POX}: not detected")
    page.get_by_label("Hide weight below 0.1%").uncheck()
    page.get_by_label("Hide coverage below 20%").uncheck()
    expect(row(page, PLUM_POX).locator("[data-part=call] .badge")).to_have_text("Not detected")
    flipped = page.locator("#otu-table .call-reasons", has_text="internal control not detected")
    assert flipped.count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "analysis-calls-control.png"), full_page=True)

    # Back to the defaults from the settings page.
    page.goto(f"/refs/{reference['id']}#settings")
    page.get_by_role("button", name="Reset to defaults").click()
    expect(page.locator("#toast")).to_have_text("Call rules reset to the defaults")
    expect(page.locator("#rule-min-coverage")).to_have_value("50")
    assert errors == []
    context.close()
