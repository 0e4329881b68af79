"""Error pages: styled in the base layout for browsers, Virtool's JSON errors under /api (DEBUG is off in tests)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LAYOUT = '<header class="site-header">'


def test_unknown_page_is_a_styled_404_in_the_layout(client, make_user) -> None:
    client.force_login(make_user("ada"))
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert LAYOUT in html
    assert "Page not found" in html
    assert 'aria-label="Main"' in html  # the request context is there: the signed-in user's navigation


def test_unknown_page_is_a_styled_404_for_anonymous_visitors_too(client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize("path", ["/api/nothing", "/api/samples/s1/nothing/else"])
def test_unknown_api_path_is_virtools_json_404(anon_client, path) -> None:
    response = anon_client.get(path)
    assert response.status_code == 404
    assert response.json() == {"id": "not_found", "message": "Not found"}


@pytest.mark.urls("tests.core.failing_urls")
def test_refusal_is_a_styled_403_for_pages_and_json_under_api(client, make_user) -> None:
    client.force_login(make_user("ada"))
    page = client.get("/test/refuse")
    assert page.status_code == 403
    html = page.content.decode()
    assert LAYOUT in html
    assert "You are not allowed here" in html
    assert "only for administrators" not in html  # that text belongs to the administration pages' refusal
    api = client.get("/api/test/refuse")
    assert api.status_code == 403
    assert api.json() == {"id": "insufficient_rights", "message": "Insufficient rights"}


@pytest.mark.urls("tests.core.failing_urls")
def test_failure_is_a_styled_500_without_request_context_and_json_under_api(make_user) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(make_user("ada"))
    page = client.get("/test/fail")
    assert page.status_code == 500
    html = page.content.decode()
    assert LAYOUT in html
    assert "Something went wrong" in html
    # Rendered from an empty context, as Django renders 500 pages: no user, so no navigation and no socket.
    assert 'data-authenticated="false"' in html
    assert 'aria-label="Main"' not in html
    api = client.get("/api/test/fail")
    assert api.status_code == 500
    assert api.json() == {"id": "internal_error", "message": "Internal server error"}
