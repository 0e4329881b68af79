"""The one HTTP client for outgoing requests (GitHub releases, NCBI): Virtool User-Agent, proxy, timeouts, retries.

Every outgoing request goes through `http_session()` so that the proxy setting, the time limits and the retry
policy are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response
from urllib3.util.retry import Retry

from core.version import get_version

# (connect, read) seconds: a dead host fails fast, a slow download is not cut off too early.
DEFAULT_TIMEOUT = (5.0, 60.0)
RETRY_STATUSES = (429, 500, 502, 503, 504)


class _TimeoutAdapter(HTTPAdapter):
    """Applies the default timeout to requests that do not set one."""

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        return super().send(
            request,
            stream=stream,
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def http_session(*, retries: int = 3, backoff: float = 0.5) -> requests.Session:
    """A configured `requests.Session`; use it as a context manager."""
    session = requests.Session()
    session.headers["User-Agent"] = f"virtool/{get_version()}"
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter = _TimeoutAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if settings.VIRTOOL_PROXY:
        session.proxies = {"http": settings.VIRTOOL_PROXY, "https": settings.VIRTOOL_PROXY}
        session.trust_env = False
    return session
