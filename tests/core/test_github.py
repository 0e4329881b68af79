"""GitHub releases through the shared client, against a real HTTP server on 127.0.0.1 playing recorded answers:
Virtool's release shape, ETag and 304, 5xx retried, rate limits waited out or reported, asset downloads."""

from __future__ import annotations

import time

import pytest

from core import github as gh
from tests.github_server import Answer, download_path, recorded, with_asset

SLUG = "virtool/ref-plant-viruses"
LATEST = f"/repos/{SLUG}/releases/latest"


@pytest.fixture(autouse=True)
def quick(settings):
    settings.VIRTOOL_GITHUB_MAX_WAIT = 2.0


def test_latest_release_in_virtools_shape_then_304_until_it_changes(github):
    document = with_asset(recorded("ref-plant-viruses-v1.json"), b"x" * 1234)
    github.script(LATEST, github.json(document, etag='W/"a1"'))
    assert gh.release_get(SLUG) == {
        "id": 171025410,
        "name": "v1.0.0",
        "body": "## Changes\n\n- First release of the demo plant virus reference (23 OTUs).",
        "etag": 'W/"a1"',
        "filename": "reference.json.gz",
        "size": 1234,
        "html_url": "https://github.com/virtool/ref-plant-viruses/releases/tag/v1.0.0",
        "download_url": f"{github.url}/downloads/virtool/ref-plant-viruses/v1.0.0/reference.json.gz",
        "published_at": "2024-08-21T18:32:17Z",
        "content_type": "application/gzip",
    }
    # Asked again with the ETag: 304, nothing to change.
    assert gh.release_get(SLUG, etag='W/"a1"') is None
    headers = github.requests[-1][1]
    assert headers["If-None-Match"] == 'W/"a1"'
    assert headers["User-Agent"].startswith("virtool/")
    assert headers["Accept"] == "application/vnd.github+json"


def test_a_502_is_retried_and_the_next_answer_used(github):
    document = with_asset(recorded("ref-plant-viruses-v1.json"), b"x")
    github.script(LATEST, Answer(status=502, body=b"Bad gateway"), github.json(document, etag='"b"'))
    release = gh.release_get(SLUG)
    assert release is not None
    assert release["name"] == "v1.0.0"
    assert github.paths() == [LATEST, LATEST]


def test_a_rate_limit_with_retry_after_is_waited_out(github):
    document = with_asset(recorded("ref-plant-viruses-v1.json"), b"x")
    limited = github.json(recorded("rate_limited.json"), status=429, **{"Retry-After": "1"})
    github.script(LATEST, limited, github.json(document))
    started = time.monotonic()
    release = gh.release_get(SLUG)
    assert release is not None
    assert release["id"] == 171025410
    assert time.monotonic() - started >= 0.9
    assert github.paths() == [LATEST, LATEST]


def test_a_rate_limit_lifting_later_than_the_longest_wait_is_reported_without_waiting(github):
    reset = str(int(time.time()) + 3600)
    limited = github.json(
        recorded("rate_limited.json"), status=403, **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    )
    github.script(LATEST, limited)
    started = time.monotonic()
    with pytest.raises(gh.GitHubError, match="GitHub's rate limit is reached; it lifts at"):
        gh.release_get(SLUG)
    assert time.monotonic() - started < 2
    assert github.paths() == [LATEST]


def test_unknown_repository_and_unreachable_github_are_errors_in_words(github, settings):
    github.script(LATEST, github.json(recorded("not_found.json"), status=404))
    with pytest.raises(gh.GitHubError, match="does not exist: virtool/ref-plant-viruses"):
        gh.release_get(SLUG)
    settings.VIRTOOL_GITHUB_API_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(gh.GitHubError, match="Could not reach GitHub"):
        gh.release_get(SLUG)


def test_asset_download_is_whole_or_nothing(github, tmp_path):
    content = b"reference bytes" * 1000
    document = with_asset(recorded("ref-plant-viruses-v1.json"), content)
    github.script(download_path(document), github.file(content))
    url = document["assets"][0]["browser_download_url"].replace("{base}", github.url)
    seen: list[tuple[int, int]] = []
    target = gh.asset_download(url, tmp_path / "reference.json.gz", progress=lambda d, t: seen.append((d, t)))
    assert target.read_bytes() == content
    assert seen[-1] == (len(content), len(content))
    github.script(download_path(document), github.json(recorded("not_found.json"), status=404))
    with pytest.raises(gh.GitHubError):
        gh.asset_download(url, tmp_path / "again.json.gz")
    assert [path.name for path in tmp_path.iterdir()] == ["reference.json.gz"]


@pytest.mark.parametrize(
    ("candidate", "installed", "newer"),
    [
        ("v1.1.0", "v1.0.0", True),
        ("v1.0.0", "v1.0.0", False),
        ("v0.9.0", "v1.0.0", False),
        ("v1.0.0", None, True),
        ("v10.0.0", "v9.2.1", True),
        ("nightly", "v1.0.0", True),
        (None, "v1.0.0", False),
    ],
)
def test_newer_by_version(candidate, installed, newer):
    assert gh.is_newer(candidate, installed) is newer
