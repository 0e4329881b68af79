"""The cross-sample matrix in headless Chromium: samples chosen on the samples list ("Compare selected") and by
label, the heatmap's cells (calls as colours, zeros shown as 0, the numbers on hover and focus), sorting by a
header, and the CSV download."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import in_thread
from tests.browser.test_analyses import SCREENSHOTS, open_page
from tests.conftest import session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scientist(make_user):
    return make_user("ada", role="full")


def made(user):
    from samples.models import Label
    from tests.analyses.matrix_data import synthetic_matrix

    reference, analyses = synthetic_matrix(samples=4, otus=12, user=user, present=2, noise=3, name="Field")
    label = Label.objects.create(name="Orchard", color="#2b6cb0")
    for analysis in analyses[:2]:
        analysis.sample.labels.add(label)
    return reference, [(a.sample.pk, a.sample.name, a.pk) for a in analyses], label.pk


def test_matrix_page(scientist, live_server_url: str, browser: Browser) -> None:
    _reference, samples, label_id = in_thread(lambda: made(scientist))
    cookie = in_thread(lambda: session_cookie_for(scientist))
    context, page, errors = open_page(browser, live_server_url, cookie, "/samples")

    # Chosen on the samples list: "Compare selected" opens the matrix of the selection.
    for _, name, _ in samples[:3]:
        page.get_by_label(f"Select {name}").check()
    compare = page.get_by_role("link", name="Compare selected")
    expect(compare).to_be_visible()
    compare.click()
    expect(page).to_have_url(re.compile(r"/analyses/matrix\?sample_ids="))
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Matrix")
    table = page.locator("#matrix-table")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#matrix-selection")).to_contain_text("3 selected samples")
    columns = table.locator("thead th.matrix-otu")
    count = columns.count()
    assert count >= 5
    expect(rows.first.locator("td.matrix-cell")).to_have_count(count)  # one cell per OTU: no gaps
    # Calls as colours: two detected per sample, zeros shown as 0 and white.
    expect(table.locator("td.matrix-cell.call-detected")).to_have_count(6)
    zero = table.locator("td.matrix-cell.matrix-zero").first
    expect(zero).to_have_text("0")
    assert zero.evaluate("td => getComputedStyle(td).backgroundColor") == "rgb(255, 255, 255)"
    detected = table.locator("td.matrix-cell.call-detected").first
    assert detected.evaluate("td => getComputedStyle(td).backgroundColor") != "rgb(255, 255, 255)"
    # The numbers on hover, and on focus from the keyboard.
    detected.hover()
    tip = page.locator("#matrix-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("detected")
    expect(tip).to_contain_text("Median depth")
    expect(tip).to_contain_text(re.compile(r"Coverage\s*[\d.]+ %"))
    zero.focus()
    expect(tip).to_contain_text("no reads")
    expect(tip.locator("dd").first).to_have_text("0")
    page.screenshot(path=str(SCREENSHOTS / "matrix.png"), full_page=True)

    # Sorted by clicking headers: by sample name reversed, then by an OTU column (detected first).
    names = sorted(name for _, name, _ in samples[:3])
    expect(table.locator("tbody th.matrix-sample a")).to_have_text(names)
    table.get_by_role("button", name="Sample").click()
    expect(table.locator("tbody th.matrix-sample a")).to_have_text(names[::-1])
    expect(table.locator("thead th.matrix-corner")).to_have_attribute("aria-sort", "descending")
    last = columns.nth(count - 1)
    last.locator("button").click()
    expect(last).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"sort=-"))
    calls = rows.evaluate_all(
        f"(rows) => rows.map((row) => row.querySelectorAll('td.matrix-cell')[{count - 1}].dataset.call)"
    )
    rank = {"detected": 2, "indeterminate": 1, "not detected": 0}
    assert [rank[c] for c in calls] == sorted((rank[c] for c in calls), reverse=True)

    # Filtered by label, server-side: only the labelled samples of the selection.
    page.locator("#matrix-label").select_option(str(label_id))
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(rf"label={label_id}"))
    expect(rows.first.locator(".label-chip")).to_have_text("Orchard")
    count = columns.count()  # the OTUs found in these two
    expect(rows.first.locator("td.matrix-cell")).to_have_count(count)

    # The download link carries the same choice: every sample by OTU cell.
    link = page.locator("#matrix-csv")
    expect(link).to_have_attribute("href", re.compile(rf"^/api/analyses/matrix\.csv\?.*label={label_id}"))
    with page.expect_download() as download:
        link.click()
    body = Path(download.value.path()).read_text(encoding="utf-8")
    lines = list(csv.reader(io.StringIO(body)))
    assert lines[0][:2] == ["Sample ID", "Sample"]
    assert len(lines) == 1 + 2 * count
    assert {line[0] for line in lines[1:]} <= {sample_id for sample_id, _, _ in samples[:2]}
    expect(page.locator("#matrix-xlsx")).to_have_attribute("href", re.compile(r"^/api/analyses/matrix\.xlsx\?"))

    # Nothing chosen: a hint, not an error.
    page.goto("/analyses/matrix")
    expect(page.locator("#matrix-selection")).to_contain_text("Choose a label")
    expect(page.locator("#matrix-error")).to_be_hidden()
    expect(page.locator("#matrix-section")).to_be_hidden()
    assert errors == []
    context.close()
