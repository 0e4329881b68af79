"""Walk through the browser shell in headless Chromium against a real daphne server and the Redis layer."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Browser, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HANDLE = "ada"
PASSWORD = "correct horse battery"


def test_walkthrough_setup_login_and_live_groups(live_server_url: str, browser: Browser) -> None:
    context = browser.new_context(base_url=live_server_url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # No user yet: every page leads to setup, which creates the first administrator and logs in.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/setup$"))
    setup = page.locator("#setup-form")
    setup.get_by_label("Username").fill(HANDLE)
    setup.get_by_label("Password", exact=True).fill(PASSWORD)
    setup.get_by_label("Confirm password").fill(PASSWORD)
    setup.get_by_role("button", name="Create administrator").click()
    expect(page).to_have_url(f"{live_server_url}/")
    expect(page.get_by_role("heading", name=f"Welcome, {HANDLE}")).to_be_visible()
    expect(page.locator("[data-key=role]")).to_have_text("Full administrator")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))

    # A wrong password is refused with the server's message, shown on the form.
    login = page.locator("#login-form")
    login.get_by_label("Username").fill(HANDLE)
    login.get_by_label("Password").fill("not the password")
    login.get_by_role("button", name="Log in").click()
    expect(login.get_by_role("alert")).to_have_text("Invalid handle or password")
    expect(page).to_have_url(re.compile(r"/login$"))

    login.get_by_label("Password").fill(PASSWORD)
    login.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server_url}/")

    # Create a group in the administration pages.
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("navigation", name="Administration sections").get_by_role("link", name="Groups").click()
    expect(page).to_have_url(re.compile(r"/administration/groups"))
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    create = page.locator("#create-group")
    create.get_by_label("Name").fill("Technicians")
    create.get_by_role("button", name="Create group").click()
    groups = page.locator("#group-list")
    expect(groups.get_by_role("button", name="Technicians")).to_be_visible()
    expect(page.locator("#group-editor-title")).to_have_text("Technicians")

    # Another client creates a group through the API; the open page shows it without a reload.
    page.evaluate("window.__notReloaded = true")
    other = requests.Session()
    other.headers["Origin"] = live_server_url
    response = other.post(
        f"{live_server_url}/api/account/login", json={"handle": HANDLE, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 201, response.text
    response = other.post(f"{live_server_url}/api/groups", json={"name": "Sequencing"}, timeout=10)
    assert response.status_code == 201, response.text

    expect(groups.get_by_role("button", name="Sequencing")).to_be_visible(timeout=10_000)
    expect(groups.get_by_role("button")).to_have_text(["Sequencing", "Technicians"])
    assert page.evaluate("window.__notReloaded") is True
    assert errors == []
    context.close()
