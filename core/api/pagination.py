"""Virtool's page shape: `{documents, found_count, total_count, page, page_count, per_page}`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar

from django.db.models import Model, QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

if TYPE_CHECKING:  # rest_framework.views reads the pagination class from settings: no cycle at run time
    from rest_framework.views import APIView

from core.api.exceptions import QueryValidationError
from core.constants import DB_INT_MAX, DB_INT_MIN

# The offset of the last page must fit the database's 64-bit integers.
MAX_PAGE = DB_INT_MAX // 100

_Model = TypeVar("_Model", bound=Model)
_Row = TypeVar("_Row")


class Page(TypedDict, Generic[_Row]):
    """The rows of the requested page (the counts stay on the paginator for the response)."""

    objects: list[_Row]


def query_int(request: Request, name: str, default: int, minimum: int = 1, maximum: int | None = DB_INT_MAX) -> int:
    """Read a positive integer from the query string, or fail with a query-string validation error."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryValidationError({name: ["value is not a valid integer"]}, code="type_error.integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise QueryValidationError({name: [f"ensure this value is {bound}"]}, code="value_error.number")
    return value


def query_ints(values: list[str], name: str) -> list[int]:
    """Integers given in the query string (`label=1&label=2`), or a query-string validation error naming `name`."""
    try:
        numbers = [int(value) for value in values]
    except ValueError:
        raise QueryValidationError({name: ["value is not a valid integer"]}) from None
    if any(not DB_INT_MIN <= number <= DB_INT_MAX for number in numbers):
        raise QueryValidationError(
            {name: [f"ensure this value is between {DB_INT_MIN} and {DB_INT_MAX}"]}, code="value_error.number"
        )
    return numbers


def query_bool(request: Request, name: str) -> bool | None:
    """Read an optional boolean (true/false/1/0/yes/no) from the query string; None when absent."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise QueryValidationError({name: ["value could not be parsed to a boolean"]}, code="type_error.bool")


class VirtoolPagination(BasePagination):
    """Page through a queryset the way Virtool does; `total_count` ignores filters, `found_count` does not."""

    items_key = "documents"
    default_per_page = 25
    max_per_page = 100

    def paginate(
        self, *, request: Request, queryset: QuerySet[_Model, _Row], total_queryset: QuerySet[Model, object]
    ) -> Page[_Row]:
        """Slice `queryset` for the requested page and return the page metadata without the documents."""
        self.page = query_int(request, "page", 1, maximum=MAX_PAGE)
        self.per_page = query_int(request, "per_page", self.default_per_page, maximum=self.max_per_page)
        self.found_count = queryset.count()
        self.total_count = total_queryset.count()
        start = (self.page - 1) * self.per_page
        return {"objects": list(queryset[start : start + self.per_page])}

    def paginate_queryset(
        self, queryset: QuerySet[_Model, _Row] | Sequence[_Row], request: Request, view: APIView | None = None
    ) -> list[_Row] | None:  # DRF's generic hook
        if not isinstance(queryset, QuerySet):  # pages need counts: a plain sequence would fail on `count()`
            raise TypeError("VirtoolPagination pages querysets")
        total = view.get_total_queryset() if view is not None and hasattr(view, "get_total_queryset") else queryset
        return self.paginate(request=request, queryset=queryset, total_queryset=total)["objects"]

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                self.items_key: data,
                "found_count": self.found_count,
                "total_count": self.total_count,
                "page": self.page,
                "page_count": math.ceil(self.found_count / self.per_page) if self.found_count else 0,
                "per_page": self.per_page,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": [self.items_key, "found_count", "total_count", "page", "page_count", "per_page"],
            "properties": {
                self.items_key: schema,
                "found_count": {"type": "integer"},
                "total_count": {"type": "integer"},
                "page": {"type": "integer"},
                "page_count": {"type": "integer"},
                "per_page": {"type": "integer"},
            },
        }


class ItemsPagination(VirtoolPagination):
    """The same page under the key `items` (Virtool's uploads and paginated groups)."""

    items_key = "items"
