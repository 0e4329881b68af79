"""HMM releases against a fake GitHub on 127.0.0.1: the refresher records the latest release of `hmm_slug` with
`newer`, a 304 only renews `retrieved_at`, a 502 is retried, a rate limit with Retry-After waited out, failures are
written into `errors` (and cleared by the next good check), two refreshes at once ask GitHub once; and the release
is installed by the `install_hmms` job (its asset downloaded first), on a real Celery worker."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from core.selectors import settings_get
from hmm import selectors, services
from hmm.models import HMM, HMMStatus
from hmm.tasks import hmm_release_refresh_task
from jobs.models import Job
from tests.conftest import client_for, run_waiting_jobs, wait_for
from tests.github_server import Answer, download_path, recorded, with_asset
from tests.hmm.conftest import release_archive

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "virtool/virtool-hmm"
LATEST = f"/repos/{SLUG}/releases/latest"
ARCHIVE = release_archive()


@pytest.fixture(autouse=True)
def quick(settings):
    settings.VIRTOOL_GITHUB_MAX_WAIT = 3.0


def release_document(name: str = "v0.2.1", release_id: int = 103342874) -> dict:
    document = with_asset(recorded("virtool-hmm-v1.json"), ARCHIVE)
    document.update(id=release_id, name=name, tag_name=name)
    document["assets"][0]["browser_download_url"] = f"{{base}}/downloads/virtool/virtool-hmm/{name}/vthmm.tar.gz"
    return document


def serve_release(github, name: str = "v0.2.1", *, etag: str = 'W/"r1"', release_id: int = 103342874) -> dict:
    document = release_document(name, release_id)
    github.script(LATEST, github.json(document, etag=etag))
    github.script(download_path(document), github.file(ARCHIVE))
    return document


def status() -> HMMStatus:
    return selectors.hmm_status_get()


def test_the_refresher_records_the_latest_release_as_newer_when_nothing_is_installed(data_path, github):
    serve_release(github)
    release = services.hmm_release_refresh()
    assert release == {
        "id": 103342874,
        "name": "v0.2.1",
        "body": "Profile HMMs of viral protein clusters (vFam), with their annotations.",
        "etag": 'W/"r1"',
        "filename": "vthmm.tar.gz",
        "size": len(ARCHIVE),
        "html_url": "https://github.com/virtool/virtool-hmm/releases/tag/v0.2.1",
        "download_url": f"{github.url}/downloads/virtool/virtool-hmm/v0.2.1/vthmm.tar.gz",
        "published_at": "2023-05-04T16:12:40Z",
        "content_type": "application/gzip",
        "newer": True,
        "retrieved_at": release["retrieved_at"],
    }
    assert status().release == release
    assert status().errors == []

    # Asked again: conditional on the ETag, GitHub answers 304 and only `retrieved_at` moves.
    time.sleep(0.01)
    again = services.hmm_release_refresh()
    assert github.requests[-1][1]["If-None-Match"] == 'W/"r1"'
    assert {k: v for k, v in again.items() if k != "retrieved_at"} == {
        k: v for k, v in release.items() if k != "retrieved_at"
    }
    assert again["retrieved_at"] > release["retrieved_at"]


def test_the_task_and_the_api_refresh_through_the_one_lock(data_path, github, user_client):
    serve_release(github)
    assert user_client.get("/api/hmms/status").json()["release"] is None
    hmm_release_refresh_task()
    assert status().release["name"] == "v0.2.1"
    # GET /hmms/status/release asks GitHub too, as Virtool does (a 304 here), and answers the release.
    answer = user_client.get("/api/hmms/status/release").json()
    assert answer["name"] == "v0.2.1"
    assert answer["newer"] is True
    assert github.paths() == [LATEST, LATEST]
    assert user_client.get("/api/hmms/status").json()["release"] == answer


def test_a_502_then_success_and_a_rate_limit_with_retry_after(data_path, github):
    document = release_document()
    github.script(LATEST, Answer(status=502, body=b"Bad gateway"), github.json(document, etag='"a"'))
    assert services.hmm_release_refresh()["name"] == "v0.2.1"
    assert github.paths() == [LATEST, LATEST]

    limited = github.json(recorded("rate_limited.json"), status=429, **{"Retry-After": "1"})
    github.script(LATEST, limited, github.json(release_document("v0.3.0", 2), etag='"b"'))
    started = time.monotonic()
    assert services.hmm_release_refresh()["name"] == "v0.3.0"
    assert time.monotonic() - started >= 0.9
    assert status().errors == []


def test_failures_are_written_into_errors_and_cleared_by_the_next_good_check(data_path, github, settings, user_client):
    serve_release(github)
    services.hmm_release_refresh()
    known = status().release

    settings.VIRTOOL_GITHUB_API_URL = "http://127.0.0.1:9"  # GitHub unreachable
    assert services.hmm_release_refresh() == known  # the release known before stays
    assert status().errors == [
        "Could not check for a new HMM release of virtool/virtool-hmm: Could not reach GitHub (ConnectionError)"
    ]
    document = user_client.get("/api/hmms/status").json()
    assert document["errors"] == status().errors
    assert document["release"] == known

    # A rate limit lifting much later is told, not waited for.
    settings.VIRTOOL_GITHUB_API_URL = github.url
    reset = str(int(time.time()) + 3600)
    github.script(
        LATEST,
        github.json(
            recorded("rate_limited.json"), status=403, **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        ),
    )
    services.hmm_release_refresh()
    assert "GitHub's rate limit is reached; it lifts at" in status().errors[0]

    # A repository that does not exist (the setting changed).
    settings_get().__class__.objects.filter(pk=settings_get().pk).update(hmm_slug="someone/nothing")
    assert services.hmm_release_refresh() == known
    assert status().errors == [
        "Could not check for a new HMM release of someone/nothing: GitHub repository or release does not exist: "
        "someone/nothing"
    ]

    settings_get().__class__.objects.filter(pk=settings_get().pk).update(hmm_slug=SLUG)
    serve_release(github, "v0.2.2", etag='"new"', release_id=7)
    assert services.hmm_release_refresh()["name"] == "v0.2.2"
    assert status().errors == []
    assert user_client.get("/api/hmms/status").json()["errors"] == []


def test_two_refreshes_at_once_ask_github_once(data_path, github):
    document = release_document()
    github.script(LATEST, dataclasses.replace(github.json(document, etag='"slow"'), delay=1.0))
    results: list[object] = []

    def refresh() -> None:
        results.append(hmm_release_refresh_task.apply().get())

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert github.paths() == [LATEST]
    assert status().release["name"] == "v0.2.1"


def test_installing_with_no_release_known_and_none_to_fetch_is_refused(data_path, github, admin_client):
    github.script(LATEST, github.json(recorded("not_found.json"), status=404))
    for body in (None, {}):
        response = admin_client.post("/api/hmms/status/updates", body, format="json")
        assert response.status_code == 400
        assert response.json() == {"id": "bad_request", "message": "Target release does not exist"}
    assert Job.objects.count() == 0
    assert status().installed is None
    assert status().updates == []
    assert "does not exist" in status().errors[0]


def test_installing_the_latest_release_downloads_it_in_the_job(data_path, github, admin_user, jobs_here):
    client = client_for(admin_user)
    serve_release(github)
    # Nothing known yet: the install asks GitHub first.
    response = client.post("/api/hmms/status/updates", format="json")
    assert response.status_code == 201, response.json()
    job = Job.objects.get(pk=response.json()["task"]["job_id"])
    assert job.workflow == "install_hmms"
    assert job.args["release"]["download_url"] == f"{github.url}/downloads/virtool/virtool-hmm/v0.2.1/vthmm.tar.gz"
    assert response.json()["updates"][0]["ready"] is False

    assert run_waiting_jobs() == ["complete"]
    job.refresh_from_db()
    running = [record for record in job.status if record["state"] == "running"]
    assert [record["stage"] for record in running] == [
        "download",
        "decompress",
        "check_files",
        "install_profiles",
        "import_annotations",
    ]
    assert [path for path in github.paths() if path.startswith("/downloads/")] == [
        "/downloads/virtool/virtool-hmm/v0.2.1/vthmm.tar.gz"
    ]
    assert sorted(HMM.objects.values_list("cluster", flat=True)) == [10, 100, 1000]

    document = client.get("/api/hmms/status").json()
    installed = document["installed"]
    assert installed == {
        "body": "Profile HMMs of viral protein clusters (vFam), with their annotations.",
        "filename": "vthmm.tar.gz",
        "html_url": "https://github.com/virtool/virtool-hmm/releases/tag/v0.2.1",
        "id": 103342874,
        "name": "v0.2.1",
        "newer": True,
        "published_at": "2023-05-04T16:12:40Z",
        "size": len(ARCHIVE),
        "source": "release",
        "count": 3,
        "ready": True,
        "created_at": installed["created_at"],
        "user": {"id": admin_user.pk, "handle": "admin"},
        "job": {"id": job.pk},
    }
    assert [(update["name"], update["ready"]) for update in document["updates"]] == [("v0.2.1", True)]
    # The installed release is no longer newer; the next one is.
    assert document["release"]["newer"] is False
    assert not (data_path / "jobs" / job.pk).exists()
    # Purged: nothing is installed, so the release is newer again.
    assert client.delete("/api/hmms").status_code == 204
    assert client.get("/api/hmms/status").json()["release"]["newer"] is True
    # Installed again, and then a later release is found: that one is newer.
    assert client.post("/api/hmms/status/updates", {}, format="json").status_code == 201
    assert run_waiting_jobs() == ["complete"]
    assert status().release["newer"] is False
    serve_release(github, "v0.3.0", etag='"v3"', release_id=9)
    assert services.hmm_release_refresh()["newer"] is True


def test_a_download_that_fails_ends_the_job_in_error_and_changes_nothing(data_path, github, admin_user, jobs_here):
    from tests.hmm.conftest import DATA

    services.hmm_install_files(profiles=DATA / "profiles.hmm", annotations=DATA / "annotations.json.gz", user=None)
    before = (status().installed, sorted(HMM.objects.values_list("pk", flat=True)))
    client = client_for(admin_user)
    document = serve_release(github)
    services.hmm_release_refresh()
    github.script(download_path(document), Answer(status=502, body=b"Bad gateway"))
    assert client.post("/api/hmms/status/updates", {}, format="json").status_code == 201
    assert run_waiting_jobs() == ["error"]

    document = client.get("/api/hmms/status").json()
    assert document["errors"] == [
        "Installing v0.2.1 failed. The job failed during step 'Download': The release v0.2.1 could not be downloaded "
        f"from GitHub: GitHub answered 502 for {github.url}/downloads/virtool/virtool-hmm/v0.2.1/vthmm.tar.gz"
    ]
    assert (status().installed, sorted(HMM.objects.values_list("pk", flat=True))) == before
    assert all(update["ready"] for update in status().updates)  # the pending one went
    assert not list((data_path / "jobs").glob("*/download/*"))
    assert document["release"]["name"] == "v0.2.1"


def test_a_release_is_installed_by_a_real_worker(data_path, github, admin_user, start_worker):
    serve_release(github)
    services.hmm_release_refresh()
    start_worker(queues="small", concurrency=1)
    client = client_for(admin_user)
    job_id = client.post("/api/hmms/status/updates", format="json").json()["task"]["job_id"]
    wait_for(lambda: Job.objects.get(pk=job_id).state in ("complete", "error"), timeout=60)
    assert Job.objects.get(pk=job_id).state == "complete", Job.objects.get(pk=job_id).status[-1]
    assert client.get("/api/hmms/status").json()["installed"]["name"] == "v0.2.1"
    assert HMM.objects.count() == 3
