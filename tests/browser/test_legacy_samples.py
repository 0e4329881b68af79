"""Legacy samples in the samples list (issue 17 part 3): marked, updated with the Update button, their
update_sample job followed live to the end, a failed update shown with its reason and nothing changed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import in_thread
from tests.browser.test_samples import SCREENSHOTS, open_page
from tests.conftest import session_cookie_for
from tests.samples.test_legacy import make_legacy_sample, sample_folder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_legacy_samples_are_marked_and_follow_their_update_live(
    live_server_url: str, browser: Browser, make_user, start_worker
) -> None:
    from samples.models import Sample

    def make() -> tuple[str, str, str]:
        user = make_user("ada", permissions=["create_sample"])
        good = make_legacy_sample(user, name="Raspberry 2019")
        broken = make_legacy_sample(user, name="Broken 2019", srna=False)
        second = sample_folder(broken) / "reads_2.fastq"
        second.write_bytes(second.read_bytes()[:-7])  # the last read cut short
        Sample.objects.create(name="Today's sample", user=user, ready=True, quality={"count": 1})
        return session_cookie_for(user), good.pk, broken.pk

    cookie, good_id, broken_id = in_thread(make)
    context, page, errors = open_page(browser, live_server_url, cookie, "/samples")

    def row(name: str):
        return page.locator("#sample-table tbody tr").filter(has=page.get_by_role("link", name=name))

    for name in ("Raspberry 2019", "Broken 2019"):
        expect(row(name).locator("[data-part=legacy]")).to_have_text("Legacy")
        expect(row(name)).to_have_attribute("data-legacy", "true")
        expect(row(name).get_by_role("button", name=f"Update {name} to today's form")).to_be_visible()
        # A legacy sample cannot be selected for an analysis.
        expect(row(name).locator("[data-part=select]")).to_be_disabled()
    expect(row("Today's sample").locator("[data-part=legacy]")).to_have_count(0)
    expect(row("Today's sample").locator("[data-part=select]")).to_be_enabled()
    expect(row("Raspberry 2019").locator("[data-part=library]")).to_have_text("Normal")

    # Its own page says so too, and lists its old files.
    page.goto(f"/samples/{good_id}")
    expect(page.locator("#sample-status [data-part=legacy]")).to_have_text("Legacy")
    expect(page.locator("#reads-files [data-legacy-file]")).to_have_count(2)
    expect(page.locator("#reads-files [data-legacy-file]").first).to_contain_text("reads_1.fastq")
    expect(page.locator("#quality-facts")).to_contain_text("Not computed yet")
    page.goto("/samples")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")

    # Both updates queued before any worker runs: each row shows its waiting job.
    for name in ("Raspberry 2019", "Broken 2019"):
        with page.expect_response(lambda r: r.url.endswith("/update_job")) as started:
            row(name).get_by_role("button", name=f"Update {name} to today's form").click()
        assert started.value.status == 200
        expect(row(name).get_by_role("progressbar", name=f"Update of {name}")).to_be_visible()
        expect(row(name).locator("[data-part=step]")).to_have_text("Updating: Waiting for a worker · 0%")
        expect(row(name).locator("[data-part=legacy]")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "samples-legacy-updating.png"), full_page=True)

    start_worker(queues="small", concurrency=1)
    # The good one ends updated: no legacy mark, its library type from the 2019 srna flag, selectable.
    good = row("Raspberry 2019")
    expect(good.locator("[data-part=updated]")).to_have_text("Updated", timeout=90_000)
    expect(good).to_have_attribute("data-legacy", "false")
    expect(good.locator("[data-part=legacy]")).to_have_count(0)
    expect(good.locator("[data-part=library]")).to_have_text("sRNA")
    expect(good.locator("[data-part=select]")).to_be_enabled()
    # The broken one stays legacy, says why, and offers to try again.
    broken = row("Broken 2019")
    expect(broken.locator("[data-part=failure]")).to_contain_text(
        "The update failed, nothing was changed", timeout=90_000
    )
    expect(broken.locator("[data-part=failure]")).to_contain_text("reads_2.fastq")
    expect(broken.locator("[data-part=legacy]")).to_have_text("Legacy")
    expect(broken.get_by_role("button", name="Update Broken 2019 to today's form")).to_have_text("Update again")
    page.screenshot(path=str(SCREENSHOTS / "samples-legacy-done.png"), full_page=True)

    assert in_thread(lambda: Sample.objects.get(pk=good_id).is_legacy) is False
    assert in_thread(lambda: sorted(p.name for p in sample_folder(Sample(pk=broken_id)).iterdir())) == [
        "reads_1.fastq",
        "reads_2.fastq",
    ]
    assert errors == []
    context.close()
