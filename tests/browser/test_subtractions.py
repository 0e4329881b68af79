"""Subtraction pages in headless Chromium on a real worker: upload a host FASTA on the create form, watch the
subtraction get ready, read its count, composition and files, rename it, make it a sample's default subtraction,
see deletion refused while the sample uses it, then delete it; a file that is not FASTA fails with its reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import in_thread
from tests.browser.test_analyses import open_page
from tests.conftest import session_cookie_for
from tests.subtractions.test_subtractions import genome

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("VIRTOOL_SCREENSHOTS", "/tmp"))


@pytest.fixture
def setup(make_user) -> dict:
    from samples.models import Sample

    ada = make_user("ada", role="full")
    sample = Sample.objects.create(name="S1", user=ada, ready=True)
    return {"cookie": session_cookie_for(ada), "sample": sample.pk}


def test_create_a_subtraction_link_it_to_a_sample_and_delete_it(
    setup, live_server_url: str, browser: Browser, start_worker, tmp_path: Path
) -> None:
    from files.models import Upload
    from subtractions.models import Subtraction

    start_worker()
    fasta = tmp_path / "vitis_vinifera.fa"
    fasta.write_bytes(genome())
    context, page, errors = open_page(browser, live_server_url, setup["cookie"], "/subtractions")
    expect(page.get_by_role("link", name="Subtractions", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator("#subtractions-empty")).to_have_text("No subtractions yet.")

    # The create form: a FASTA uploaded right there is selected and names the subtraction.
    page.get_by_role("button", name="Create subtraction").click()
    page.locator("#subtraction-file").set_input_files(str(fasta))
    expect(page.locator("#subtraction-transfers .transfer-state")).to_have_text("Uploaded")
    expect(page.get_by_label("Uploaded file")).to_have_value(str(in_thread(lambda: Upload.objects.get().pk)))
    expect(page.get_by_label("Name", exact=True)).to_have_value("vitis vinifera")
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#create-form .field:has(#subtraction-name) .field-error")).to_have_text("A name is required.")
    page.get_by_label("Name", exact=True).fill("Vitis vinifera")
    page.get_by_label("Nickname", exact=True).fill("grape")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#create-section")).to_be_hidden()

    # The row follows its job and turns ready.
    row = page.locator("#subtraction-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-ready", "true", timeout=60_000)
    expect(row.locator("td").nth(2)).to_have_text("3")
    subtraction_id = in_thread(lambda: Subtraction.objects.get().pk)

    # The detail page: count, composition, files, no linked samples; rename.
    row.get_by_role("link", name="Vitis vinifera").click()
    expect(page).to_have_url(f"{live_server_url}/subtractions/{subtraction_id}")
    expect(page.locator("#subtraction-title")).to_have_text("Vitis vinifera")
    expect(page.locator("[data-fact=count]")).to_have_text("3")
    gc = in_thread(lambda: Subtraction.objects.get().gc)
    expect(page.locator("[data-gc=a]")).to_have_text(f"{gc['a'] * 100:.1f}%")
    expect(page.locator("#subtraction-files").get_by_role("link", name="subtraction.fa.gz")).to_have_attribute(
        "href", f"/api/subtractions/{subtraction_id}/files/subtraction.fa.gz"
    )
    expect(page.locator("#linked-empty")).to_be_visible()
    page.get_by_label("Nickname", exact=True).fill("Grapevine")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#toast")).to_have_text("Saved")
    expect(page.locator("#subtraction-nickname")).to_have_text("Grapevine")
    page.screenshot(path=str(SCREENSHOTS / "subtraction-detail.png"), full_page=True)

    # Make it the sample's default subtraction on the sample page.
    page.goto(f"/samples/{setup['sample']}")
    defaults = page.locator("#default-subtractions")
    defaults.get_by_role("checkbox", name="Vitis vinifera").check()
    page.get_by_role("button", name="Save subtractions").click()
    expect(page.locator("#toast")).to_have_text("Default subtractions saved")
    assert in_thread(lambda: list(Subtraction.objects.get().samples.values_list("name", flat=True))) == ["S1"]
    # The start form selects the sample's default subtractions; without a built reference it cannot start.
    page.get_by_role("button", name="Start analysis").click()
    expect(page.locator("#analysis-subtractions").get_by_role("checkbox", name="Vitis vinifera")).to_be_checked()
    expect(page.locator("#analysis-ref option")).to_have_text(["No reference has a ready index"])
    expect(page.locator("#analysis-start")).to_be_disabled()

    # Deleting is refused while the sample uses it; the API's reason is shown.
    page.goto(f"/subtractions/{subtraction_id}")
    expect(page.locator("#linked-samples").get_by_role("link", name="S1")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete subtraction").click()
    expect(page.locator("#delete-error")).to_have_text(
        "Subtraction is linked to samples: S1. Remove it from the linked samples' default subtractions first."
    )

    # Unlinked, it can be deleted.
    page.goto(f"/samples/{setup['sample']}")
    defaults.get_by_role("checkbox", name="Vitis vinifera").uncheck()
    page.get_by_role("button", name="Save subtractions").click()
    expect(page.locator("#toast")).to_have_text("Default subtractions saved")
    page.goto(f"/subtractions/{subtraction_id}")
    expect(page.locator("#linked-empty")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete subtraction").click()
    expect(page).to_have_url(f"{live_server_url}/subtractions")
    expect(page.locator("#toast")).to_have_text("Deleted Vitis vinifera")
    expect(page.locator("#subtractions-empty")).to_be_visible()
    assert in_thread(lambda: Subtraction.objects.count()) == 0

    # A file that is not FASTA: the creation fails and says why.
    bad = tmp_path / "notes.fa"
    bad.write_text("this is not a FASTA file\n")
    page.get_by_role("button", name="Create subtraction").click()
    page.locator("#subtraction-file").set_input_files(str(bad))
    expect(page.locator("#subtraction-transfers .transfer-state")).to_have_text("Uploaded")
    page.get_by_label("Name", exact=True).fill("Broken")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#subtractions-failed")).to_contain_text("Creating Broken failed", timeout=60_000)
    expect(page.locator("#subtractions-failed").get_by_role("link", name="See the job")).to_be_visible()
    assert errors == []
    context.close()
