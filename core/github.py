"""GitHub releases, read through the one shared HTTP client: the latest (or one) release of a repository with its
ETag (a 304 costs nothing and leaves the stored release as it is), the releases list, and an asset's download.

Releases are returned in Virtool's shape (`format_release`): `{id, name, body, etag, filename, size, html_url,
download_url, published_at, content_type}`, the first asset standing for the release's file. GitHub's rate limit
(403 or 429 with `X-RateLimit-Remaining: 0`, or a `Retry-After`) is waited out when the wait is short and reported
as a `GitHubError` otherwise; 5xx answers are retried with backoff by the shared client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from packaging.version import InvalidVersion, Version

from core.http import http_session

ACCEPT = "application/vnd.github+json"
CHUNK = 1024 * 1024


class GitHubError(Exception):
    """GitHub could not be asked or refused: the message says why, in words for the status's `errors[]`."""


class GitHubNotFound(GitHubError):
    """GitHub has no such repository or release (404)."""


def _headers(etag: str | None = None) -> dict[str, str]:
    headers = {"Accept": ACCEPT, "X-GitHub-Api-Version": "2022-11-28"}
    if settings.VIRTOOL_GITHUB_TOKEN:
        headers["Authorization"] = f"Bearer {settings.VIRTOOL_GITHUB_TOKEN}"
    if etag:
        headers["If-None-Match"] = etag
    return headers


def _rate_limit_wait(response: requests.Response) -> float | None:
    """Seconds GitHub asks us to wait before asking again, or None when the answer is not a rate limit."""
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("Retry-After")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return float(settings.VIRTOOL_GITHUB_MAX_WAIT) + 1
    if response.headers.get("X-RateLimit-Remaining") == "0":
        try:
            reset = float(response.headers.get("X-RateLimit-Reset", ""))
        except ValueError:
            return float(settings.VIRTOOL_GITHUB_MAX_WAIT) + 1
        return max(0.0, reset - time.time())
    return None


def _get(url: str, *, etag: str | None = None, stream: bool = False) -> requests.Response:
    """GET with the shared client, waiting out short rate limits (at most `VIRTOOL_GITHUB_MAX_WAIT` seconds each,
    three times)."""
    with http_session() as session:
        for _ in range(3):
            try:
                response = session.get(url, headers=_headers(etag), stream=stream)
            except requests.RequestException as error:
                raise GitHubError(f"Could not reach GitHub ({type(error).__name__})") from error
            wait = _rate_limit_wait(response)
            if wait is None:
                return response
            response.close()
            if wait > settings.VIRTOOL_GITHUB_MAX_WAIT:
                until = datetime.fromtimestamp(time.time() + wait, UTC).strftime("%H:%M UTC")
                raise GitHubError(f"GitHub's rate limit is reached; it lifts at {until}")
            time.sleep(wait)
    raise GitHubError("GitHub's rate limit is reached; try again later")


def _check(response: requests.Response, slug: str) -> None:
    if response.status_code == 404:
        raise GitHubNotFound(f"GitHub repository or release does not exist: {slug}")
    if response.status_code >= 400:
        raise GitHubError(f"GitHub answered {response.status_code} for {slug}")


def format_release(data: dict[str, Any], etag: str | None) -> dict[str, Any]:
    """A GitHub release in Virtool's shape; its first asset is the release's file."""
    assets = data.get("assets") or []
    if not assets:
        raise GitHubError(f"Release {data.get('name') or data.get('tag_name')} has no file attached")
    asset = assets[0]
    return {
        "id": data["id"],
        "name": data.get("name") or data.get("tag_name") or "",
        "body": data.get("body") or "",
        "etag": etag,
        "filename": asset["name"],
        "size": asset["size"],
        "html_url": data.get("html_url"),
        "download_url": asset["browser_download_url"],
        "published_at": data.get("published_at"),
        "content_type": asset.get("content_type"),
    }


def release_get(slug: str, *, release_id: int | str = "latest", etag: str | None = None) -> dict[str, Any] | None:
    """The latest (or the given) release of `slug` in Virtool's shape; None when GitHub says it has not changed
    since `etag` (304)."""
    url = f"{settings.VIRTOOL_GITHUB_API_URL.rstrip('/')}/repos/{slug}/releases/{release_id}"
    response = _get(url, etag=etag)
    if response.status_code == 304:
        return None
    _check(response, slug)
    try:
        data = response.json()
    except ValueError as error:
        raise GitHubError(f"GitHub's answer for {slug} is not JSON") from error
    return format_release(data, response.headers.get("ETag"))


def releases_list(slug: str, *, etag: str | None = None) -> tuple[list[dict[str, Any]], str | None] | None:
    """Every published release of `slug` (newest first) in GitHub's shape with the list's ETag, or None (304)."""
    url = f"{settings.VIRTOOL_GITHUB_API_URL.rstrip('/')}/repos/{slug}/releases"
    response = _get(url, etag=etag)
    if response.status_code == 304:
        return None
    _check(response, slug)
    try:
        data = response.json()
    except ValueError as error:
        raise GitHubError(f"GitHub's answer for {slug} is not JSON") from error
    releases = [release for release in data if not release.get("draft")]
    return releases, response.headers.get("ETag")


def asset_download(url: str, target: Path, *, progress: Callable[[int, int], None] | None = None) -> Path:
    """Download a release asset to `target` (written under a temporary name, renamed when complete)."""
    partial = target.with_name(f".{target.name}.partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    response = _get(url, stream=True)
    try:
        _check(response, url)
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        with partial.open("wb") as out:
            for chunk in response.iter_content(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
        if total and done != total:
            raise GitHubError(f"The download of {target.name} stopped at {done} of {total} bytes")
    except requests.RequestException as error:
        partial.unlink(missing_ok=True)
        raise GitHubError(f"The download of {target.name} from GitHub failed ({type(error).__name__})") from error
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        response.close()
    partial.replace(target)
    return target


def version_of(name: str | None) -> Version | None:
    """The version a release or tag name carries ("v2.1.0" → 2.1.0), None when it carries none."""
    if not name:
        return None
    try:
        return Version(name.strip().lstrip("vV"))
    except InvalidVersion:
        return None


def is_newer(candidate: str | None, installed: str | None) -> bool:
    """Whether release `candidate` is newer than `installed` by their versions (names that are no version compare
    as different-is-newer, as a release that is not the installed one)."""
    if not candidate:
        return False
    if not installed:
        return True
    new, old = version_of(candidate), version_of(installed)
    if new is None or old is None:
        return candidate != installed
    return new > old


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
