"""The orjson renderer writes what DRF's JSONRenderer wrote."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid

import numpy as np
import pytest
from rest_framework.renderers import JSONRenderer

from core.api.renderers import ORJSONRenderer

DOCUMENT = {
    "documents": [{"id": "abc12345", "name": "Sample é 植物", "count": 3, "ratio": 0.125, "ready": True, "job": None}],
    "created_at": datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
    "day": datetime.date(2026, 1, 2),
    "price": decimal.Decimal("1.10"),
    "uuid": uuid.UUID(int=5),
    7: "an integer key",
    "big": 2**62,
    "nested": {"empty": [], "text": "line\u2028separator\u2029paragraph"},
}


def test_orjson_renderer_writes_drf_bytes() -> None:
    assert ORJSONRenderer().render(DOCUMENT) == JSONRenderer().render(DOCUMENT)


def test_orjson_renderer_numbers_and_numpy() -> None:
    values = {"small": 1e-9, "array": np.arange(3), "float": np.float64(0.5)}
    assert json.loads(ORJSONRenderer().render(values)) == {"small": 1e-9, "array": [0, 1, 2], "float": 0.5}


def test_orjson_renderer_indent_and_none() -> None:
    assert ORJSONRenderer().render(None) == b""
    indented = ORJSONRenderer().render({"a": 1}, "application/json; indent=2")
    assert indented == JSONRenderer().render({"a": 1}, "application/json; indent=2")


@pytest.mark.django_db
def test_api_answers_through_orjson(user_client) -> None:
    response = user_client.get("/api/account")
    assert response.status_code == 200
    assert type(response.accepted_renderer) is ORJSONRenderer
    assert response.content == JSONRenderer().render(response.data)
