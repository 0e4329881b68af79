"""No input produces a 5xx: JSON depth and body size, field lengths, bounded integers everywhere the schema takes
one, the samples list reading no notes, and the websocket handshake while Redis is down (issue 12, item 3)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import free_port, session_cookie_for
from tests.live import daphne

pytestmark = pytest.mark.django_db


def test_json_nested_100000_deep_is_a_400_naming_the_reason(admin_client):
    body = "[" * 100_000 + "]" * 100_000
    response = admin_client.post("/api/labels", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["id"] == "bad_request"
    assert "nested" in response.json()["message"]


def test_json_nested_past_the_limit_is_refused_and_shallow_json_is_not(admin_client):
    from core.api.parsers import MAX_JSON_DEPTH

    deep = {"name": "L", "description": "d"}
    for _ in range(MAX_JSON_DEPTH):
        deep = {"x": deep}
    response = admin_client.post("/api/labels", json.dumps(deep), content_type="application/json")
    assert response.status_code == 400
    assert f"more than {MAX_JSON_DEPTH} levels" in response.json()["message"]
    response = admin_client.post("/api/labels", {"name": "L", "description": "d"}, format="json")
    assert response.status_code == 201


def test_a_body_over_the_size_limit_is_virtools_json_413(admin_client):
    body = json.dumps({"name": "x", "description": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = admin_client.post("/api/labels", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "id": "payload_too_large",
        "message": f"Request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes",
    }


def test_a_one_megabyte_label_description_is_refused(admin_client):
    response = admin_client.post("/api/labels", {"name": "L", "description": "a" * 1024**2}, format="json")
    assert response.status_code == 400
    assert [(error["loc"], error["type"]) for error in response.json()] == [
        (["description"], "value_error.any_str.max_length")
    ]
    label = admin_client.post("/api/labels", {"name": "L"}, format="json").json()
    response = admin_client.patch(f"/api/labels/{label['id']}", {"description": "a" * 1024**2}, format="json")
    assert response.status_code == 400
    assert response.json()[0]["loc"] == ["description"]


def test_nine_megabytes_of_sample_notes_are_refused(admin_client):
    from samples.models import Sample

    sample = Sample.objects.create(name="S", ready=True)
    response = admin_client.patch(f"/api/samples/{sample.pk}", {"notes": "n" * 9 * 1024**2}, format="json")
    assert response.status_code == 400
    assert [error["loc"] for error in response.json()] == [["notes"]]
    response = admin_client.post("/api/samples", {"name": "T", "files": [1], "notes": "n" * 9 * 1024**2}, format="json")
    assert response.status_code == 400
    assert ["notes"] in [error["loc"] for error in response.json()]


def test_models_bound_label_descriptions_and_notes():
    from django.core.exceptions import ValidationError

    from samples.models import Label, Sample

    with pytest.raises(ValidationError) as raised:
        Label(name="L", description="a" * 1024**2).full_clean()
    assert "description" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        Sample(name="S", notes="n" * 9 * 1024**2).full_clean(exclude=["job", "group", "user"])
    assert "notes" in raised.value.message_dict


def test_the_samples_list_reads_no_notes(admin_client):
    from samples.models import Sample

    Sample.objects.create(name="S", ready=True, notes="n" * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/api/samples")
    assert response.status_code == 200
    assert response.json()["documents"][0]["name"] == "S"
    sample_queries = [query["sql"] for query in queries.captured_queries if 'FROM "samples_sample"' in query["sql"]]
    assert sample_queries
    assert not [sql for sql in sample_queries if '"notes"' in sql or '"quality"' in sql]


def _request_properties(schema):
    """Every property of every request body in the schema, as (component, path, property schema)."""
    components = schema["components"]["schemas"]
    seen: set[str] = set()

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"].split("/")[-1]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    todo = [
        name
        for ops in schema["paths"].values()
        for op in ops.values()
        if isinstance(op, dict)
        for name in refs(op.get("requestBody", {}))
    ]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(refs(components[name]))

    def walk(name, node, path):
        if not isinstance(node, dict):
            return
        yield name, path, node
        for key, value in node.get("properties", {}).items():
            yield from walk(name, value, f"{path}.{key}")
        if "items" in node:
            yield from walk(name, node["items"], f"{path}[]")
        if isinstance(node.get("additionalProperties"), dict):
            yield from walk(name, node["additionalProperties"], f"{path}{{}}")

    for name in sorted(seen):
        yield from walk(name, components[name], "")


def test_every_string_and_integer_a_client_sends_is_bounded_in_the_schema(admin_client):
    schema = admin_client.get("/api/schema?format=json").json()
    unbounded = [
        f"{name}{path}"
        for name, path, node in _request_properties(schema)
        if (node.get("type") == "string" and "maxLength" not in node and "enum" not in node and "format" not in node)
        or (node.get("type") == "integer" and ("maximum" not in node or "minimum" not in node))
    ]
    assert unbounded == []
    parameters = [
        (path, parameter["name"])
        for path, ops in schema["paths"].items()
        for op in ops.values()
        if isinstance(op, dict)
        for parameter in op.get("parameters", [])
        if parameter["in"] == "query"
        for value in [parameter.get("schema", {}).get("items", parameter.get("schema", {}))]
        if value.get("type") == "integer" and not {"minimum", "maximum"} <= set(value)
    ]
    assert parameters == []


# --- The websocket handshake while Redis is down, through a real daphne ----------------------------------------


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_websocket_handshake_while_redis_is_down_is_a_closed_socket_with_a_reason(request, tmp_path, user):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from core.constants import WS_CLOSE_TRY_AGAIN
    from core.consumers import LAYER_DOWN_REASON

    cookie = f"sessionid={session_cookie_for(user)}"
    with daphne(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0") as (url, _):
        socket_url = url.replace("http://", "ws://") + "/ws"
        headers = {"Cookie": cookie, "Origin": url}
        with (
            connect(socket_url, additional_headers=headers, open_timeout=10) as socket,
            pytest.raises(ConnectionClosed) as closed,
        ):
            socket.recv(timeout=15)
        log = (tmp_path / "daphne.log").read_text()
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (WS_CLOSE_TRY_AGAIN, LAYER_DOWN_REASON), log
        assert "Traceback" not in log


@pytest.mark.parametrize(
    "url",
    ["/api/labels?find=a%00b", "/api/admin/users?find=%00", "/api/samples?find=x&label=%00", "/api/refs?f%00ind=1"],
)
def test_a_nul_character_in_the_query_string_is_a_400_naming_the_parameter(admin_client, url):
    # PostgreSQL text cannot hold NUL: before, a search term with one failed in the database with a 500.
    response = admin_client.get(url)
    assert response.status_code == 400
    name = url.split("?")[1].split("=")[-2].split("&")[-1].replace("%00", "")
    assert response.json() == [
        {"in": "query string", "loc": [name], "msg": "contains a NUL character", "type": "value_error.str.nul"}
    ]


def test_a_nul_character_in_a_page_query_string_is_a_plain_400(admin_client):
    response = admin_client.get("/samples?find=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
