"""A path under /api that no route serves is Virtool's JSON 404 (schemathesis found Django's HTML page there, and
HTML 403s from the CSRF check for writes)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/api/users/-3", "/api/users/abc", "/api/analyses/documents/x.pdf", "/api/samples/", "/api/no/such/thing"],
)
def test_unrouted_api_paths_are_json_404(admin_client, anon_client, path):
    for client in (admin_client, anon_client):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"id": "not_found", "message": "Not found"}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unrouted_api_writes_are_json_404_too(admin_client, method):
    response = getattr(admin_client, method)("/api/groups/-3", {}, format="json")
    assert response.status_code == 404
    assert response.json() == {"id": "not_found", "message": "Not found"}


def test_pages_outside_the_api_keep_their_own_404(admin_client):
    response = admin_client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_unknown_api_paths_are_json_404_for_any_method_in_debug(settings, admin_client, anon_client, method, debug):
    settings.DEBUG = debug
    for client in (admin_client, anon_client):
        response = getattr(client, method)("/api/nothing/here/at/all", {}, format="json")
        assert response.status_code == 404, (method, response.content[:200])
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"id": "not_found", "message": "Not found"}


def test_pages_outside_the_api_keep_their_own_404_in_debug_too(settings, admin_client):
    settings.DEBUG = True
    response = admin_client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
