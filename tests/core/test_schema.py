"""/api/schema describes every answer: typed bodies, Virtool's errors, 201 with Location, 204 for deletes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

# Creates that answer 201 without a Location: a login opens a session, a batch makes several analyses.
CREATED_WITHOUT_LOCATION = {"POST /api/account/login", "POST /api/analyses"}
# The only routes that read no credentials at all, so that a wrong one cannot be refused with 401.
WITHOUT_CREDENTIALS = {"POST /api/account/login", "POST /api/account/reset", "PUT /api/users/first"}


@pytest.fixture
def schema(admin_client) -> dict:
    response = admin_client.get("/api/schema?format=json")
    assert response.status_code == 200
    return response.json()


def _operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def _free_form(body: dict) -> bool:
    return body.get("type") == "object" and "properties" not in body and "$ref" not in body


def test_every_success_body_is_typed(schema):
    loose = []
    for label, operation in _operations(schema):
        for code, response in operation["responses"].items():
            for media_type, content in response.get("content", {}).items():
                if code.startswith("2") and media_type == "application/json" and _free_form(content["schema"]):
                    loose.append(f"{label} {code}")
    assert loose == []


def test_creates_deletes_and_errors_are_declared(schema):
    components = schema["components"]["schemas"]
    assert set(components["Error"]["required"]) == {"id", "message"}
    assert components["BadRequest"]["oneOf"][1]["items"] == {"$ref": "#/components/schemas/ValidationError"}
    for label, operation in _operations(schema):
        codes = set(operation["responses"])
        if label.startswith("DELETE"):
            assert "204" in codes or label == "DELETE /api/jobs", label
        if "201" in codes and label not in CREATED_WITHOUT_LOCATION:
            assert "Location" in operation["responses"]["201"].get("headers", {}), label
        if "{" in label:
            assert "404" in codes, label
        assert ("401" in codes) is (label not in WITHOUT_CREDENTIALS), label
        for code in codes - {"200", "201", "204", "206", "416"}:
            body = operation["responses"][code]["content"]["application/json"]["schema"]
            assert body["$ref"].rsplit("/", 1)[1] in {"Error", "BadRequest"}, (label, code)


def test_pages_carry_virtools_envelope_and_extra_keys(schema):
    components = schema["components"]["schemas"]
    page = components["SamplePage"]
    assert set(page["required"]) == {"documents", "found_count", "total_count", "page", "page_count", "per_page"}
    assert "items" in components["UploadPage"]["properties"]
    assert "modified_count" in components["OTUPage"]["properties"]
    assert "counts" in components["JobPage"]["properties"]
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/samples"]["get"]["parameters"]}
    assert parameters["per_page"] == {"type": "integer", "minimum": 1, "maximum": 100}


def test_downloads_are_binary_with_their_content_types(schema):
    reads = schema["paths"]["/api/samples/{sample_id}/reads/{filename}"]["get"]["responses"]
    assert reads["200"]["content"]["application/gzip"]["schema"] == {"type": "string", "format": "binary"}
    assert set(reads) >= {"206", "416"}
    export = schema["paths"]["/api/analyses/documents/{analysis_id}.{extension}"]["get"]["responses"]["200"]
    assert set(export["content"]) == {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def test_nullable_fields_are_nullable(schema):
    sample = schema["components"]["schemas"]["Sample"]["properties"]
    assert sample["quality"].get("nullable") is True
    assert sample["group"].get("nullable") is True
    assert schema["components"]["schemas"]["Upload"]["properties"]["expires_at"]["nullable"] is True
    message = schema["paths"]["/api/instance_message"]["get"]["responses"]["200"]["content"]["application/json"]
    assert message["schema"]["nullable"] is True
