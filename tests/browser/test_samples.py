"""The samples pages in headless Chromium: create samples from chosen or dropped reads and watch them get ready;
search, filter and sort the list; edit a sample's labels and rights; delete samples."""

from __future__ import annotations

import base64
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import in_thread
from tests.conftest import session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "samples"
FASTQ = SAMPLES / "small_50bp_1.fq.gz"
FASTQ_2 = SAMPLES / "small_50bp_2.fq.gz"
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


def drop_on_create_form(page: Page, paths: list[Path]) -> None:
    """Drag files from the desktop over the create form's drop zone and drop them."""
    payload = [{"name": path.name, "data": base64.b64encode(path.read_bytes()).decode()} for path in paths]
    transfer = page.evaluate_handle(MAKE_DATA_TRANSFER, payload)
    zone = page.locator("#drop-zone")
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    zone.dispatch_event("dragover", {"dataTransfer": transfer})
    expect(zone).to_have_class(re.compile(r"\bdragging\b"))
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    expect(zone).not_to_have_class(re.compile(r"\bdragging\b"))
    transfer.dispose()


def expect_rows(page: Page, names: list[str]) -> None:
    """The list shows exactly these samples, in this order (waiting for it to settle)."""
    expect(page.locator("#sample-table tbody tr [data-part=link]")).to_have_text(names)


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
    gc = page.locator("svg[data-chart=gc]")
    expect(gc.locator("path.gc-observed")).to_have_count(1)
    expect(gc.locator("path.gc-theoretical")).to_have_count(1)
    expect(page.locator("#reads-files a")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "sample-detail.png"), full_page=True)

    # Editing the metadata saves it with PATCH.
    page.get_by_label("Isolate").fill("Isolate 7")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#toast")).to_have_text("Saved")
    assert in_thread(lambda: Sample.objects.get(pk=sample_id).isolate) == "Isolate 7"
    assert errors == []
    context.close()


# The first list of reads uploads the create form asks for is answered only after a file the user chose has finished
# uploading: the list is asked for before the upload exists, so its answer does not have it.
STALE_FIRST_UPLOADS_LIST = """
(() => {
  let uploaded;
  const done = new Promise((resolve) => (uploaded = resolve));
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    this.addEventListener("load", () => setTimeout(uploaded, 100));
    return send.apply(this, args);
  };
  const original = window.fetch;
  let first = true;
  window.fetch = async (input, init) => {
    const answer = original(input, init);
    if (first && String(input).includes("/api/uploads?type=reads")) {
      first = false;
      const response = await answer;
      await done;
      return response;
    }
    return answer;
  };
})();
"""


def test_a_list_answer_older_than_a_finished_upload_keeps_it_chosen(live_server_url: str, browser: Browser, make_user):
    """The list asked for when the form opened answers after the chosen file is in: the file stays listed, chosen."""
    cookie = in_thread(lambda: session_cookie_for(make_user("ada", role="full")))
    context = browser.new_context(base_url=live_server_url, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server_url}])
    context.add_init_script(STALE_FIRST_UPLOADS_LIST)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/samples")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")

    page.get_by_role("button", name="Create sample").click()
    page.locator("#file-input").set_input_files(str(FASTQ))
    expect(page.locator("#sample-transfers .transfer-state")).to_have_text("Uploaded", timeout=30_000)
    page.wait_for_timeout(1000)  # the stale answer (100 ms after the upload) and the live reload (400 ms) are in
    expect(page.get_by_role("checkbox", name=FASTQ.name)).to_be_checked()
    expect(page.get_by_label("Name", exact=True)).to_have_value("small_50bp")
    assert errors == []
    context.close()


def test_drop_two_files_on_the_create_form_for_a_paired_sample_then_delete_it(
    live_server_url: str, browser: Browser, make_user, start_worker
) -> None:
    from django.conf import settings

    from files.models import Upload
    from samples.models import Sample

    start_worker()
    cookie = in_thread(lambda: session_cookie_for(make_user("ada", role="full")))
    context, page, errors = open_page(browser, live_server_url, cookie, "/samples")

    # Both files dropped straight onto the form are uploaded, selected as the pair, and name the sample.
    page.get_by_role("button", name="Create sample").click()
    drop_on_create_form(page, [FASTQ, FASTQ_2])
    for path in (FASTQ, FASTQ_2):
        transfer = page.locator("#sample-transfers li").filter(has=page.get_by_text(path.name, exact=True))
        expect(transfer.locator(".transfer-state")).to_have_text("Uploaded", timeout=30_000)
        expect(page.get_by_role("checkbox", name=path.name)).to_be_checked()
    expect(page.get_by_label("Name", exact=True)).to_have_value("small_50bp")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#create-section")).to_be_hidden()

    row = page.locator("#sample-table tbody tr").filter(has=page.get_by_role("link", name="small_50bp"))
    expect(row).to_have_attribute("data-ready", "true", timeout=60_000)
    sample = in_thread(lambda: Sample.objects.get(name="small_50bp"))
    assert sample.paired
    assert sorted(in_thread(lambda: list(Upload.objects.values_list("name", flat=True)))) == [
        FASTQ.name,
        FASTQ_2.name,
    ]

    row.get_by_role("link", name="small_50bp").click()
    expect(page.locator("#sample-facts")).to_contain_text("PairedYes")
    expect(page.locator("#reads-files a")).to_have_text(["reads_1.fq.gz", "reads_2.fq.gz"])
    expect(page.locator("svg[data-chart=quality] rect.box")).to_have_count(50)

    # Deleting asks first; dismissing keeps the sample, accepting removes it and returns to the list.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete sample").click()
    expect(page).to_have_url(f"{live_server_url}/samples/{sample.pk}")
    assert in_thread(lambda: Sample.objects.filter(pk=sample.pk).exists())
    messages: list[str] = []

    def accept(dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Delete sample").click()
    expect(page).to_have_url(f"{live_server_url}/samples")
    assert messages == [
        'Delete the sample "small_50bp"? Its read files and analyses are removed too. This cannot be undone.'
    ]
    expect(page.locator("#toast")).to_have_text("Deleted small_50bp")
    expect(page.locator("#samples-empty")).to_be_visible()
    assert not in_thread(lambda: Sample.objects.filter(pk=sample.pk).exists())
    assert not (Path(settings.DATA_PATH) / "samples" / sample.pk).exists()
    assert errors == []
    context.close()


def test_search_label_filter_and_sort_on_the_list(live_server_url: str, browser: Browser, make_user) -> None:
    from django.utils import timezone

    from samples.models import Label, Sample

    def prepare() -> tuple[str, dict[str, int]]:
        ada = make_user("ada")
        now = timezone.now()
        virus = Label.objects.create(name="Virus", color="#B42318")
        fungus = Label.objects.create(name="Fungus", color="#15803D")
        for age, (name, host, labels) in enumerate(
            [("Beta", "Tomato", [virus]), ("Alpha", "Grapevine", []), ("Gamma", "Grapevine", [virus, fungus])]
        ):
            sample = Sample.objects.create(
                name=name, host=host, user=ada, ready=True, created_at=now - timedelta(hours=age)
            )
            sample.labels.set(labels)
        return session_cookie_for(ada), {"Virus": virus.pk, "Fungus": fungus.pk}

    cookie, labels = in_thread(prepare)
    context, page, errors = open_page(browser, live_server_url, cookie, "/samples")
    expect(page.locator("#samples-count")).to_have_text("3 samples.")
    expect_rows(page, ["Beta", "Alpha", "Gamma"])  # newest first

    # Search matches names and hosts, and is kept in the address.
    page.get_by_role("searchbox", name="Search").fill("grape")
    expect(page.locator("#samples-count")).to_have_text("2 samples. 3 in all.")
    expect_rows(page, ["Alpha", "Gamma"])
    expect(page).to_have_url(f"{live_server_url}/samples?find=grape")
    page.get_by_role("searchbox", name="Search").fill("zzz")
    expect(page.locator("#samples-empty")).to_have_text("No samples match the search.")
    page.get_by_role("searchbox", name="Search").fill("")
    expect(page.locator("#samples-count")).to_have_text("3 samples.")

    # The label filter shows each label's count; two pressed labels mean samples carrying both.
    chips = page.get_by_role("group", name="Filter by label")
    virus = chips.locator(f"[data-label='{labels['Virus']}']")
    fungus = chips.locator(f"[data-label='{labels['Fungus']}']")
    expect(virus.locator(".count")).to_have_text("2")
    expect(fungus.locator(".count")).to_have_text("1")
    virus.click()
    expect(virus).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#samples-count")).to_have_text("2 samples. 3 in all.")
    expect_rows(page, ["Beta", "Gamma"])
    fungus.click()
    expect(page.locator("#samples-count")).to_have_text("1 sample. 3 in all.")
    expect_rows(page, ["Gamma"])
    expect(page.locator("#sample-table tbody tr .label-chip")).to_have_text(["Fungus", "Virus"])
    virus.click()
    fungus.click()
    expect(fungus).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#samples-count")).to_have_text("3 samples.")

    # Sorting by name, both ways, and oldest first; the choice survives a reload through the address.
    sort = page.get_by_label("Sort")
    sort.select_option("name")
    expect_rows(page, ["Alpha", "Beta", "Gamma"])
    sort.select_option("-name")
    expect_rows(page, ["Gamma", "Beta", "Alpha"])
    sort.select_option("created_at")
    expect_rows(page, ["Gamma", "Alpha", "Beta"])
    expect(page).to_have_url(f"{live_server_url}/samples?sort=created_at")
    page.goto(f"/samples?sort=-name&label={labels['Virus']}")
    expect(page.get_by_label("Sort")).to_have_value("-name")
    expect(virus).to_have_attribute("aria-pressed", "true")
    expect_rows(page, ["Gamma", "Beta"])

    # The labels page is one click away.
    page.get_by_role("link", name="Labels", exact=True).click()
    expect(page).to_have_url(f"{live_server_url}/samples/labels")
    expect(page.get_by_role("heading", level=1)).to_have_text("Labels")
    assert errors == []
    context.close()


def test_edit_metadata_labels_and_rights_on_the_sample_page(live_server_url: str, browser: Browser, make_user) -> None:
    from django.contrib.auth.models import Group

    from jobs.models import Job
    from samples.models import Label, Sample

    def prepare() -> dict:
        ada = make_user("ada")  # the owner, no administrator role
        bo = make_user("bo")  # member of the sample's group, which may write
        cy = make_user("cy")  # anybody else: may read
        lab = Group.objects.create(name="lab")
        Group.objects.create(name="field")
        bo.groups.add(lab)
        Label.objects.create(name="Virus", color="#B42318")
        Label.objects.create(name="Fungus", color="#15803D")
        sample = Sample.objects.create(
            name="S1", host="Vine", user=ada, group=lab, group_read=True, group_write=True, all_read=True, ready=True
        )
        Sample.objects.create(name="Taken", user=ada, ready=True)
        job = Job.objects.create(workflow="create_sample", size="small", proc=1, mem=1, state="running", user=ada)
        busy = Sample.objects.create(name="Busy", user=ada, job=job, ready=False)
        return {
            "sample": sample.pk,
            "busy": busy.pk,
            "job": job.pk,
            **{user.handle: session_cookie_for(user) for user in (ada, bo, cy)},
        }

    world = in_thread(prepare)
    path = f"/samples/{world['sample']}"
    owner, page, errors = open_page(browser, live_server_url, world["ada"], path)
    reader, reader_page, reader_errors = open_page(browser, live_server_url, world["cy"], path)
    member, member_page, member_errors = open_page(browser, live_server_url, world["bo"], path)

    # Someone who may only read sees the values, the labels as chips and the rights, but nothing to act with.
    expect(reader_page.get_by_label("Host")).to_have_value("Vine")
    expect(reader_page.get_by_label("Host")).to_have_attribute("readonly", "")
    expect(reader_page.get_by_role("button", name="Save", exact=True)).to_be_hidden()
    expect(reader_page.get_by_role("button", name="Delete sample")).to_be_hidden()
    expect(reader_page.locator("#meta-labels")).to_have_text("None")
    expect(reader_page.locator("#rights-form")).to_be_hidden()
    expect(reader_page.locator("#rights-summary li")).to_have_text(
        ["Owner: ada", "Group lab: read and edit", "Everyone: read"]
    )

    # A member of a group that may write edits the metadata, but only the owner changes the rights.
    expect(member_page.get_by_role("button", name="Save", exact=True)).to_be_visible()
    expect(member_page.get_by_role("checkbox", name="Virus")).not_to_be_checked()
    expect(member_page.get_by_role("button", name="Delete sample")).to_be_visible()
    expect(member_page.locator("#rights-form")).to_be_hidden()
    expect(member_page.locator("#rights-summary")).to_be_visible()

    # The owner labels the sample and edits its host; the others see both live.
    expect(page.get_by_role("button", name="Save rights")).to_be_visible()
    page.get_by_role("checkbox", name="Virus").check()
    page.get_by_label("Host").fill("Grapevine")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#toast")).to_have_text("Saved")
    assert in_thread(lambda: list(Sample.objects.get(pk=world["sample"]).labels.values_list("name", flat=True))) == [
        "Virus"
    ]
    expect(reader_page.get_by_label("Host")).to_have_value("Grapevine")
    expect(reader_page.locator("#meta-labels .label-chip")).to_have_text(["Virus"])
    expect(member_page.get_by_role("checkbox", name="Virus")).to_be_checked()
    reader_page.screenshot(path=str(SCREENSHOTS / "sample-read-only.png"), full_page=True)

    # The server's refusals are shown next to the form: a name in use, an empty name.
    page.get_by_label("Name", exact=True).fill("taken")
    page.get_by_role("button", name="Save", exact=True).click()
    name_error = page.locator("#meta-form .field:has(#meta-name) .field-error")
    expect(name_error).to_have_text("Sample name is already in use")
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Name", exact=True).fill("S1 grapevine")
    page.get_by_role("checkbox", name="Virus").uncheck()
    page.get_by_role("checkbox", name="Fungus").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(name_error).to_have_count(0)
    expect(page.locator("#sample-title")).to_have_text("S1 grapevine")
    expect(reader_page.locator("#meta-labels .label-chip")).to_have_text(["Fungus"])

    # Rights: another group that may read only, and nobody else. The member keeps read access, the reader
    # loses it and is told so; the owner's page stays.
    page.get_by_label("Group", exact=True).select_option(label="field")
    page.get_by_label("Group members may").select_option("read")
    page.get_by_label("Everyone else may").select_option("none")
    page.get_by_role("button", name="Save rights").click()
    expect(page.locator("#toast")).to_have_text("Rights saved")
    rights = in_thread(
        lambda: (
            Sample.objects.filter(pk=world["sample"])
            .values("group__name", "group_read", "group_write", "all_read", "all_write")
            .get()
        )
    )
    assert rights == {
        "group__name": "field",
        "group_read": True,
        "group_write": False,
        "all_read": False,
        "all_write": False,
    }
    expect(reader_page.locator("#sample-error")).to_have_text("You may no longer read this sample.")
    expect(reader_page.locator("#sample-body")).to_be_hidden()
    expect(member_page.locator("#sample-error")).to_have_text("You may no longer read this sample.")
    expect(page.get_by_label("Group members may")).to_have_value("read")
    expect(page.locator("#sample-error")).to_be_hidden()
    expect(page.locator("#sample-body")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "sample-edit.png"), full_page=True)

    # A sample whose creation job still runs cannot be deleted: the API's 409 is shown with a link to the job.
    page.goto(f"/samples/{world['busy']}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete sample").click()
    expect(page.locator("#delete-error")).to_contain_text("The sample is still being created.")
    expect(page.locator("#delete-error").get_by_role("link", name="View the job")).to_have_attribute(
        "href", f"/jobs/{world['job']}"
    )
    assert in_thread(lambda: Sample.objects.filter(pk=world["busy"]).exists())
    assert errors == reader_errors == member_errors == []
    for context in (owner, reader, member):
        context.close()


def test_long_reads_cycles_are_grouped_as_fastqc_shows_them(live_server_url: str, browser: Browser, make_user) -> None:
    """The RpRSV reads run to 151 nt: the charts show cycles 1-9, then groups of five (10-14, ..., 150-151) as FastQC
    does; the stored report keeps every cycle."""
    from samples.models import Sample
    from samples.quality import quality
    from tests.conftest import SHARED

    reads = [SHARED / "data" / "samples" / name for name in ("rprsv_1.fq.gz", "rprsv_2.fq.gz")]

    def make() -> tuple[str, str]:
        user = make_user("ada", role="full")
        sample = Sample.objects.create(name="RpRSV", user=user, ready=True, paired=True, quality=quality(reads))
        return session_cookie_for(user), sample.pk

    cookie, sample_id = in_thread(make)
    stored = in_thread(lambda: Sample.objects.get(pk=sample_id).quality)
    assert len(stored["bases"]) == 151
    context, page, errors = open_page(browser, live_server_url, cookie, f"/samples/{sample_id}")
    chart = page.locator("svg[data-chart=quality]")
    expect(chart.locator("rect.box")).to_have_count(9 + 29)
    expect(chart.locator("rect.box").nth(9).locator("title")).to_contain_text("Cycles 10-14")
    expect(chart.locator("rect.box").last.locator("title")).to_contain_text("Cycles 150-151")
    expect(chart).to_contain_text("grouped as FastQC shows long reads")
    expect(page.locator("svg[data-chart=composition] path.composition-line")).to_have_count(4)
    expect(page.locator("svg[data-chart=gc] path.gc-observed")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "sample-quality-long-reads.png"), full_page=True)
    assert errors == []
    context.close()


def test_a_failed_sample_stays_listed_with_its_reason_to_try_again_or_remove(
    live_server_url: str, browser: Browser, make_user
) -> None:
    """Two samples whose reads are not FASTQ: each is listed as failed with the job's words. One is removed (its
    upload becomes free again); the other is tried again and follows its new job."""
    from files.models import Upload
    from jobs.runner import job_execute
    from samples.models import Sample
    from samples.services import sample_create
    from tests.conftest import stored_upload

    def make() -> str:
        user = make_user("ada", role="full")
        for name in ("broken", "again"):
            upload = stored_upload(user, b"@r1\nACGT\n+\nII\n", name=f"{name}.fq", upload_type="reads")
            sample = sample_create(user=user, data={"name": name, "files": [upload.pk]})
            assert job_execute(job_id=sample.job_id) == "error"
        return session_cookie_for(user)

    cookie = in_thread(make)
    context, page, errors = open_page(browser, live_server_url, cookie, "/samples")
    for name in ("broken", "again"):
        row = page.locator("#sample-table tbody tr").filter(has=page.get_by_role("link", name=name))
        expect(row.locator("[data-part=failed] .badge")).to_have_text("Failed")
        expect(row.locator("[data-part=failure]")).to_contain_text(f"{name}.fq")
        expect(row.locator("[data-part=failure]")).to_contain_text("record 1")
    page.screenshot(path=str(SCREENSHOTS / "samples-failed.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove broken").click()
    expect(page.locator("#sample-table tbody tr").filter(has=page.get_by_role("link", name="broken"))).to_have_count(0)
    assert not in_thread(lambda: Sample.objects.filter(name="broken").exists())
    assert in_thread(lambda: Upload.objects.get(name="broken.fq").reserved) is False

    with page.expect_response(lambda r: r.url.endswith("/retry")) as retried:
        page.get_by_role("button", name="Try again: again").click()
    assert retried.value.status == 200
    row = page.locator("#sample-table tbody tr").filter(has=page.get_by_role("link", name="again"))
    expect(row.locator("[role=progressbar]")).to_be_visible()
    expect(row.locator("[data-part=failed]")).to_have_count(0)
    assert errors == []
    context.close()
