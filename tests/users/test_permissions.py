"""Permission matrix for every platform endpoint: anonymous → 401, lacking rights → 403, allowed → 2xx."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# (method, path, body, who may call it). `{group}` and `{other}` are filled in with real ids.
ENDPOINTS = [
    ("get", "/api/account", None, "auth"),
    ("patch", "/api/account", {"email": "me@example.org"}, "auth"),
    ("get", "/api/account/settings", None, "auth"),
    ("patch", "/api/account/settings", {"show_ids": False}, "auth"),
    ("get", "/api/account/keys", None, "auth"),
    ("post", "/api/account/keys", {"name": "Laptop", "permissions": {}}, "auth"),
    ("delete", "/api/account/keys", None, "auth"),
    ("get", "/api/users", None, "role:users"),
    ("post", "/api/users", {"handle": "carol", "password": "hello-world-1"}, "role:users"),
    ("get", "/api/users/{other}", None, "role:users"),
    ("patch", "/api/users/{other}", {"force_reset": True}, "role:users"),
    ("get", "/api/admin/users", None, "role:users"),
    ("get", "/api/admin/roles", None, "role:base"),
    ("put", "/api/admin/users/{other}/role", {"role": "base"}, "role:full"),
    ("get", "/api/groups", None, "auth"),
    ("get", "/api/groups/{group}", None, "auth"),
    ("post", "/api/groups", {"name": "technicians"}, "role:base"),
    ("patch", "/api/groups/{group}", {"permissions": {"create_sample": True}}, "role:base"),
    ("delete", "/api/groups/{group}", None, "role:base"),
    ("get", "/api/settings", None, "auth"),
    ("patch", "/api/settings", {"sample_unique_names": False}, "role:settings"),
    ("get", "/api/instance_message", None, "auth"),
    ("put", "/api/instance_message", {"message": "Maintenance at 5pm", "active": True}, "role:settings"),
    ("get", "/api/software", None, "role:base"),
]


@pytest.fixture
def ids(make_user):
    other = make_user("dave")
    group = Group.objects.create(name="lab")
    return {"other": other.pk, "group": group.pk}


def call(client, method, path, body, ids):
    return getattr(client, method)(path.format(**ids), body, format="json")


@pytest.mark.parametrize(("method", "path", "body", "rule"), ENDPOINTS)
def test_permission_anonymous_is_401(anon_client, ids, method, path, body, rule):
    response = call(anon_client, method, path, body, ids)
    assert response.status_code == 401
    assert response.json() == {"id": "unauthorized", "message": "Requires authorization"}


@pytest.mark.parametrize(("method", "path", "body", "rule"), [e for e in ENDPOINTS if e[3] != "auth"])
def test_permission_lacking_is_403(make_user, ids, method, path, body, rule):
    # The role just below the one required (or none at all).
    below = {"role:base": None, "role:users": "base", "role:settings": "spaces", "role:full": "settings"}[rule]
    client = client_for(make_user("eve", role=below))
    response = call(client, method, path, body, ids)
    assert response.status_code == 403
    assert response.json() == {"id": "insufficient_rights", "message": "Insufficient rights"}


@pytest.mark.parametrize(("method", "path", "body", "rule"), ENDPOINTS)
def test_permission_allowed_is_2xx(make_user, ids, method, path, body, rule):
    role = None if rule == "auth" else rule.split(":")[1]
    client = client_for(make_user("frank", role=role))
    response = call(client, method, path, body, ids)
    assert 200 <= response.status_code < 300, response.content


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api", None),
        ("post", "/api/account/login", {"handle": "nobody", "password": "whatever-123"}),
        ("get", "/api/account/logout", None),
        ("post", "/api/account/reset", {"password": "whatever-123", "reset_code": "nope"}),
        ("get", "/api/schema", None),
        ("get", "/api/docs", None),
    ],
)
def test_permission_public_endpoints_need_no_login(anon_client, method, path, body):
    response = getattr(anon_client, method)(path, body, format="json")
    assert response.status_code != 401


def test_permission_user_reads_own_document_only(make_user, user_client, user):
    other = make_user("gina")
    assert user_client.get(f"/api/users/{user.pk}").status_code == 200
    assert user_client.get(f"/api/users/{other.pk}").status_code == 403
