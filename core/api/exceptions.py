"""Render every API failure in Virtool's shapes.

Non-validation failures are `{"id", "message"}`. Schema validation failures are a 400 whose body is a bare
array of `{"in", "loc", "msg", "type"}` records with pydantic-v1 style type codes, as Virtool's clients expect.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError

# DRF error codes mapped to the pydantic-v1 type codes Virtool's validation errors carry.
_TYPE_CODES = {
    "required": "value_error.missing",
    "null": "value_error",
    "blank": "value_error.any_str.min_length",
    "invalid_choice": "type_error.enum",
    "max_length": "value_error.any_str.max_length",
    "min_length": "value_error.any_str.min_length",
    "max_value": "value_error.number.not_le",
    "min_value": "value_error.number.not_ge",
    "unknown": "value_error.extra",
    "not_a_list": "type_error.list",
    "not_a_dict": "type_error.dict",
    "empty": "value_error.list.min_items",
    "max_string_length": "value_error.any_str.max_length",
}


# One of Virtool's validation errors: where (`body` or `query string`, and a field path), what, and its code. The
# functional form, because `in` is a Python keyword.
ValidationRecord = TypedDict("ValidationRecord", {"in": str, "loc": list[str | int], "msg": str, "type": str})


def _flatten(detail: Any, loc: list[str | int], location: str, out: list[ValidationRecord]) -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            field = "__root__" if key == "non_field_errors" else key
            _flatten(value, [*loc, field], location, out)
    elif isinstance(detail, list):
        if detail and all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            for item in detail:
                _flatten(item, loc, location, out)
        else:
            for index, item in enumerate(detail):
                if item:
                    _flatten(item, [*loc, index], location, out)
    else:
        code = getattr(detail, "code", "invalid")
        out.append(
            {"in": location, "loc": loc or ["__root__"], "msg": str(detail), "type": _TYPE_CODES.get(code, code)}
        )


def validation_errors(detail: Any, location: str = "body") -> list[ValidationRecord]:
    """Flatten a DRF validation detail into Virtool's list of `{in, loc, msg, type}` records."""
    out: list[ValidationRecord] = []
    _flatten(detail, [], location, out)
    for record in out:
        if record["type"] == "invalid":
            record["type"] = "value_error"
    return out


class QueryValidationError(exceptions.ValidationError):
    """A validation failure in the query string rather than the body."""


def error_response(error_id: str, message: str, status_code: int) -> Response:
    """Build Virtool's error envelope."""
    return Response({"id": error_id, "message": message}, status=status_code)


def too_big_message() -> str:
    """Why a body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused (413)."""
    return f"Request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler producing Virtool-shaped bodies."""
    if isinstance(exc, RequestDataTooBig):
        return error_response("payload_too_large", too_big_message(), 413)
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, a malformed body Django refuses
        return error_response("bad_request", str(exc) or "Bad request", 400)
    if isinstance(exc, ApplicationError):
        response = error_response(exc.error_id, exc.message, exc.status)
        if exc.errors:
            response.data["errors"] = exc.errors
        return response
    if isinstance(exc, exceptions.ValidationError):
        location = "query string" if isinstance(exc, QueryValidationError) else "body"
        return Response(validation_errors(exc.detail, location), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError):
        return error_response("bad_request", f"Invalid JSON: {exc.detail}", 400)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        message = "Requires authorization" if isinstance(exc, exceptions.NotAuthenticated) else str(exc.detail)
        auth_header = getattr(exc, "auth_header", None)
        if not auth_header:  # DRF found no challenge to offer: the client is known but refused
            return error_response("insufficient_rights", "Insufficient rights", 403)
        response = error_response("unauthorized", message, 401)
        response["WWW-Authenticate"] = auth_header
        return response
    if isinstance(exc, exceptions.PermissionDenied | PermissionDenied):
        detail = getattr(exc, "detail", "")
        message = str(detail) if detail and str(detail) != exceptions.PermissionDenied.default_detail else ""
        return error_response("insufficient_rights", message or "Insufficient rights", 403)
    if isinstance(exc, exceptions.NotFound | Http404):
        return error_response("not_found", "Not found", 404)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return error_response("method_not_allowed", "Method not allowed", 405)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return error_response("unsupported_media_type", str(exc.detail), 415)
    if isinstance(exc, exceptions.APIException):
        handled = drf_exception_handler(exc, context)
        if handled is not None:
            handled.data = {
                "id": exc.get_codes() if isinstance(exc.get_codes(), str) else "error",
                "message": str(exc.detail),
            }
        return handled
    return None
