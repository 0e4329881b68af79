"""Analyses in headless Chromium on a real worker: start PathoScope from the sample page, watch its progress,
read the result (Raspberry ringspot virus first, its coverage chart), filter weak hits and export the CSV;
start the same analysis on several samples from the samples list."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import in_thread
from tests.conftest import SHARED, client_for, session_cookie_for, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLES = SHARED / "data" / "samples"
SCREENSHOTS = Path(os.environ.get("VIRTOOL_SCREENSHOTS", "/tmp"))
RPRSV = "Raspberry ringspot virus"
EXPORT_HEADER = ["OTU", "Isolate", "Sequence", "Length", "Weight", "Median Depth", "Coverage"]


# Records every [state, value] a progress bar shows, so a test can tell the page followed a job live.
RECORD_PROGRESS = """
window.__progress = [];
new MutationObserver((mutations) => {
  for (const mutation of mutations) {
    const node = mutation.target;
    if (node.getAttribute && node.getAttribute("role") === "progressbar" && !node.closest("#sample-status")) {
      const entry = [node.dataset.state || "", node.getAttribute("aria-valuenow") || ""];
      const last = window.__progress[window.__progress.length - 1];
      if (!last || last[0] !== entry[0] || last[1] !== entry[1]) window.__progress.push(entry);
    }
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["aria-valuenow", "data-state"] });
"""


def open_page(browser: Browser, live_server_url: str, cookie: str, path: str) -> tuple[BrowserContext, Page, list]:
    """A signed-in tab on `path`, connected to the live updates; page errors are collected."""
    context = browser.new_context(
        base_url=live_server_url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server_url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    context.add_init_script(RECORD_PROGRESS)
    page.goto(path)
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    return context, page, errors


def wait_for_jobs(timeout: float = 180) -> None:
    """Every job finished, and finished well."""
    from jobs.models import Job

    wait_for(lambda: not Job.objects.exclude(state__in=["complete", "error", "cancelled"]).exists(), timeout=timeout)
    states = set(Job.objects.values_list("state", flat=True))
    assert states == {"complete"}, [job.status[-1] for job in Job.objects.exclude(state="complete")]


def prepare(user, *, samples: dict[str, tuple[str, ...]]) -> tuple[dict, dict[str, dict]]:
    """Import the demo reference, build its index and create the samples through the API; the worker runs it all."""
    from tests.references.conftest import DEMO, make_reference_upload
    from tests.samples.test_api import make_upload

    client = client_for(user)
    upload = make_reference_upload(user, source=DEMO)
    reference = client.post("/api/refs", {"import_from": upload.pk, "name": "Demo"}, format="json").json()
    wait_for_jobs()
    assert client.post(f"/api/refs/{reference['id']}/indexes").status_code == 201
    created = {}
    for name, reads in samples.items():
        uploads = [make_upload(user, SAMPLES / read) for read in reads]
        response = client.post("/api/samples", {"name": name, "files": [u.pk for u in uploads]}, format="json")
        assert response.status_code == 201, response.json()
        created[name] = response.json()
    wait_for_jobs()
    return reference, created


@pytest.fixture
def scientist(make_user):
    return make_user("ada", role="full")


def test_start_an_analysis_on_the_sample_page_watch_it_and_read_the_result(
    scientist, live_server_url: str, browser: Browser, start_worker
) -> None:
    from analyses.models import Analysis

    start_worker(queues="small,large", concurrency=2, VIRTOOL_PROC="2", VIRTOOL_LG_PROC="2")
    reference, samples = in_thread(lambda: prepare(scientist, samples={"RpRSV": ("rprsv_1.fq.gz", "rprsv_2.fq.gz")}))
    sample = samples["RpRSV"]
    cookie = in_thread(lambda: session_cookie_for(scientist))
    context, page, errors = open_page(browser, live_server_url, cookie, f"/samples/{sample['id']}")

    # The sample page: no analyses yet; the start form offers the demo reference with its ready index.
    section = page.locator("#analyses-section")
    expect(section.get_by_role("heading", name="Analyses")).to_be_visible()
    expect(page.locator("#analyses-empty")).to_have_text("No analyses yet.")
    section.get_by_role("button", name="Start analysis").click()
    expect(page.get_by_label("Reference")).to_have_value(reference["id"])
    expect(page.locator("#analysis-ref option")).to_have_text(["Demo (index 0)"])
    expect(page.locator("#analysis-subtractions-empty")).to_be_visible()
    page.locator("#analysis-start").click()
    expect(page.locator("#toast")).to_have_text("Analysis started")

    # The new analysis is listed with its job's progress, live, until it is ready; a second tab on the result page
    # follows it too and loads the results when they are ready.
    item = page.locator("#analyses-list .analysis-item")
    expect(item).to_have_count(1)
    expect(item.locator(".analysis-ref")).to_have_text("Demo · index 0")
    analysis_id = item.get_attribute("data-id")
    assert analysis_id == in_thread(lambda: Analysis.objects.get().pk)
    result_url = f"/samples/{sample['id']}/analyses/{analysis_id}"
    watcher = context.new_page()
    watcher.goto(result_url)
    expect(watcher.locator("#results-section")).to_be_visible(timeout=180_000)
    expect(item).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(item.locator(".badge.ok")).to_have_text("Ready")
    page.screenshot(path=str(SCREENSHOTS / "sample-analyses.png"), full_page=True)
    seen = page.evaluate("window.__progress")
    assert seen[0] == ["waiting", "0"], seen
    assert any(state == "running" and 0 < int(value) < 100 for state, value in seen), seen
    watched = watcher.evaluate("window.__progress")
    assert watched, "the result page showed no progress"
    assert watched[-1][0] in ("running", "complete"), watched
    expect(watcher.locator("#otu-table tbody.otu-group").first).to_have_attribute("data-name", RPRSV)
    watcher.close()

    item.get_by_role("link", name="PathoScope", exact=True).click()
    expect(page).to_have_url(f"{live_server_url}{result_url}")
    expect(page.locator("#analysis-title")).to_have_text("PathoScope · RpRSV")
    expect(page.locator("#results-section")).to_be_visible()
    expect(page.locator("#analysis-progress")).to_be_hidden()

    # The header: sample, reference and index, subtractions, read counts.
    facts = page.locator("#analysis-facts")
    expect(facts.get_by_role("link", name="RpRSV")).to_be_visible()
    expect(facts.get_by_role("link", name="Demo")).to_have_attribute("href", f"/refs/{reference['id']}")
    expect(facts).to_contain_text("index 0")
    expect(page.locator("[data-fact=subtracted_count]")).to_have_text("0")
    results = in_thread(lambda: Analysis.objects.get().results)
    expect(page.locator("[data-fact=read_count]")).to_have_text(f"{results['read_count']:,}")

    # Detected OTUs sorted by weight: Raspberry ringspot virus first, opened, its best isolate's segments drawn side
    # by side in one coverage chart.
    first = page.locator("#otu-table tbody.otu-group").first
    expect(first).to_have_attribute("data-name", RPRSV)
    weight = first.locator("[data-part=weight]").inner_text()
    assert re.fullmatch(r"\d+(\.\d+)?%", weight), weight
    assert float(weight[:-1]) > 90, weight
    expect(first.locator(".otu-toggle")).to_have_attribute("aria-expanded", "true")
    chart = first.locator(".isolate-block").first.locator("svg[data-chart=coverage]")
    expect(chart).to_be_visible()
    expect(chart.locator(".coverage-segment")).to_have_count(2)
    expect(chart.locator("path.coverage-area")).to_have_count(2)
    expect(chart.locator(".segment-label")).to_contain_text(["NC_005266", "NC_005267"])
    expect(first.locator(".sequence-table tbody tr").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "analysis-result.png"), full_page=True)

    # The evidence behind the hit: the reads the EM assigned to RpRSV and its best isolate's consensus.
    otu_id = first.get_attribute("data-otu")
    base = f"/api/analyses/{analysis_id}/otus/{otu_id}"
    evidence = first.locator("[data-part=evidence]")
    assigned = results["evidence"]["otus"][otu_id]["reads"]
    expect(evidence.locator("[data-download=reads]")).to_have_attribute("href", f"{base}/reads.fq.gz")
    expect(evidence.locator("[data-download=reads]")).to_have_text(f"assigned reads ({assigned:,}, FASTQ)")
    expect(evidence.locator("[data-download=consensus]")).to_have_attribute("href", f"{base}/consensus.fa")
    with page.expect_download() as download_info:
        evidence.locator("[data-download=consensus]").click()
    consensus = Path(download_info.value.path()).read_text()
    assert download_info.value.suggested_filename.endswith("_consensus.fa")
    headers = {line.split()[0] for line in consensus.splitlines() if line.startswith(">")}
    assert headers == {">NC_005266_consensus", ">NC_005267_consensus"}

    # Collapsing and expanding an OTU.
    first.locator(".otu-toggle").click()
    expect(first.locator(".otu-detail")).to_be_hidden()
    first.locator(".otu-toggle").click()
    expect(chart).to_be_visible()

    # The weak-hit filters are on by default; switching them off shows every detected OTU.
    hits = len(in_thread(lambda: _formatted_hits(analysis_id)))
    shown = page.locator("#otu-table tbody.otu-group").count()
    page.get_by_label("Hide weight below 0.1%").uncheck()
    page.get_by_label("Hide coverage below 20%").uncheck()
    expect(page.locator("#otu-table tbody.otu-group")).to_have_count(hits)
    assert shown <= hits
    expect(page.locator("#results-count")).to_have_text(
        f"{hits} of {hits} detected OTU{'s' if hits != 1 else ''} shown."
    )

    # The CSV export is a download with Virtool's columns, one row per sequence, RpRSV's segments in it.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"RpRSV_{analysis_id}.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert rows[0] == EXPORT_HEADER
    assert {row[2] for row in rows[1:] if row[0] == RPRSV} >= {"NC_005266", "NC_005267"}
    expect(page.get_by_role("link", name="Export XLSX")).to_have_attribute(
        "href", f"/api/analyses/documents/{analysis_id}.xlsx"
    )

    # Back on the sample page the analysis is ready; it can be deleted.
    page.locator("#analysis-back").click()
    item = page.locator("#analyses-list .analysis-item")
    expect(item).to_have_attribute("data-ready", "true")
    expect(item.locator(".badge.ok")).to_have_text("Ready")
    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name=f"Delete analysis {analysis_id}").click()
    expect(page.locator("#analyses-empty")).to_be_visible()
    assert in_thread(lambda: Analysis.objects.count()) == 0
    assert errors == []
    context.close()


def _formatted_hits(analysis_id: str) -> list:
    from analyses.formatting import format_pathoscope
    from analyses.models import Analysis

    return format_pathoscope(Analysis.objects.get(pk=analysis_id))["hits"]


def test_start_the_same_analysis_on_selected_samples_from_the_list(
    scientist, live_server_url: str, browser: Browser, start_worker
) -> None:
    from analyses.models import Analysis

    start_worker(queues="small,large", concurrency=2, VIRTOOL_PROC="2", VIRTOOL_LG_PROC="2")
    reads = ("small_50bp_1.fq.gz", "small_50bp_2.fq.gz")
    _, samples = in_thread(lambda: prepare(scientist, samples={"S1": reads, "S2": reads, "S3": reads}))
    cookie = in_thread(lambda: session_cookie_for(scientist))
    context, page, errors = open_page(browser, live_server_url, cookie, "/samples")

    expect(page.locator("#sample-table tbody tr")).to_have_count(3)
    expect(page.locator("#selection-bar")).to_be_hidden()
    page.get_by_label("Select S1").check()
    page.get_by_label("Select S3").check()
    expect(page.locator("#selection-count")).to_have_text("2 samples selected: S1, S3")
    page.get_by_role("button", name="Analyze selected").click()
    expect(page.locator("#bulk-ref option")).to_have_text(["Demo (index 0)"])
    # Each sample keeps its own default subtractions unless the user chooses some for all of them.
    expect(page.locator("#bulk-own-defaults")).to_be_checked()
    expect(page.locator("#bulk-form fieldset[data-field=subtractions]")).to_have_attribute("disabled", "")
    page.screenshot(path=str(SCREENSHOTS / "samples-analyze-selected.png"), full_page=True)
    page.get_by_role("button", name="Start analyses").click()
    expect(page.locator("#bulk-result")).to_contain_text("Started 2 analyses")
    expect(page.locator("#selection-bar")).to_be_hidden()
    started = in_thread(lambda: sorted(Analysis.objects.values_list("sample__name", flat=True)))
    assert started == ["S1", "S3"]

    # Each link opens a result page that follows the analysis; the negative control finds nothing.
    page.locator("#bulk-result").get_by_role("link", name="S1").click()
    expect(page.locator("#analysis-title")).to_have_text("PathoScope · S1")
    expect(page.locator("#results-empty")).to_have_text("No known virus was detected in this sample.", timeout=180_000)
    assert samples["S2"]["id"] not in in_thread(lambda: list(Analysis.objects.values_list("sample_id", flat=True)))
    assert errors == []
    context.close()
