"""The HMM pages in headless Chromium on a real worker: with nothing installed the page says why NuVs needs
profiles; a release archive made from the real vFam data is dropped in, uploaded, installed by the job while the
page follows it live; the list is searched, a profile's page read, an archive without annotations refused with
its reason, and the HMMs purged after confirmation. A user without `modify_hmm` sees the data but cannot change it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import in_thread
from tests.browser.test_analyses import open_page
from tests.browser.test_uploads import drop_files, transfer_row
from tests.conftest import session_cookie_for
from tests.hmm.conftest import DATA, annotations, tar_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("VIRTOOL_SCREENSHOTS", "/tmp"))

# Records every [state, value] the install's progress bar shows, so the test can tell the page followed the job.
RECORD_INSTALL = """
window.__install = [];
new MutationObserver(() => {
  const bar = document.querySelector("#install-progress [role=progressbar]");
  if (!bar || bar.closest("[hidden]")) return;
  const entry = [bar.dataset.state || "", bar.getAttribute("aria-valuenow") || ""];
  const last = window.__install[window.__install.length - 1];
  if (!last || last[0] !== entry[0] || last[1] !== entry[1]) window.__install.push(entry);
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


@pytest.fixture
def setup(make_user) -> dict:
    ada = make_user("ada", role="full")
    reader = make_user("reader")
    return {"cookie": session_cookie_for(ada), "reader": session_cookie_for(reader)}


def release(tmp_path: Path) -> Path:
    """vthmm.tar.gz as Virtool's releases ship it: `hmm/profiles.hmm` and `hmm/annotations.json`."""
    path = tmp_path / "vthmm.tar.gz"
    path.write_bytes(
        tar_bytes(
            {
                "hmm/profiles.hmm": (DATA / "profiles.hmm").read_bytes(),
                "hmm/annotations.json": json.dumps(annotations()).encode(),
            }
        )
    )
    return path


def test_install_a_release_search_read_a_profile_and_purge(
    setup, live_server_url: str, browser: Browser, start_worker, tmp_path: Path
) -> None:
    from hmm.models import HMM

    start_worker(queues="small", concurrency=1)
    _, page, errors = open_page(browser, live_server_url, setup["cookie"], "/hmms")
    page.add_init_script(RECORD_INSTALL)
    page.reload()
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.get_by_role("link", name="HMMs", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator("#status-none")).to_contain_text("HMM profiles are not installed.")
    expect(page.locator("#status-none")).to_contain_text("until profiles are installed, a NuVs analysis cannot start")
    expect(page.locator("#list-panel")).to_be_hidden()
    expect(page.locator("#install-title")).to_have_text("Install from a release archive")

    # An archive without annotations is uploaded but refused, with the reason; nothing is installed.
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(tar_bytes({"hmm/profiles.hmm": (DATA / "profiles.hmm").read_bytes()}))
    page.locator("#archive-input").set_input_files(str(broken))
    expect(page.locator("#archive-transfers .transfer-error")).to_contain_text(
        "The archive holds no annotations.json or annotations.json.gz"
    )
    expect(page.locator("#status-none")).to_be_visible()

    # An archive that looks right but whose annotations are not: the job fails and the page says why.
    records = annotations()
    records[2]["cluster"] = "one thousand"
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(
        tar_bytes(
            {
                "hmm/profiles.hmm": (DATA / "profiles.hmm").read_bytes(),
                "hmm/annotations.json": json.dumps(records).encode(),
            }
        )
    )
    page.locator("#archive-input").set_input_files(str(bad))
    reason = (
        "The job failed during step 'Check files': The annotations file has 1 problem; nothing was installed "
        "(2.cluster: must be a whole number)"
    )
    expect(page.locator("#install-failed")).to_contain_text(f"Installing bad.tar.gz failed. {reason}", timeout=60_000)
    expect(page.locator("#archive-transfers .transfer-error")).to_have_text(reason)
    expect(page.locator("#status-none")).to_be_visible()

    # The release, dropped on the page: uploaded, installed by the job, followed live until the profiles are listed.
    archive = release(tmp_path)
    drop_files(page, [(archive.name, archive.read_bytes())])
    expect(page.locator("[data-fact=name]")).to_have_text("vthmm.tar.gz", timeout=60_000)
    expect(page.locator("#archive-transfers .transfer-state")).to_have_text("Installed")
    expect(page.locator("[data-fact=count]")).to_have_text("3")
    expect(page.locator("#install-progress")).to_be_hidden()
    expect(page.locator("#status-none")).to_be_hidden()
    expect(page.locator("#install-failed")).to_be_hidden()
    # The bar moved while the job ran (the messages of a job this small can all arrive in one go, so not every
    # step is required; a worker this fast may claim the job before the page shows it waiting).
    seen = page.evaluate("window.__install")
    assert any(state in ("preparing", "running") for state, _ in seen), seen
    rows = page.locator("#hmm-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("td:first-child")).to_have_text(["10", "100", "1000"])
    expect(rows.nth(0).locator("td").nth(2)).to_have_text("Papillomaviridae")
    expect(page.locator("#hmms-count")).to_have_text("3 profiles.")
    # Another release can be installed on demand; the current one stays until then.
    expect(page.locator("#install-section")).to_be_hidden()
    page.get_by_role("button", name="Install another release").click()
    expect(page.locator("#install-title")).to_have_text("Install another release")
    expect(page.get_by_label("Or install an uploaded archive")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "hmms.png"), full_page=True)

    # Search by name, by family and by cluster number.
    search = page.get_by_label("Search")
    search.fill("lef")
    expect(rows).to_have_count(1)
    expect(rows.locator("[data-part=name]")).to_have_text("late expression factor 11")
    search.fill("hepadnaviridae")
    expect(rows.locator("td:first-child")).to_have_text(["1000"])
    search.fill("nothing of the sort")
    expect(page.locator("#hmms-empty")).to_have_text("No profiles match the search.")
    search.fill("100")
    expect(rows.locator("td:first-child")).to_have_text(["100"])

    # A profile's page.
    rows.locator("[data-part=name]").click()
    record = next(record for record in annotations() if record["cluster"] == 100)
    expect(page).to_have_url(f"{live_server_url}/hmms/{record['id']}")
    expect(page.locator("#hmm-title")).to_have_text("late expression factor 11")
    expect(page.locator("[data-fact=cluster]")).to_have_text("100")
    expect(page.locator("[data-fact=names] .badge")).to_have_text(record["names"])
    expect(page.locator("[data-fact=length]")).to_have_text(f"{record['length']} positions")
    expect(page.locator("[data-fact=mean_entropy]")).to_have_text(str(record["mean_entropy"]))
    expect(page.locator("#hmm-families tbody tr")).to_have_text(["Baculoviridae23"])
    expect(page.locator("#entries-count")).to_have_text(str(len(record["entries"])))
    first = record["entries"][0]
    link = page.locator("#hmm-entries tbody tr").first.get_by_role("link", name=first["accession"])
    expect(link).to_have_attribute("href", f"https://www.ncbi.nlm.nih.gov/protein/{first['accession']}")
    page.screenshot(path=str(SCREENSHOTS / "hmm-detail.png"), full_page=True)

    # A reader sees the data, not the controls.
    _, reader_page, reader_errors = open_page(browser, live_server_url, setup["reader"], "/hmms")
    expect(reader_page.locator("#hmm-table tbody tr")).to_have_count(3)
    expect(reader_page.locator("#install-section")).to_be_hidden()
    expect(reader_page.locator("#hmm-purge")).to_be_hidden()

    # Purge, after confirming; the reader's page follows.
    page.goto("/hmms")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Purge HMMs").click()
    expect(page.locator("#toast")).to_have_text("HMMs purged")
    expect(page.locator("#status-none")).to_be_visible()
    expect(page.locator("#list-panel")).to_be_hidden()
    expect(reader_page.locator("#status-none")).to_be_visible()
    assert in_thread(lambda: HMM.objects.count()) == 0

    # An archive uploaded on the Uploads page is taken as HMM data, and installed from the HMM page's list.
    page.goto("/uploads")
    expect(page.locator("#file-input")).to_be_enabled()  # once the account says this user may upload
    page.locator("#file-input").set_input_files(str(archive))
    expect(transfer_row(page, "vthmm.tar.gz").locator(".transfer-state")).to_have_text("Uploaded")
    listed = page.locator("#upload-table tbody tr").filter(has=page.get_by_role("link", name="Download vthmm.tar.gz"))
    expect(listed.locator("[data-part=type]")).to_have_text("HMM")
    page.goto("/hmms")
    page.get_by_label("Or install an uploaded archive").select_option(label="vthmm.tar.gz")
    page.get_by_role("button", name="Install", exact=True).click()
    expect(page.locator("[data-fact=count]")).to_have_text("3", timeout=60_000)
    expect(page.locator("#hmm-table tbody tr")).to_have_count(3)
    expect(reader_page.locator("#hmm-table tbody tr")).to_have_count(3)
    assert errors == []
    assert reader_errors == []
