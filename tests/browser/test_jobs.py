"""The jobs pages in headless Chromium: a user watches a job on a real Celery worker move, then cancels it."""

from __future__ import annotations

import subprocess
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import in_thread
from tests.conftest import session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_worker(start_worker) -> subprocess.Popen:
    """A real Celery worker on the small and large queues, running the test workflows on the test database."""
    import tests.jobs.workflows  # noqa: F401  (the test process must know the workflows it creates jobs of)

    return start_worker(VIRTOOL_JOB_HEARTBEAT_SECONDS="1")


def wait_for_increases(page: Page, bar, count: int, timeout: float = 40.0) -> list[int]:
    """Wait until the bar's aria-valuenow has gone up `count` times; returns the values seen."""
    seen = [int(bar.get_attribute("aria-valuenow"))]
    increases = 0
    deadline = time.monotonic() + timeout
    while increases < count:
        assert time.monotonic() < deadline, f"the progress bar did not move: {seen}"
        page.wait_for_timeout(100)
        value = int(bar.get_attribute("aria-valuenow"))
        if value != seen[-1]:
            increases += value > seen[-1]
            seen.append(value)
    return seen


def test_watch_a_job_progress_and_cancel_it(live_server_url: str, celery_worker, browser: Browser, make_user) -> None:
    import tests.jobs.workflows  # noqa: F401  (registers test_slow_progress in this process)
    from jobs.models import Job
    from jobs.services import job_create

    def create() -> tuple[str, str]:
        user = make_user("ada", role="full")
        job = job_create(workflow="test_slow_progress", args={}, user=user)
        return job.pk, session_cookie_for(user)

    job_id, cookie = in_thread(create)

    context = browser.new_context(base_url=live_server_url)
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server_url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"/jobs/{job_id}")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.get_by_role("heading", level=1)).to_have_text("Test slow progress")
    state = page.locator("#job-state")
    expect(state).to_have_text("Running", timeout=30_000)
    page.evaluate("window.__notReloaded = true")

    # The bar follows the worker's progress messages.
    bar = page.get_by_role("progressbar", name="Progress of Test slow progress")
    seen = wait_for_increases(page, bar, 2)
    assert seen[-1] < 100, seen
    expect(page.locator("#job-step")).to_have_text("Crawl")
    expect(page.get_by_role("listitem").filter(has_text="Crawl")).to_have_count(1)

    # Cancelling: the button says so until the worker has stopped the job.
    page.once("dialog", lambda dialog: dialog.accept())
    cancel = page.get_by_role("button", name="Cancel job")
    cancel.click()
    expect(page.locator("#job-cancel")).to_have_text("Cancelling…")
    expect(state).to_have_text("Cancelled", timeout=10_000)
    expect(page.locator("#job-cancel")).to_be_hidden()
    expect(page.get_by_role("button", name="Remove job")).to_be_visible()
    expect(page.locator("#job-error")).to_be_hidden()
    assert page.evaluate("window.__notReloaded") is True
    assert in_thread(lambda: Job.objects.get(pk=job_id).state) == "cancelled"

    # The list shows it, linked to its page.
    page.goto("/jobs")
    row = page.locator(f'tr[data-id="{job_id}"]')
    expect(row).to_be_visible()
    expect(row.get_by_role("link", name="Test slow progress")).to_have_attribute("href", f"/jobs/{job_id}")
    expect(row.locator(".job-state")).to_have_text("Cancelled")
    expect(page.locator('[data-count="failed"]')).to_have_text("1")
    assert errors == []
    context.close()


def test_jobs_name_their_subjects_with_links(live_server_url: str, browser: Browser, make_user) -> None:
    """The jobs list and a job's page name the sample and reference a job works on, linked to their pages, and
    show its arguments as names (the raw id beside)."""
    from jobs.constants import JobState
    from jobs.models import Job
    from references.models import Reference
    from samples.models import Sample

    def make() -> tuple[str, str, str, str]:
        user = make_user("ada", role="full")
        sample = Sample.objects.create(name="RpRSV field 4", user=user, ready=True)
        reference = Reference.objects.create(name="Plant Viruses", user=user)
        job = Job.objects.create(
            workflow="pathoscope_bowtie",
            size="large",
            proc=1,
            mem=1,
            state=JobState.ERROR,
            user=user,
            args={"sample_id": sample.pk, "ref_id": reference.pk},
        )
        return session_cookie_for(user), job.pk, sample.pk, reference.pk

    cookie, job_id, sample_id, reference_id = in_thread(make)
    context = browser.new_context(base_url=live_server_url)
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server_url}])
    page = context.new_page()
    page.goto("/jobs?state=failed")
    row = page.locator("tr", has=page.get_by_role("link", name="PathoScope"))
    subjects = row.locator("[data-part=subjects]")
    expect(subjects).to_contain_text("Sample RpRSV field 4")
    expect(subjects.get_by_role("link", name="RpRSV field 4")).to_have_attribute("href", f"/samples/{sample_id}")
    expect(subjects.get_by_role("link", name="Plant Viruses")).to_have_attribute("href", f"/refs/{reference_id}")
    page.goto(f"/jobs/{job_id}")
    args = page.locator("#job-args")
    expect(args.get_by_role("link", name="RpRSV field 4")).to_have_attribute("href", f"/samples/{sample_id}")
    expect(args.locator("[data-subject=reference]")).to_contain_text(reference_id)
    context.close()
