"""The references pages in headless Chromium: import a reference file with live progress, edit a sequence, see the
change and its diff in the history, revert it, build an index with live progress; a bad file lists its problems."""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import in_thread
from tests.conftest import session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFERENCES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "references"
DEMO = REFERENCES / "demo-plant-viruses.json.gz"
SCREENSHOTS = Path(os.environ.get("VIRTOOL_SCREENSHOTS", "/tmp"))

# Hop latent virus: its default isolate (unnamed, the third of three) and its one sequence.
OTU_ID = "b67008d3"
SEQUENCE_ID = "ixnaodb8"
SEP = "\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}"  # between the parts of a field path in a diff


def open_page(browser: Browser, live_server_url: str, cookie: str, path: str) -> tuple[BrowserContext, Page, list]:
    """A signed-in tab on `path`, connected to the live updates; page errors are collected."""
    context = browser.new_context(base_url=live_server_url, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server_url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path)
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    return context, page, errors


def demo_sequence() -> str:
    """The demo reference's sequence that the test edits."""
    document = json.loads(gzip.decompress(DEMO.read_bytes()))
    otu = next(otu for otu in document["otus"] if otu["_id"] == OTU_ID)
    return next(s["sequence"] for i in otu["isolates"] for s in i["sequences"] if s["_id"] == SEQUENCE_ID)


def import_demo(page: Page) -> Page:
    """Import the demo reference through the list page's form; returns the reference's row once it is ready."""
    page.get_by_role("button", name="Create reference").click()
    page.get_by_role("link", name="Import a file").click()
    page.get_by_label("Reference file", exact=True).set_input_files(str(DEMO))
    expect(page.locator("#import-transfer-text")).to_have_text(
        f"{DEMO.name} uploaded. Import it to create the reference.", timeout=30_000
    )
    expect(page.get_by_label("Name", exact=True).locator("visible=true")).to_have_value("demo-plant-viruses")
    page.locator("#import-name").fill("Plant viruses")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#create-section")).to_be_hidden()
    row = page.locator("#refs-list .ref-item").filter(has=page.get_by_role("link", name="Plant viruses"))
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-ready", "true", timeout=60_000)
    expect(row).to_contain_text("24 OTUs")
    return row


def test_import_edit_a_sequence_see_and_revert_it_in_the_history_and_build(
    live_server_url: str, browser: Browser, make_user, start_worker
) -> None:
    from otus.models import Sequence

    start_worker()
    original = demo_sequence()
    cookie = in_thread(lambda: session_cookie_for(make_user("ada", role="full")))
    context, page, errors = open_page(browser, live_server_url, cookie, "/refs")
    expect(page.get_by_role("heading", level=1)).to_have_text("References")
    expect(page.get_by_role("link", name="References")).to_have_attribute("aria-current", "page")
    expect(page.locator("#refs-empty")).to_be_visible()

    row = import_demo(page)
    page.screenshot(path=str(SCREENSHOTS / "references-list.png"), full_page=True)

    # The reference page lists the OTUs with their verification and finds them by name.
    row.get_by_role("link", name="Plant viruses").click()
    expect(page.locator("#ref-title")).to_have_text("Plant viruses")
    ref_url = page.url.split("#")[0]
    expect(page.locator("#otus-table tbody tr")).to_have_count(24)
    expect(page.locator("#otus-table .badge.ok")).to_have_count(24)
    page.get_by_label("Find").fill("hop lat")
    expect(page.locator("#otus-table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Hop latent virus").click()

    # The OTU page: isolates, the default one selected, its sequence with its segment.
    expect(page).to_have_url(re.compile(rf"/refs/[^/]+/otus/{OTU_ID}$"))
    expect(page.locator("#otu-title")).to_have_text("Hop latent virus")
    expect(page.locator("#otu-verified")).to_have_text("Verified")
    expect(page.locator("#isolate-list .isolate-item")).to_have_count(3)
    expect(page.locator("#isolate-title")).to_have_text("Unnamed Isolate")
    expect(page.locator("#isolate-list [aria-current=true]")).to_contain_text("Default")
    item = page.locator(f".sequence-item[data-id='{SEQUENCE_ID}']")
    expect(item.locator("[data-part=segment]")).to_have_text("Segment Genome")
    expect(page.locator("#otu-fasta")).to_have_attribute("href", f"/api/otus/{OTU_ID}.fa")

    # Edit the sequence: a letter that is not a nucleotide is refused next to the field, then a real edit saves.
    item.get_by_role("button", name=re.compile("^Edit ")).click()
    form = page.locator(f"form.sequence-form[data-sequence-id='{SEQUENCE_ID}']")
    sequence_box = form.get_by_label("Sequence", exact=True)
    expect(sequence_box).to_have_value(original)
    edited = "CCCC" + original[4:]
    sequence_box.fill("CCCJ" + original[4:])
    form.get_by_role("button", name="Save sequence").click()
    expect(form.locator(".field:has(textarea) .field-error")).to_contain_text("IUPAC")
    expect(sequence_box).to_have_attribute("aria-invalid", "true")
    sequence_box.fill(edited)
    form.get_by_label("Definition").fill("Hop latent virus, complete genome (edited)")
    form.get_by_role("button", name="Save sequence").click()
    expect(page.locator("#toast")).to_contain_text("Saved")
    expect(item.locator("[data-part=sequence]")).to_contain_text("CCCC" + original[4:20])
    expect(item.locator("[data-part=definition]")).to_have_text("Hop latent virus, complete genome (edited)")
    assert in_thread(lambda: Sequence.objects.get(pk=SEQUENCE_ID).sequence) == edited

    # The OTU's history shows the change first, and its diff names the fields with before and after.
    change = page.locator("#otu-history .change").first
    expect(change).to_have_attribute("data-method", "edit_sequence")
    change.get_by_role("button", name="Show diff").click()
    diff = change.locator(".diff-table")
    expect(diff.locator("tbody tr")).to_have_count(3)
    expect(diff.locator("tr[data-path=version] td")).to_have_text(["0", "1"])
    sequence_row = diff.locator("tr[data-path='isolates.2.sequences.0.sequence']")
    expect(sequence_row.locator("th")).to_have_text(f"Changed Isolate 3 {SEP} Sequence 1 {SEP} Sequence")
    expect(sequence_row.locator("td[data-side=before] mark")).to_have_text(original[:4])
    expect(sequence_row.locator("td[data-side=after] mark")).to_have_text("CCCC")
    definition_row = diff.locator("tr[data-path='isolates.2.sequences.0.definition']")
    expect(definition_row.locator("td[data-side=before]")).to_have_text("Hop latent virus, complete genome")
    expect(definition_row.locator("td[data-side=after]")).to_have_text("Hop latent virus, complete genome (edited)")
    page.screenshot(path=str(SCREENSHOTS / "otu-detail.png"), full_page=True)

    # The reference's history shows it too, newest first; revert it there.
    page.goto(f"{ref_url}#history")
    history = page.locator("#history-list .change")
    expect(history.first).to_have_attribute("data-method", "edit_sequence")
    expect(history.first).to_contain_text("Hop latent virus")
    expect(history.first.locator(".badge", has_text="Unbuilt")).to_be_visible()
    history.first.get_by_role("button", name="Show diff").click()
    expect(history.first.locator(".diff-table tbody tr")).to_have_count(3)
    page.screenshot(path=str(SCREENSHOTS / "reference-history.png"), full_page=True)
    history.first.get_by_role("button", name="Revert").click()
    history.first.get_by_role("alertdialog").get_by_role("button", name="Revert").click()
    expect(page.locator("#toast")).to_contain_text("Reverted")
    expect(history.first).not_to_have_attribute("data-method", "edit_sequence")
    assert in_thread(lambda: Sequence.objects.get(pk=SEQUENCE_ID).sequence) == original

    # Back on the OTU page the sequence is as it was.
    page.goto(f"{ref_url}/otus/{OTU_ID}")
    expect(item.locator("[data-part=sequence]")).to_have_text(original[:90] + "…")
    expect(item.locator("[data-part=definition]")).to_have_text("Hop latent virus, complete genome")
    expect(page.locator("#otu-history .change").first).to_have_attribute("data-method", "import")

    # Build an index from the page and follow it until it is ready; then changes are built and cannot be reverted.
    page.goto(f"{ref_url}#indexes")
    page.get_by_role("button", name="Build index").click()
    index_row = page.locator("#indexes-table tbody tr[data-version='0']")
    expect(index_row).to_have_count(1)
    expect(index_row).to_have_attribute("data-ready", "true", timeout=90_000)
    expect(index_row.locator("[data-part=state]")).to_have_text("Ready")
    expect(page.locator("#ref-status")).to_have_text("Latest index: version 0")
    index_row.get_by_role("button", name="Files").click()
    expect(page.locator(".index-files a", has_text="reference.fa.gz")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "reference-indexes.png"), full_page=True)
    page.get_by_role("button", name="Build index").click()
    expect(page.locator("#build-problem")).to_contain_text("Cannot build")

    page.get_by_role("link", name=re.compile("^History")).click()
    expect(history.first.locator(".change-index")).to_have_text("Built in index 0")
    expect(page.locator("#history-list").get_by_role("button", name="Revert")).to_have_count(0)

    # Clone it from the list page.
    page.goto("/refs")
    page.get_by_role("button", name="Create reference").click()
    page.get_by_role("link", name="Clone").click()
    page.get_by_label("Reference to clone").select_option(label="Plant viruses")
    page.locator("#clone-name").fill("Plant viruses (copy)")
    page.get_by_role("button", name="Clone", exact=True).click()
    clone = page.locator("#refs-list .ref-item").filter(has=page.get_by_role("link", name="Plant viruses (copy)"))
    expect(clone).to_have_attribute("data-ready", "true", timeout=60_000)
    expect(clone).to_contain_text("24 OTUs")
    assert errors == []
    context.close()


def test_a_bad_reference_file_lists_every_problem_and_creates_nothing(
    live_server_url: str, browser: Browser, make_user, tmp_path: Path
) -> None:
    from references.models import Reference

    document = json.loads(gzip.decompress(DEMO.read_bytes()))
    document["otus"][1]["name"] = document["otus"][0]["name"]
    document["otus"][2]["isolates"][0]["sequences"][0]["sequence"] = "ACGTA"
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(gzip.compress(json.dumps(document).encode()))

    cookie = in_thread(lambda: session_cookie_for(make_user("ada", role="full")))
    context, page, errors = open_page(browser, live_server_url, cookie, "/refs#import")
    expect(page.locator("#create-import-form")).to_be_visible()
    page.get_by_label("Reference file", exact=True).set_input_files(str(bad))
    expect(page.locator("#import-transfer-text")).to_have_text(
        "bad.json.gz uploaded. Import it to create the reference."
    )
    page.get_by_role("button", name="Import", exact=True).click()
    problems = page.locator("#import-problems")
    expect(problems).to_be_visible()
    expect(page.locator("#import-problems-title")).to_contain_text("problem")
    expect(page.locator("#import-problems-list li")).to_have_count(2)
    expect(problems).to_contain_text(document["otus"][0]["name"])
    page.screenshot(path=str(SCREENSHOTS / "references-bad-import.png"), full_page=True)
    assert in_thread(lambda: Reference.objects.count()) == 0
    assert errors == []
    context.close()


def test_create_an_empty_reference_add_an_otu_and_manage_members(
    live_server_url: str, browser: Browser, make_user
) -> None:
    from references.models import Reference

    def world():
        ada = make_user("ada", role="full")
        bo = make_user("bo")
        return session_cookie_for(ada), bo.pk

    cookie, bo_id = in_thread(world)
    context, page, errors = open_page(browser, live_server_url, cookie, "/refs")

    page.get_by_role("button", name="Create reference").click()
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#create-empty-form .field-error")).to_have_text("A name is required.")
    page.locator("#empty-name").fill("Fungi")
    page.locator("#empty-organism").fill("fungus")
    page.get_by_role("button", name="Create", exact=True).click()
    page.get_by_role("link", name="Fungi").click()
    expect(page.locator("#ref-title")).to_have_text("Fungi")
    expect(page.locator("#otus-empty")).to_have_text("This reference has no OTUs yet.")

    # Add an OTU; a duplicate name is refused next to the name field.
    add_form = page.locator("#add-otu-form")
    page.get_by_role("button", name="Add OTU").click()
    add_form.get_by_label("Name", exact=True).fill("Botrytis virus X")
    add_form.get_by_label("Abbreviation").fill("BVX")
    add_form.get_by_label("Segments").fill("RNA1, RNA2")
    add_form.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#otus-table tbody tr")).to_have_count(1)
    expect(page.locator("#otus-table .badge.off")).to_have_text("Unverified")
    page.get_by_role("button", name="Add OTU").click()
    add_form.get_by_label("Name", exact=True).fill("Botrytis virus X")
    add_form.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#add-otu-form .field:has(#otu-name) .field-error")).to_have_text("Name already exists")

    # The OTU page: rename it and edit its schema, then isolates and sequences with their segments.
    page.get_by_role("link", name="Botrytis virus X").click()
    expect(page.locator("#otu-title")).to_have_text("Botrytis virus X")
    expect(page.locator("#otu-issues")).to_contain_text("It has no isolates.")
    general = page.locator("#otu-form")
    general.get_by_label("Abbreviation").fill("BotVX")
    page.get_by_role("button", name="Add segment").click()
    page.locator("#schema-table tbody tr").nth(2).get_by_label("Segment name").fill("RNA3")
    general.get_by_role("button", name="Save").click()
    expect(page.locator("#otu-abbreviation")).to_have_text("(BotVX)")
    expect(page.locator("#schema-table tbody tr")).to_have_count(3)

    page.get_by_role("button", name="Add isolate").click()
    isolate_form = page.locator("#add-isolate-form")
    isolate_form.get_by_label("Source type").fill("isolate")
    isolate_form.get_by_label("Source name").fill("A1")
    isolate_form.get_by_role("button", name="Add isolate").click()
    expect(page.locator("#isolate-title")).to_have_text("Isolate A1")
    expect(page.locator("#isolate-list [aria-current=true]")).to_contain_text("Default")

    page.get_by_role("button", name="Add sequence").click()
    new_sequence = page.locator("form.sequence-form[data-sequence-id=new]")
    new_sequence.get_by_role("button", name="Add sequence").click()
    expect(new_sequence.locator(".field:has([name=accession]) .field-error")).to_have_text("An accession is required.")
    new_sequence.get_by_label("Accession").fill("BVX001")
    new_sequence.get_by_label("Segment").select_option("RNA2")
    new_sequence.get_by_label("Definition").fill("Botrytis virus X segment RNA2")
    new_sequence.get_by_label("Sequence", exact=True).fill("acgtacgtacgtacgtacgt")
    new_sequence.get_by_role("button", name="Add sequence").click()
    added = page.locator(".sequence-item").filter(has_text="BVX001")
    expect(added.locator("[data-part=segment]")).to_have_text("Segment RNA2")
    expect(added.locator("[data-part=sequence]")).to_have_text("ACGTACGTACGTACGTACGT")
    expect(page.locator("#otu-verified")).to_have_text("Verified")

    # A second isolate becomes the default, the first is renamed, then removed.
    page.get_by_role("button", name="Add isolate").click()
    isolate_form.get_by_label("Source type").fill("strain")
    isolate_form.get_by_label("Source name").fill("B2")
    isolate_form.get_by_role("button", name="Add isolate").click()
    expect(page.locator("#isolate-title")).to_have_text("Strain B2")
    page.get_by_role("button", name="Set as default").click()
    expect(page.locator("#isolate-list [aria-current=true]")).to_contain_text("Default")
    page.locator("#isolate-list .isolate-item", has_text="Isolate A1").click()
    page.get_by_role("button", name="Rename").click()
    page.locator("#isolate-form").get_by_label("Source name").fill("A1-renamed")
    page.get_by_role("button", name="Save isolate").click()
    expect(page.locator("#isolate-title")).to_have_text("Isolate A1-renamed")
    page.get_by_role("button", name="Remove isolate").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Remove").click()
    expect(page.locator("#isolate-list .isolate-item")).to_have_count(1)
    expect(page.locator("#isolate-title")).to_have_text("Strain B2")
    methods = page.locator("#otu-history .change")
    expect(methods.first).to_have_attribute("data-method", "remove_isolate")
    expect(methods).to_have_count(8)
    page.get_by_role("link", name="← Fungi").click()

    # Members: add bo, give and take rights, remove.
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Add user").select_option(str(bo_id))
    page.get_by_role("button", name="Add user").click()
    row = page.locator(f"#users-table tbody tr[data-id='{bo_id}']")
    expect(row).to_have_count(1)
    expect(row.get_by_role("checkbox", name="Modify OTUs: bo")).to_be_checked()
    row.get_by_role("checkbox", name="Build: bo").check()
    expect(page.locator("#toast")).to_contain_text("Build granted to bo")
    reference = in_thread(lambda: Reference.objects.get(name="Fungi"))
    assert in_thread(lambda: reference.members.get(user_id=bo_id).build) is True
    page.locator(f"#users-table tbody tr[data-id='{bo_id}']").get_by_role("button", name="Remove bo").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Remove").click()
    expect(page.locator(f"#users-table tbody tr[data-id='{bo_id}']")).to_have_count(0)
    expect(page.locator("#users-table tbody tr")).to_have_count(1)  # ada, who created it

    # Settings: rename, then delete.
    page.get_by_role("link", name="Settings").click()
    page.locator("#ref-name").fill("Fungal viruses")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#ref-title")).to_have_text("Fungal viruses")
    page.get_by_role("button", name="Delete reference").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(page).to_have_url(f"{live_server_url}/refs")
    expect(page.locator("#refs-empty")).to_be_visible()
    assert in_thread(lambda: Reference.objects.count()) == 0
    assert errors == []
    context.close()


def test_the_counter_counts_a_new_reference_at_once_and_old_toasts_stay_away(
    live_server_url: str, browser: Browser, make_user
) -> None:
    cookie = in_thread(lambda: session_cookie_for(make_user("cura", permissions=["create_ref"])))
    context, page, errors = open_page(browser, live_server_url, cookie, "/refs")
    expect(page.locator("#refs-count")).to_have_text("0 references")
    # A message left for "the next page" by a navigation that never happened, a minute ago, is not shown.
    page.evaluate(
        """() => sessionStorage.setItem(
            "virtool.toast", JSON.stringify({message: "Deleted S1", at: Date.now() - 60000})
        )"""
    )
    page.reload()
    expect(page.locator("#refs-count")).to_have_text("0 references")
    expect(page.locator("#toast")).not_to_have_text("Deleted S1")
    page.get_by_role("button", name=re.compile("Create|New reference")).first.click()
    form = page.locator("#create-empty-form")
    form.get_by_label("Name").fill("Local viruses")
    form.get_by_role("button", name=re.compile("Create|Save")).click()
    expect(page.locator("#refs-list")).to_contain_text("Local viruses")
    expect(page.locator("#refs-count")).to_have_text("1 reference")
    assert errors == []
    context.close()
