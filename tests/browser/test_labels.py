"""The labels page in headless Chromium: create, edit and delete labels, with live sample counts in two tabs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import in_thread
from tests.browser.test_samples import open_page
from tests.conftest import session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ.get("VIRTOOL_SCREENSHOTS", "/tmp"))


def test_create_edit_and_delete_labels_with_live_counts(live_server_url: str, browser: Browser, make_user) -> None:
    from samples import services
    from samples.models import Label, Sample

    def prepare() -> dict:
        ada = make_user("ada")
        bo = make_user("bo")
        virus = Label.objects.create(name="Virus", color="#B42318", description="Viral infection confirmed")
        sample = Sample.objects.create(name="S1", user=ada, ready=True, all_read=True)
        sample.labels.add(virus)
        return {"ada": session_cookie_for(ada), "bo": session_cookie_for(bo), "sample": sample.pk, "virus": virus.pk}

    world = in_thread(prepare)
    context, page, errors = open_page(browser, live_server_url, world["ada"], "/samples/labels")
    other, other_page, other_errors = open_page(browser, live_server_url, world["bo"], "/samples/labels")
    expect(page.get_by_role("link", name="Samples", exact=True)).to_have_attribute("aria-current", "page")

    items = page.locator("#label-list li.label-item")
    expect(items).to_have_count(1)
    virus = items.filter(has=page.get_by_text("Virus", exact=True))
    expect(virus.locator("[data-part=count]")).to_have_text("1 sample")
    expect(virus.locator("[data-part=count]")).to_have_attribute("href", f"/samples?label={world['virus']}")
    expect(virus.locator(".label-description")).to_have_text("Viral infection confirmed")

    # Creating: the server's refusals appear next to their fields.
    form = page.locator("#create-label")
    name = form.get_by_label("Name")
    color = form.get_by_label("Colour", exact=True)
    name.fill("virus")
    form.get_by_role("button", name="Create label").click()
    expect(form.locator(".field:has(#new-label-name) .field-error")).to_have_text("Label name already exists")
    expect(name).to_have_attribute("aria-invalid", "true")
    name.fill("Fungus")
    color.fill("green")
    form.get_by_role("button", name="Create label").click()
    expect(form.locator(".field:has(#new-label-color) .field-error")).to_have_text(
        "Enter a colour as # and six hex digits, such as #A0AEC0."
    )
    expect(form.locator(".field:has(#new-label-name) .field-error")).to_have_count(0)
    color.fill("#15803D")
    expect(form.locator("input[type=color]")).to_have_value("#15803d")
    form.get_by_label("Description").fill("Fungal growth")
    form.get_by_role("button", name="Create label").click()
    expect(page.locator("#toast")).to_have_text("Created Fungus")
    expect(items.locator("[data-part=chip]")).to_have_text(["Fungus", "Virus"])
    expect(name).to_have_value("")
    expect(color).to_have_value("#A0AEC0")
    fungus_id = in_thread(lambda: Label.objects.get(name="Fungus").pk)
    # The other tab follows.
    expect(other_page.locator("#label-list [data-part=chip]")).to_have_text(["Fungus", "Virus"])

    # Editing in place: a taken name is refused, then a rename and a new colour are saved and seen in both tabs.
    page.get_by_role("button", name="Edit Fungus").click()
    editor = page.get_by_role("form", name="Edit Fungus")
    expect(editor.get_by_label("Name")).to_be_focused()
    editor.get_by_label("Name").fill("VIRUS")
    editor.get_by_role("button", name="Save").click()
    expect(editor.locator(".field-error")).to_have_text("Label name already exists")
    page.screenshot(path=str(SCREENSHOTS / "labels-edit.png"), full_page=True)
    editor.get_by_label("Name").fill("Mould")
    editor.get_by_label("Colour", exact=True).fill("#7A6212")
    editor.get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_have_text("Saved Mould")
    expect(editor).to_have_count(0)
    expect(items.locator("[data-part=chip]")).to_have_text(["Mould", "Virus"])
    assert in_thread(lambda: Label.objects.filter(pk=fungus_id).values_list("name", "color").get()) == (
        "Mould",
        "#7A6212",
    )
    expect(other_page.locator("#label-list [data-part=chip]")).to_have_text(["Mould", "Virus"])
    mould = items.filter(has=page.get_by_text("Mould", exact=True))
    expect(mould.locator("[data-part=count]")).to_have_text("No samples")

    # Cancel leaves a label as it was.
    page.get_by_role("button", name="Edit Virus").click()
    page.get_by_role("form", name="Edit Virus").get_by_label("Name").fill("Changed my mind")
    page.get_by_role("form", name="Edit Virus").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Edit Virus")).to_be_focused()
    expect(items.locator("[data-part=chip]")).to_have_text(["Mould", "Virus"])

    # Counts follow the samples live: someone labels S1 with Mould too.
    def label_sample() -> None:
        sample = Sample.objects.get(pk=world["sample"])
        services.sample_update(sample=sample, data={"labels": [world["virus"], fungus_id]})

    in_thread(label_sample)
    expect(mould.locator("[data-part=count]")).to_have_text("1 sample")
    other_mould = other_page.locator("#label-list li").filter(has=other_page.get_by_text("Mould", exact=True))
    expect(other_mould.locator("[data-part=count]")).to_have_text("1 sample")
    page.screenshot(path=str(SCREENSHOTS / "labels.png"), full_page=True)

    # The count links to the samples carrying the label.
    mould.locator("[data-part=count]").click()
    expect(page).to_have_url(f"{live_server_url}/samples?label={fungus_id}")
    expect(page.locator(f"#label-filter [data-label='{fungus_id}']")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#sample-table tbody [data-part=link]")).to_have_text(["S1"])
    page.go_back()

    # Deleting asks first (saying how many samples lose it), then the label leaves both tabs.
    messages: list[str] = []

    def accept(dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Delete Mould").click()
    expect(page.locator("#toast")).to_have_text("Deleted Mould")
    assert messages == ['Delete the label "Mould"? It is taken off the sample that carries it.']
    expect(items.locator("[data-part=chip]")).to_have_text(["Virus"])
    expect(other_page.locator("#label-list [data-part=chip]")).to_have_text(["Virus"])
    assert not in_thread(lambda: Label.objects.filter(pk=fungus_id).exists())
    assert in_thread(lambda: list(Sample.objects.get(pk=world["sample"]).labels.values_list("name", flat=True))) == [
        "Virus"
    ]
    assert errors == other_errors == []
    context.close()
    other.close()
