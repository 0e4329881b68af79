"""OpenAPI descriptions every API shares: Virtool's error bodies, its page envelope, the `Location` of creates,
binary downloads, and typed pass-through fields for JSON that is stored and sent as it is."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers

from core.api.pagination import MAX_PAGE
from core.api.serializers import AnySerializer
from core.constants import DB_INT_MAX, DB_INT_MIN

ERROR_DESCRIPTIONS = {
    400: "The request is malformed or cannot be honoured (Virtool's error, or its array of validation errors).",
    401: "No valid credentials were sent.",
    403: "The client may not do this.",
    404: "The object does not exist.",
    409: "The object's current state forbids this.",
    412: "The request lacks `Tus-Resumable: 1.0.0` (or names another version): the answer's `Tus-Version` says ours.",
    413: "The body is larger than this server accepts.",
    415: "The body is not of the content type this operation takes.",
    423: "Another request is changing this object now: try again in a moment.",
    460: "The bytes received do not have the checksum sent with them (tus's checksum extension): nothing was kept.",
    429: "Too many failed logins for this handle or from this address: try again later (`Retry-After`).",
    502: "A service outside this instance (NCBI, GitHub) could not be reached or gave an answer that cannot be used.",
    503: "The job queue (Redis) cannot be reached: what the request made is kept and its job starts once it is back.",
    416: "The requested byte range lies outside the file (`Content-Range: bytes */size`, no body).",
}


def described(schema: Any, **kwargs: Any) -> serializers.JSONField:
    """A field that sends its value unchanged and is documented as `schema` (a serializer, a type or a raw schema)."""
    # For JSON stored and sent as it is (job status records, quality reports, history diffs): a nested serializer
    # would fail on a stored record that lacks a key, where this passes it through.
    field_class: type[serializers.JSONField] = type("DescribedField", (serializers.JSONField,), {})
    return extend_schema_field(schema)(field_class)(**kwargs)


LOCATION_ITEMS = {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}


class ErrorSerializer(AnySerializer):
    """Virtool's error envelope; `errors` lists every problem when there are several (an imported file's)."""

    id = serializers.CharField(help_text="bad_request, unauthorized, insufficient_rights, not_found, conflict, ...")
    message = serializers.CharField()
    # The stubs see Serializer.errors here; DRF's metaclass moves declared fields off the class, so it stays intact.
    errors = serializers.ListField(  # type: ignore[assignment]
        child=inline_serializer(
            "ErrorProblem",
            {
                "loc": described(LOCATION_ITEMS),
                "msg": serializers.CharField(),
            },
        ),
        required=False,
    )


class ValidationErrorSerializer(AnySerializer):
    """One of Virtool's validation errors; a 400 for invalid input is an array of them."""

    loc = described(
        LOCATION_ITEMS, help_text="Where: a field path such as `[files, 0]`, or `[__root__]` for the whole body."
    )
    msg = serializers.CharField()
    type = serializers.CharField(help_text="pydantic-v1 style code, e.g. `value_error.missing`.")


# `in` is a Python keyword, so it joins the fields after the class body, first as Virtool sends it.
ValidationErrorSerializer._declared_fields = {
    "in": serializers.ChoiceField(choices=["body", "query string"]),
    **ValidationErrorSerializer._declared_fields,
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """`responses` entries for the errors an operation gives, each with Virtool's body."""
    out: dict[int, OpenApiResponse] = {}
    for code in codes:
        if code == 400:
            body: Any = _bad_request()
        elif code == 416:
            body = None
        else:
            body = ErrorSerializer
        out[code] = OpenApiResponse(body, description=ERROR_DESCRIPTIONS[code])
    return out


def _bad_request() -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name="BadRequest",
        # drf-spectacular takes a ListSerializer here (the array of validation errors); its hint names Serializer only.
        serializers=[ErrorSerializer, serializers.ListSerializer(child=ValidationErrorSerializer())],  # type: ignore[list-item]
        resource_type_field_name=None,
        many=False,
    )


_PAGES: dict[str, AnySerializer] = {}


def page_serializer(
    name: str,
    item: AnySerializer | type[AnySerializer],
    *,
    key: str = "documents",
    **extra: serializers.Field[Any, Any, Any, Any],
) -> AnySerializer:
    """Virtool's page envelope around `item` documents under `key`, plus any `extra` fields the list sends."""
    # One component per name: lists of the same documents (a reference's history, an index's) share it.
    if name not in _PAGES:
        child = item() if isinstance(item, type) else item
        _PAGES[name] = inline_serializer(
            name,
            {
                key: serializers.ListSerializer(child=child),
                "found_count": serializers.IntegerField(help_text="Documents matching the filters."),
                "total_count": serializers.IntegerField(help_text="Documents without the filters."),
                "page": serializers.IntegerField(),
                "page_count": serializers.IntegerField(),
                "per_page": serializers.IntegerField(),
                **extra,
            },
        )
    return _PAGES[name]


def one_of(name: str, *choices: Any) -> PolymorphicProxySerializer:
    """A response that is one of several shapes (e.g. a bare list or a page, chosen by a query parameter)."""
    return PolymorphicProxySerializer(
        component_name=name, serializers=list(choices), resource_type_field_name=None, many=False
    )


# `responses` of `extend_schema` by status code, or by status code and content type.
Responses = dict[int | tuple[int, str], OpenApiResponse | OpenApiTypes]


def binary(*content_types: str) -> Responses:
    """A 200 `responses` entry for a file download in the given content types."""
    return {(200, content_type): OpenApiTypes.BINARY for content_type in content_types}


def ranged_download(*content_types: str) -> Responses:
    """`responses` of a download served by `ranged_file_response`: the file, a 206 part, or 416 outside it."""
    responses = binary(*content_types)
    responses[(206, "application/octet-stream")] = OpenApiResponse(
        OpenApiTypes.BINARY, description="The requested range."
    )
    responses.update(error_responses(416).items())
    return responses


# Virtool's creates answer 201 with the new resource's path in `Location`.
LOCATION = OpenApiParameter(
    "Location", str, OpenApiParameter.HEADER, response=[201], description="Path of the created resource."
)
# Downloads honour one `Range: bytes=a-b` (206 with Content-Range, 416 outside the file).
RANGE = OpenApiParameter(
    "Range", str, OpenApiParameter.HEADER, required=False, description="One byte range, e.g. `bytes=0-1023`."
)


def int_parameter(
    name: str, *, minimum: int = DB_INT_MIN, maximum: int = DB_INT_MAX, many: bool = False, description: str = ""
) -> OpenApiParameter:
    """An integer in the query string with the bounds its reader (`core.api.pagination.query_int`, `query_ints`)
    enforces, so the schema says what is refused."""
    schema: dict[str, Any] = {"type": "integer", "minimum": minimum, "maximum": maximum}
    if many:  # `user=1&user=2`: an array, repeated in the query string (OpenAPI's default form style)
        schema = {"type": "array", "items": schema}
    return OpenApiParameter(name, schema, description=description)


PAGE_PARAMETERS = [
    OpenApiParameter(
        "page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, description="Page number, from 1."
    ),
    OpenApiParameter(
        "per_page", {"type": "integer", "minimum": 1, "maximum": 100}, description="Documents per page (default 25)."
    ),
]
FIND = OpenApiParameter("find", str, description="Only documents whose name contains this (case-insensitive).")
