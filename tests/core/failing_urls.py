"""The site's URLs plus views that fail on purpose, for the error page tests."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from virtool_site.urls import handler403, handler404, handler500
from virtool_site.urls import urlpatterns as site_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def refuse(request: HttpRequest) -> HttpResponse:
    """Raise PermissionDenied, as a view refusing its visitor does."""
    raise PermissionDenied


def fail(request: HttpRequest) -> HttpResponse:
    """Raise an unexpected error."""
    raise RuntimeError("boom")


urlpatterns = [
    path("api/test/refuse", refuse),
    path("api/test/fail", fail),
    path("test/refuse", refuse),
    path("test/fail", fail),
    *site_urlpatterns,
]
