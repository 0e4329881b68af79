"""Integers past the database's 64-bit columns are refused as Virtool's 400 naming the field (schemathesis found
each of these answering 500)."""

from __future__ import annotations

import pytest

from core.constants import DB_INT_MAX

pytestmark = pytest.mark.django_db

HUGE = 10**30


@pytest.mark.parametrize(
    ("path", "field", "location"),
    [
        (f"/api/samples?page={HUGE}", "page", "query string"),
        (f"/api/samples?page={DB_INT_MAX}", "page", "query string"),  # in range, but its offset would not be
        (f"/api/uploads?user={HUGE}", "user", "query string"),
        (f"/api/jobs?user={HUGE}", "user", "query string"),
        (f"/api/samples?label={HUGE}", "label", "query string"),
        (f"/api/refs?per_page=5&page={HUGE}", "page", "query string"),
    ],
)
def test_huge_query_integers_are_400_naming_them(admin_client, path, field, location):
    response = admin_client.get(path)
    assert response.status_code == 400
    assert [(error["in"], error["loc"]) for error in response.json()] == [(location, [field])]


def test_the_last_page_that_fits_is_an_empty_page(admin_client):
    from core.api.pagination import MAX_PAGE

    response = admin_client.get(f"/api/samples?page={MAX_PAGE}&per_page=100")
    assert response.status_code == 200
    assert response.json()["documents"] == []


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/api/samples", {"name": "S", "files": [HUGE]}, ["files", 0]),
        ("/api/samples", {"name": "S", "files": [1], "labels": [-HUGE]}, ["labels", 0]),
        ("/api/samples", {"name": "S", "files": [1], "group": HUGE}, ["group"]),
        ("/api/subtractions", {"name": "Host", "upload_id": HUGE}, ["upload_id"]),
    ],
)
def test_huge_body_ids_are_400_naming_them(admin_client, path, body, loc):
    response = admin_client.post(path, body, format="json")
    assert response.status_code == 400
    assert [error["loc"] for error in response.json()] == [loc]


def test_huge_ids_in_edits_are_400_naming_them(admin_client, admin_user, make_user):
    from references.models import Reference

    reference = Reference.objects.create(name="R", user=admin_user)
    other = make_user("other")
    cases = [
        (f"/api/refs/{reference.pk}/users", {"user_id": HUGE}, "post", ["user_id"]),
        (f"/api/refs/{reference.pk}/groups", {"group_id": HUGE}, "post", ["group_id"]),
        (f"/api/users/{other.pk}", {"primary_group": HUGE}, "patch", ["primary_group"]),
        (f"/api/users/{other.pk}", {"groups": [HUGE]}, "patch", ["groups", 0]),
    ]
    for path, body, method, loc in cases:
        response = getattr(admin_client, method)(path, body, format="json")
        assert response.status_code == 400, path
        assert [error["loc"] for error in response.json()] == [loc], path
