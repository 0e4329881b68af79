"""The HMM API: Virtool's paths and shapes, the status document with its task, installs and purges behind
`modify_hmm`, refusals that change nothing, and the installed files for download."""

from __future__ import annotations

import gzip
import json

import pytest

from files.models import Upload
from hmm import selectors, services
from hmm.models import HMM, HMMStatus
from jobs.models import Job
from tests.conftest import client_for, run_waiting_jobs, stored_upload
from tests.hmm.conftest import DATA, annotations, hmm_upload, tar_bytes

pytestmark = pytest.mark.django_db(transaction=True)

ROUTES = [
    ("get", "/api/hmms"),
    ("get", "/api/hmms/8s1nqs1w"),
    ("get", "/api/hmms/status"),
    ("get", "/api/hmms/status/release"),
    ("get", "/api/hmms/status/updates"),
    ("get", "/api/hmms/files/annotations.json.gz"),
    ("get", "/api/hmms/files/profiles.hmm"),
    ("post", "/api/hmms/status/updates"),
    ("delete", "/api/hmms"),
]
WRITES = [route for route in ROUTES if route[0] != "get"]


@pytest.fixture
def installed(data_path):
    services.hmm_install_files(profiles=DATA / "profiles.hmm", annotations=DATA / "annotations.json.gz", user=None)


@pytest.fixture
def hmm_admin(make_user):
    """A user whose group grants `modify_hmm` (and `upload_file`), not an administrator."""
    return make_user("curator", permissions=["modify_hmm", "upload_file"])


def snapshot():
    """What a refused write must leave as it was."""
    status = selectors.hmm_status_get()
    return (
        sorted(HMM.objects.values_list("pk", flat=True)),
        status.installed,
        status.updates,
        status.job_id,
        Job.objects.count(),
        list(Upload.objects.values_list("pk", "reserved", "removed").order_by("pk")),
    )


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_credentials(anon_client, method, path):
    response = getattr(anon_client, method)(path)
    assert response.status_code == 401
    assert response.json() == {"id": "unauthorized", "message": "Requires authorization"}


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_writes_need_modify_hmm(installed, user, user_client, method, path):
    upload = hmm_upload(user)
    before = snapshot()
    response = getattr(user_client, method)(path, {"upload_id": upload.pk}, format="json")
    assert response.status_code == 403
    assert response.json() == {"id": "insufficient_rights", "message": "Insufficient rights"}
    assert snapshot() == before


def test_the_list_pages_and_finds_with_the_status(installed, user_client):
    document = user_client.get("/api/hmms").json()
    assert [hmm["cluster"] for hmm in document["documents"]] == [10, 100, 1000]
    assert document["documents"][0] == {
        "id": "8s1nqs1w",
        "cluster": 10,
        "count": 113,
        "names": ["L1", "L1 protein", "major capsid protein"],
        "families": {"Papillomaviridae": 102},
    }
    assert {key: document[key] for key in ("found_count", "total_count", "page", "page_count", "per_page")} == {
        "found_count": 3,
        "total_count": 3,
        "page": 1,
        "page_count": 1,
        "per_page": 25,
    }
    assert document["status"]["id"] == "hmm"
    assert document["status"]["installed"]["count"] == 3
    assert "folder" not in document["status"]["installed"]  # the server's own business
    # Installed without a job (as the command does): still a complete task, which Virtool's client reads as
    # "HMMs are installed" (its analysis dialog offers NuVs only then).
    task = document["status"]["task"]
    assert (task["id"], task["type"], task["complete"], task["progress"], task["error"]) == (
        None,
        "install_hmms",
        True,
        100,
        None,
    )
    assert task["created_at"] == document["status"]["installed"]["created_at"]

    def clusters(query: str) -> list[int]:
        return [hmm["cluster"] for hmm in user_client.get(f"/api/hmms?{query}").json()["documents"]]

    assert clusters("find=lef") == [100]  # a name, case-insensitively
    assert clusters("find=hepadna") == [1000]  # a family
    assert clusters("find=100") == [100]  # a cluster number...
    assert clusters("find=vFam_1000") == [1000]  # ...or a profile name
    assert clusters("find=protein") == [10, 1000]
    assert clusters("find=102") == []  # not a family's count
    assert clusters("find=nothing like it") == []
    page = user_client.get("/api/hmms?per_page=2&page=2").json()
    assert ([hmm["cluster"] for hmm in page["documents"]], page["page_count"]) == ([1000], 2)
    found = user_client.get("/api/hmms?find=protein").json()
    assert (found["found_count"], found["total_count"]) == (2, 3)


def test_hidden_annotations_are_left_out_of_the_list(installed, user_client):
    HMM.objects.filter(cluster=10).update(hidden=True)
    document = user_client.get("/api/hmms").json()
    assert [hmm["cluster"] for hmm in document["documents"]] == [100, 1000]
    assert document["total_count"] == 2
    assert user_client.get("/api/hmms/8s1nqs1w").json()["hidden"] is True


def test_one_annotation_in_full(installed, user_client):
    record = next(record for record in annotations() if record["cluster"] == 1000)
    document = user_client.get(f"/api/hmms/{record['id']}").json()
    assert document == {
        "id": record["id"],
        "cluster": 1000,
        "count": record["count"],
        "names": record["names"],
        "families": record["families"],
        "genera": record["genera"],
        "entries": record["entries"],
        "length": record["length"],
        "mean_entropy": record["mean_entropy"],
        "total_entropy": record["total_entropy"],
        "hidden": False,
    }
    assert user_client.get("/api/hmms/nothere").json() == {"id": "not_found", "message": "Not found"}


def test_status_release_and_updates_before_anything_is_installed(data_path, user_client):
    status = user_client.get("/api/hmms/status").json()
    assert status == {
        "id": "hmm",
        "installed": None,
        "release": None,
        "updates": [],
        "updating": False,
        "errors": [],
        "task": None,
    }
    release = user_client.get("/api/hmms/status/release")
    assert (release.status_code, release.content) == (200, b"null")
    assert user_client.get("/api/hmms/status/updates").json() == []
    assert user_client.get("/api/hmms").json()["documents"] == []
    for name in ("annotations.json.gz", "profiles.hmm"):
        response = user_client.get(f"/api/hmms/files/{name}")
        assert (response.status_code, response.json()["message"]) == (404, "HMM data is not installed")


def test_the_release_the_refresher_recorded_is_served(data_path, user_client):
    release = {
        "id": 12345,
        "name": "v0.2.1",
        "body": "vFam",
        "filename": "vthmm.tar.gz",
        "size": 86621,
        "html_url": "https://github.com/virtool/virtool-hmm/releases/tag/v0.2.1",
        "download_url": "https://github.com/virtool/virtool-hmm/releases/download/v0.2.1/vthmm.tar.gz",
        "published_at": "2020-01-01T00:00:00Z",
        "newer": True,
    }
    HMMStatus.objects.update_or_create(pk=1, defaults={"release": release})
    assert user_client.get("/api/hmms/status/release").json() == release
    assert user_client.get("/api/hmms/status").json()["release"] == release


def test_updates_are_listed_newest_first(data_path, hmm_admin, jobs_here):
    client = client_for(hmm_admin)
    for name in ("first.tar.gz", "second.tar.gz"):
        client.post("/api/hmms/status/updates", {"upload_id": hmm_upload(hmm_admin, name=name).pk}, format="json")
        assert run_waiting_jobs() == ["complete"]
    updates = client.get("/api/hmms/status/updates").json()
    assert [(update["name"], update["ready"]) for update in updates] == [
        ("second.tar.gz", True),
        ("first.tar.gz", True),
    ]
    assert client.get("/api/hmms/status").json()["installed"]["name"] == "second.tar.gz"


def test_installing_answers_201_with_the_status(data_path, hmm_admin, jobs_here):
    upload = hmm_upload(hmm_admin)
    response = client_for(hmm_admin).post("/api/hmms/status/updates", {"upload_id": upload.pk}, format="json")
    assert response.status_code == 201
    assert response["Location"] == "/api/hmms/status"
    document = response.json()
    job = Job.objects.get()
    assert document["task"] == {
        "id": job.virtool_task.pk,
        "job_id": job.pk,
        "type": "install_hmms",
        "state": "waiting",
        "complete": False,
        "progress": 0,
        "step": "waiting",
        "step_name": None,
        "error": None,
        "context": {"upload_id": upload.pk, "name": "vthmm.tar.gz", "size": upload.size},
        "count": 0,
        "file_size": upload.size,
        "created_at": document["task"]["created_at"],
    }
    assert document["updating"] is True
    assert [(update["name"], update["ready"], update["user"]["handle"]) for update in document["updates"]] == [
        ("vthmm.tar.gz", False, "curator")
    ]
    assert job.user == hmm_admin


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # No release known, and GitHub cannot be asked (nothing listens where the tests point it).
        ({}, "Target release does not exist"),
        ({"upload_id": 999}, "File does not exist"),
    ],
    ids=["no-upload", "unknown-upload"],
)
def test_installing_without_an_archive_is_refused(installed, hmm_admin, body, message):
    before = snapshot()
    response = client_for(hmm_admin).post("/api/hmms/status/updates", body, format="json")
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert snapshot() == before


def test_an_upload_of_another_type_is_refused(installed, hmm_admin):
    upload = stored_upload(hmm_admin, b"@r\nACGT\n+\nIIII\n", name="reads.fq", upload_type="reads")
    before = snapshot()
    response = client_for(hmm_admin).post("/api/hmms/status/updates", {"upload_id": upload.pk}, format="json")
    assert response.json() == {"id": "bad_request", "message": "Only hmm uploads can be installed as HMMs"}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((DATA / "profiles.hmm").read_bytes(), "profiles.hmm is not a readable tar archive. Upload Virtool's HMM"),
        (tar_bytes({"hmm/profiles.hmm": (DATA / "profiles.hmm").read_bytes()}), "The archive holds no annotations"),
        (tar_bytes({"x/annotations.json.gz": gzip.compress(b"[]")}), "The archive holds no profiles.hmm"),
        (tar_bytes({"../../etc/profiles.hmm": b"x", "annotations.json": b"[]"}), "The archive holds an unsafe path"),
    ],
    ids=["bare-profiles-file", "no-annotations", "no-profiles", "traversal"],
)
def test_an_archive_without_hmm_data_is_a_400_that_changes_nothing(installed, hmm_admin, data, message):
    upload = hmm_upload(hmm_admin, data, name="profiles.hmm")
    before = snapshot()
    response = client_for(hmm_admin).post("/api/hmms/status/updates", {"upload_id": upload.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["id"] == "invalid_input"
    assert message in response.json()["message"]
    assert snapshot() == before  # the upload is not reserved, no job, no update, the same HMMs


def test_one_install_at_a_time(data_path, hmm_admin, jobs_here):
    client = client_for(hmm_admin)
    first = hmm_upload(hmm_admin, name="first.tar.gz")
    assert client.post("/api/hmms/status/updates", {"upload_id": first.pk}, format="json").status_code == 201
    before = snapshot()
    second = client.post("/api/hmms/status/updates", {"upload_id": hmm_upload(hmm_admin).pk}, format="json")
    assert second.status_code == 409
    assert second.json() == {
        "id": "conflict",
        "message": "HMMs are already being installed: wait for that install to finish",
    }
    assert snapshot()[:5] == before[:5]
    # The same upload cannot be claimed twice either, once the first install is over and it was given back.
    assert run_waiting_jobs() == ["complete"]
    again = client.post("/api/hmms/status/updates", {"upload_id": first.pk}, format="json")
    assert (again.status_code, again.json()["message"]) == (400, "File does not exist")  # used up


def test_purge_removes_everything_and_is_refused_during_an_install(installed, hmm_admin, jobs_here):
    client = client_for(hmm_admin)
    folder = selectors.hmm_files().profiles.parent
    started = client.post("/api/hmms/status/updates", {"upload_id": hmm_upload(hmm_admin).pk}, format="json")
    assert started.status_code == 201
    before = snapshot()
    refused = client.delete("/api/hmms")
    assert refused.status_code == 409
    assert refused.json() == {"id": "conflict", "message": "HMMs cannot be purged while they are being installed"}
    assert snapshot() == before
    assert run_waiting_jobs() == ["complete"]

    response = client.delete("/api/hmms")
    assert (response.status_code, response.content) == (204, b"")
    assert not HMM.objects.exists()
    assert not folder.exists()
    assert not selectors.hmm_root().exists() or not any(selectors.hmm_root().iterdir())
    assert client.get("/api/hmms/status").json() == {
        "id": "hmm",
        "installed": None,
        "release": None,
        "updates": [],
        "updating": False,
        "errors": [],
        "task": None,
    }
    assert client.delete("/api/hmms").status_code == 204  # nothing to purge is fine


def test_the_installed_files_download(installed, user_client):
    profiles = user_client.get("/api/hmms/files/profiles.hmm")
    assert profiles.status_code == 200
    assert profiles["Content-Type"] == "application/octet-stream"
    assert b"".join(profiles.streaming_content) == (DATA / "profiles.hmm").read_bytes()
    assert 'filename="profiles.hmm"' in profiles["Content-Disposition"]
    annotations_file = user_client.get("/api/hmms/files/annotations.json.gz")
    assert annotations_file["Content-Type"] == "application/gzip"
    assert json.loads(gzip.decompress(b"".join(annotations_file.streaming_content))) == annotations()
    part = user_client.get("/api/hmms/files/profiles.hmm", HTTP_RANGE="bytes=0-7")
    assert (part.status_code, b"".join(part.streaming_content)) == (206, b"HMMER3/f")


def test_virtool_clients_hmm_pages_find_what_they_read(installed, data_path, user_client):
    """What the HMM list, an HMM's page and the analysis dialogs of Virtool's client 7.12.0 read (`hmm-*.js`,
    `_hmmId-*.js`): the page counts and `status.installed` / `status.task.complete`; per item `id`, `cluster`,
    `names[0]` and the `families` object; in full `entries[{name, accession, organism}]`, `genera`, `length`,
    `mean_entropy`."""
    page = user_client.get("/api/hmms?page=1&per_page=25&find=").json()
    assert {"documents", "page", "page_count", "found_count", "total_count", "status"} <= set(page)
    assert page["status"]["installed"] is not None
    assert page["status"]["task"]["complete"] is True
    for hmm in page["documents"]:
        assert set(hmm) == {"id", "cluster", "count", "names", "families"}
        assert isinstance(hmm["cluster"], int)
        assert isinstance(hmm["names"], list)
        assert hmm["names"]
        assert isinstance(hmm["families"], dict)
        full = user_client.get(f"/api/hmms/{hmm['id']}").json()
        assert all({"name", "accession", "organism"} <= set(entry) for entry in full["entries"])
        assert isinstance(full["genera"], dict)
        assert isinstance(full["length"], int)
        assert isinstance(full["mean_entropy"], float)
    # A search that looks like a number without being one (the schema fuzzer's "4²") finds nothing, no 500.
    odd = user_client.get("/api/hmms?page=1&per_page=25&find=4²")
    assert (odd.status_code, odd.json()["documents"]) == (200, [])
    # Nothing installed: an empty page whose status has neither data nor task ("HMM profiles not installed").
    HMM.objects.all().delete()
    HMMStatus.objects.all().delete()
    empty = user_client.get("/api/hmms").json()
    assert (empty["documents"], empty["total_count"], empty["found_count"]) == ([], 0, 0)
    assert (empty["status"]["installed"], empty["status"]["task"]) == (None, None)
