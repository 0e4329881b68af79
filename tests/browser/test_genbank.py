"""The OTU page's sequence form filled from GenBank in headless Chromium, against a daphne whose NCBI E-utilities
is the recorded one on 127.0.0.1: an unknown accession and NCBI out of reach are said next to the accession, a
known one fills definition, host and sequence, and the sequence is added as filled."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import in_thread
from tests.browser.test_references import SCREENSHOTS, open_page
from tests.conftest import session_cookie_for
from tests.live import daphne
from tests.otus.eutils_server import FakeEUtils, demo_sequence, eutils  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _world(make_user) -> dict:
    from otus.services import isolate_add, otu_create
    from references.services import reference_new

    ada = make_user("ada", role="full")
    reference = reference_new(user=ada, data={"name": "Plant viruses", "organism": "virus"})
    otu = otu_create(reference=reference, data={"name": "Raspberry ringspot virus", "abbreviation": "RpRSV"}, user=ada)
    isolate_add(otu_id=otu.pk, data={"source_type": "strain", "source_name": "cherry"}, user=ada)
    return {"cookie": session_cookie_for(ada), "path": f"/refs/{reference.pk}/otus/{otu.pk}", "otu": otu.pk}


def test_sequence_form_fills_itself_from_genbank(
    browser: Browser,
    make_user,
    tmp_path,
    eutils: FakeEUtils,  # noqa: F811
) -> None:
    from otus.models import Sequence

    made = in_thread(lambda: _world(make_user))
    reference = demo_sequence("NC_005267")
    with daphne(tmp_path, VIRTOOL_NCBI_EUTILS_URL=eutils.url) as (url, _):
        context, page, errors = open_page(browser, url, made["cookie"], made["path"])
        expect(page.locator("#isolate-title")).to_have_text("Strain cherry")
        page.get_by_role("button", name="Add sequence").click()
        form = page.locator("form.sequence-form[data-sequence-id=new]")
        accession = form.get_by_label("Accession")
        fill_button = form.get_by_role("button", name="Fill from GenBank")
        accession_error = form.locator(".field:has([name=accession]) .field-error")

        # Nothing typed: said at once, NCBI is not asked.
        fill_button.click()
        expect(accession_error).to_have_text("Enter an accession to fill from GenBank.")
        assert eutils.requests == []

        # An accession NCBI does not know.
        accession.fill("XX000000")
        fill_button.click()
        expect(accession_error).to_have_text("Accession not found")
        expect(accession).to_have_attribute("aria-invalid", "true")
        expect(form.get_by_label("Definition")).to_have_value("")
        form.screenshot(path=str(SCREENSHOTS / "genbank-not-found.png"))

        # NCBI failing after the server's retries: the 502's message.
        eutils.script("NC_005267", "drop")
        accession.fill("NC_005267")
        fill_button.click()
        expect(accession_error).to_have_text(
            "Could not reach NCBI: the connection was closed without an answer. Try again later.", timeout=30_000
        )

        # NCBI answers: definition, host and sequence are filled in, the error is gone.
        eutils.script("NC_005267", (200, "NC_005267.gb"))
        fill_button.click()
        expect(form.get_by_label("Definition")).to_have_value(reference["definition"])
        expect(form.get_by_label("Host")).to_have_value(reference["host"])
        expect(form.get_by_label("Sequence", exact=True)).to_have_value(reference["sequence"])
        expect(form.locator("[data-part=genbank-status]")).to_have_text("Filled from GenBank NC_005267.1 (3,914 nt).")
        expect(accession_error).to_have_count(0)
        expect(accession).not_to_have_attribute("aria-invalid", "true")
        form.screenshot(path=str(SCREENSHOTS / "genbank-filled.png"))
        assert [params["id"] for _, params in eutils.requests][-1] == "NC_005267"

        # The sequence is added as filled.
        form.get_by_role("button", name="Add sequence").click()
        added = page.locator(".sequence-item").filter(has_text="NC_005267")
        expect(added.locator("[data-part=definition]")).to_have_text(reference["definition"])
        expect(added).to_contain_text(f"Host: {reference['host']}")
        stored = in_thread(lambda: Sequence.objects.get(otu_id=made["otu"]))
        assert (stored.accession, stored.definition, stored.host, stored.sequence) == (
            "NC_005267",
            reference["definition"],
            reference["host"],
            reference["sequence"],
        )
        assert errors == []
        context.close()
