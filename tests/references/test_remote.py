"""Remote references: the official reference installed from a GitHub release and kept current, against a fake
GitHub on 127.0.0.1 serving two releases built from the demo reference (release 2 changes one OTU, adds one and
removes one)."""

from __future__ import annotations

import copy
import threading

import pytest

from otus.models import OTU, Change
from references.models import Reference
from references.services import references_releases_refresh
from references.tasks import references_releases_refresh_task
from tests.conftest import client_for, run_waiting_jobs
from tests.github_server import Answer, download_path, recorded, with_asset
from tests.references.conftest import DEMO, gz_json, load

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "virtool/ref-plant-viruses"
LATEST = f"/repos/{SLUG}/releases/latest"
RPRSV = "Raspberry ringspot virus"
ADDED = "Plum pox virus"
REMOVED = "Hibiscus golden mosaic virus"
NEW_DEFINITION = "Raspberry ringspot virus RNA2, complete sequence (corrected)"


def release_files() -> tuple[dict, dict]:
    """Release 1: the demo reference without Plum pox virus. Release 2: Plum pox virus added, Hibiscus golden
    mosaic virus removed, the definition of RpRSV's NC_005267 corrected."""
    demo = load(DEMO)
    first = copy.deepcopy(demo)
    first["otus"] = [otu for otu in first["otus"] if otu["name"] != ADDED]
    second = copy.deepcopy(demo)
    second["otus"] = [otu for otu in second["otus"] if otu["name"] != REMOVED]
    for otu in second["otus"]:
        if otu["name"] == RPRSV:
            for isolate in otu["isolates"]:
                for sequence in isolate["sequences"]:
                    if sequence["accession"] == "NC_005267":
                        sequence["definition"] = NEW_DEFINITION
    return first, second


@pytest.fixture
def curator(make_user):
    return make_user("cura", permissions=["create_ref", "create_sample", "upload_file"])


@pytest.fixture
def releases(github):
    """Both releases on the fake GitHub; the latest is release 1 until a test says otherwise."""
    first, second = release_files()
    one = with_asset(recorded("ref-plant-viruses-v1.json"), gz_json(first))
    two = with_asset(recorded("ref-plant-viruses-v2.json"), gz_json(second))
    github.script(download_path(one), github.file(gz_json(first)))
    github.script(download_path(two), github.file(gz_json(second)))
    github.script(LATEST, github.json(one, etag='W/"r1"'))
    github.script(f"/repos/{SLUG}/releases/{one['id']}", github.json(one))
    github.one, github.two = one, two
    return github


def install(client) -> dict:
    response = client.post("/api/refs", {"remote_from": SLUG}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_install_then_update_to_the_next_release(releases, curator):
    client = client_for(curator)
    listed = client.get("/api/refs").json()
    assert listed["official_installed"] is False
    reference = install(client)
    assert reference["name"] == "Plant Viruses"
    assert reference["remotes_from"] == {"slug": SLUG, "errors": []}
    assert reference["release"]["name"] == "v1.0.0"
    assert reference["installed"] is None
    assert [(u["name"], u["ready"]) for u in reference["updates"]] == [("v1.0.0", False)]
    assert reference["task"]["type"] == "remote_reference"
    assert reference["ready"] is False
    assert run_waiting_jobs() == ["complete"]

    reference = client.get(f"/api/refs/{reference['id']}").json()
    ref_id = reference["id"]
    assert reference["ready"] is True
    assert reference["otu_count"] == 23
    assert reference["installed"]["name"] == "v1.0.0"
    assert reference["installed"]["ready"] is True
    assert reference["installed"]["user"] == {"id": curator.pk}
    assert reference["release"]["newer"] is False
    assert client.get("/api/refs").json()["official_installed"] is True
    # Ids are the release's, kept as remote ids; history says "remote".
    first, _ = release_files()
    assert set(OTU.objects.filter(reference_id=ref_id).values_list("remote_id", flat=True)) == {
        otu["_id"] for otu in first["otus"]
    }
    assert set(Change.objects.filter(reference_id=ref_id).values_list("method_name", flat=True)) == {"remote"}
    rprsv = OTU.objects.get(reference_id=ref_id, name=RPRSV)
    assert Change.objects.get(otu_id=rprsv.pk).description == f"Remoted {RPRSV} (RpRSV)"
    # Installing the official reference twice is refused.
    again = client.post("/api/refs", {"remote_from": SLUG}, format="json")
    assert again.status_code == 409

    # Nothing newer yet: the refresher's conditional request gets a 304 and only `retrieved_at` moves.
    checked = reference["release"]["retrieved_at"]
    references_releases_refresh_task()
    assert releases.requests[-1][1].get("If-None-Match") == 'W/"r1"'
    release = client.get(f"/api/refs/{ref_id}").json()["release"]
    assert (release["name"], release["newer"]) == ("v1.0.0", False)
    assert release["retrieved_at"] >= checked

    # Release 2 is published: the refresher sees it as newer.
    releases.script(LATEST, releases.json(releases.two, etag='W/"r2"'))
    references_releases_refresh_task()
    release = client.get(f"/api/refs/{ref_id}/release").json()
    assert (release["name"], release["newer"]) == ("v1.1.0", True)
    assert release["body"].startswith("## Changes")

    # Local work before the update: an edit of an OTU the release changes, and an OTU of our own.
    sequence = rprsv.sequences.get(accession="NC_005266")
    edited = client.patch(
        f"/api/otus/{rprsv.pk}/isolates/{sequence.isolate_id}/sequences/{sequence.pk}",
        {"host": "Rubus idaeus"},
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    own = client.post(f"/api/refs/{ref_id}/otus", {"name": "Our local virus", "abbreviation": "OLV"}, format="json")
    assert own.status_code == 201, own.json()

    # What the update will change, before it runs.
    preview = client.get(f"/api/refs/{ref_id}/updates/preview").json()
    assert preview["release"]["name"] == "v1.1.0"
    assert [(o["name"], o["local_changes"]) for o in preview["updated"]] == [(RPRSV, True)]
    assert [o["name"] for o in preview["created"]] == [ADDED]
    assert [(o["name"], o["local_changes"]) for o in preview["removed"]] == [(REMOVED, False)]
    assert [o["name"] for o in preview["kept"]] == ["Our local virus"]
    assert preview["unchanged"] == 21

    started = client.post(f"/api/refs/{ref_id}/updates")
    assert started.status_code == 201, started.json()
    assert (started.json()["name"], started.json()["ready"]) == ("v1.1.0", False)
    during = client.get(f"/api/refs/{ref_id}").json()
    assert during["updating"] is True
    assert during["task"]["type"] == "update_remote_reference"
    assert client.post(f"/api/refs/{ref_id}/updates").status_code == 409  # one at a time
    assert run_waiting_jobs() == ["complete"]

    reference = client.get(f"/api/refs/{ref_id}").json()
    assert reference["updating"] is False
    assert reference["installed"]["name"] == "v1.1.0"
    assert reference["release"]["newer"] is False
    assert [(u["name"], u["ready"]) for u in client.get(f"/api/refs/{ref_id}/updates").json()] == [
        ("v1.1.0", True),
        ("v1.0.0", True),
    ]
    assert reference["otu_count"] == 24  # 23 - 1 removed + 1 added + our own
    names = set(OTU.objects.filter(reference_id=ref_id).values_list("name", flat=True))
    assert ADDED in names
    assert REMOVED not in names
    assert "Our local virus" in names
    # Exactly the three changes, with history: a readable diff for the update.
    latest = {
        change.otu_name: change
        for change in Change.objects.filter(reference_id=ref_id, method_name__in=["update", "remove"])
    }
    assert set(latest) == {RPRSV, REMOVED}
    update = latest[RPRSV]
    assert update.description == f"Updated {RPRSV} (RpRSV)"
    changed = {
        (tuple(path) if isinstance(path, list) else path, tuple(values))
        for kind, path, values in update.diff
        if kind == "change"
    }
    assert any(values[1] == NEW_DEFINITION for _, values in changed), update.diff
    assert any(values == ("Rubus idaeus", first_host(first)) for _, values in changed), update.diff
    assert latest[REMOVED].description == f"Removed {REMOVED}"
    added = OTU.objects.get(reference_id=ref_id, name=ADDED)
    assert Change.objects.get(otu_id=added.pk).method_name == "remote"
    # Every OTU not in the three is untouched: still at version 0.
    untouched = OTU.objects.filter(reference_id=ref_id).exclude(name__in=[RPRSV, ADDED, "Our local virus"])
    assert set(untouched.values_list("version", flat=True)) == {0}
    # The same release is not installed twice.
    assert client.post(f"/api/refs/{ref_id}/updates").status_code == 409
    # The history of the update can be reverted like any unbuilt change.
    assert client.delete(f"/api/history/{update.change_id}").status_code == 204


def first_host(first: dict) -> str | None:
    """The host the release gives RpRSV's NC_005266 (the update puts it back over the local edit)."""
    for otu in first["otus"]:
        if otu["name"] == RPRSV:
            for isolate in otu["isolates"]:
                for sequence in isolate["sequences"]:
                    if sequence["accession"] == "NC_005266":
                        return sequence["host"]
    raise AssertionError("no NC_005266")


def test_install_refusals_create_nothing(releases, curator, settings):
    client = client_for(curator)
    other = client.post("/api/refs", {"remote_from": "someone/else"}, format="json")
    assert other.status_code == 400
    assert "remote_from" in str(other.json())
    both = client.post("/api/refs", {"remote_from": SLUG, "import_from": "x"}, format="json")
    assert both.status_code == 400
    missing = client.post("/api/refs", {"remote_from": SLUG, "release_id": 12345}, format="json")
    assert missing.status_code == 400
    assert missing.json()["message"] == f"Release 12345 of {SLUG} does not exist"
    settings.VIRTOOL_GITHUB_API_URL = "http://127.0.0.1:9"
    unreachable = client.post("/api/refs", {"remote_from": SLUG}, format="json")
    assert unreachable.status_code == 502
    assert unreachable.json()["id"] == "bad_gateway"
    assert "Could not reach GitHub" in unreachable.json()["message"]
    assert not Reference.objects.exists()


def test_a_release_file_that_cannot_be_read_fails_the_install_and_leaves_nothing(releases, curator):
    releases.script(download_path(releases.one), releases.file(b"\x1f\x8b not really gzip"))
    reference = install(client_for(curator))
    assert run_waiting_jobs() == ["error"]
    assert not Reference.objects.filter(pk=reference["id"]).exists()
    assert not OTU.objects.exists()


def test_a_failed_update_changes_nothing(releases, curator):
    client = client_for(curator)
    ref_id = install(client)["id"]
    assert run_waiting_jobs() == ["complete"]
    releases.script(LATEST, releases.json(releases.two, etag='W/"r2"'))
    references_releases_refresh()
    releases.script(download_path(releases.two), Answer(status=500, body=b"oops"))
    before = sorted(OTU.objects.filter(reference_id=ref_id).values_list("pk", "version"))
    assert client.post(f"/api/refs/{ref_id}/updates").status_code == 201
    assert run_waiting_jobs() == ["error"]
    reference = client.get(f"/api/refs/{ref_id}").json()
    assert reference["installed"]["name"] == "v1.0.0"
    assert reference["release"]["newer"] is True  # still to do
    assert [u["name"] for u in reference["updates"]] == ["v1.0.0"]  # the failed one is not left pending
    assert sorted(OTU.objects.filter(reference_id=ref_id).values_list("pk", "version")) == before
    assert not Change.objects.filter(reference_id=ref_id, method_name__in=["update", "remove"]).exists()


def test_refresh_errors_are_kept_in_the_reference_and_cleared_after(releases, curator, settings):
    client = client_for(curator)
    ref_id = install(client)["id"]
    assert run_waiting_jobs() == ["complete"]
    url = settings.VIRTOOL_GITHUB_API_URL
    settings.VIRTOOL_GITHUB_API_URL = "http://127.0.0.1:9"
    references_releases_refresh()
    reference = client.get(f"/api/refs/{ref_id}").json()
    assert reference["remotes_from"]["errors"] == ["Could not reach GitHub (ConnectionError)"]
    assert reference["release"]["name"] == "v1.0.0"  # what was known stays
    settings.VIRTOOL_GITHUB_API_URL = url
    releases.script(LATEST, Answer(status=502, body=b"Bad gateway"), releases.json(releases.two, etag='W/"r2"'))
    references_releases_refresh()
    reference = client.get(f"/api/refs/{ref_id}").json()
    assert reference["remotes_from"]["errors"] == []
    assert (reference["release"]["name"], reference["release"]["newer"]) == ("v1.1.0", True)


def test_two_workers_refreshing_at_once_ask_github_once(releases, curator):
    client = client_for(curator)
    install(client)
    assert run_waiting_jobs() == ["complete"]
    slow = releases.json(releases.two, etag='W/"r2"')
    slow.delay = 1.0
    releases.script(LATEST, slow)
    asked = len([path for path in releases.paths() if path == LATEST])
    threads = [threading.Thread(target=references_releases_refresh_task) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len([path for path in releases.paths() if path == LATEST]) == asked + 1


def test_an_analysis_made_before_an_update_stays_readable_at_its_indexed_version(releases, curator):
    from tests.conftest import SHARED
    from tests.samples.test_api import make_upload

    client = client_for(curator)
    ref_id = install(client)["id"]
    assert run_waiting_jobs() == ["complete"]
    assert client.post(f"/api/refs/{ref_id}/indexes").status_code == 201
    uploads = [make_upload(curator, SHARED / "data" / "samples" / name) for name in ("rprsv_1.fq.gz", "rprsv_2.fq.gz")]
    sample = client.post("/api/samples", {"name": "RpRSV", "files": [u.pk for u in uploads]}, format="json").json()
    assert run_waiting_jobs() == ["complete", "complete"]
    analysis = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": ref_id}, format="json").json()
    assert run_waiting_jobs() == ["complete"]
    before = client.get(f"/api/analyses/{analysis['id']}").json()

    releases.script(LATEST, releases.json(releases.two, etag='W/"r2"'))
    references_releases_refresh_task()
    assert client.post(f"/api/refs/{ref_id}/updates").status_code == 201
    assert run_waiting_jobs() == ["complete"]
    assert OTU.objects.get(reference_id=ref_id, name=RPRSV).version == 1

    after = client.get(f"/api/analyses/{analysis['id']}").json()
    assert after["results"] == before["results"]
    top = after["results"]["hits"][0]
    assert top["name"] == RPRSV
    definitions = {s["accession"]: s["definition"] for i in top["isolates"] for s in i["sequences"]}
    assert definitions["NC_005267"] != NEW_DEFINITION  # as indexed (release 1), not as updated
    # The next build takes the update in.
    assert client.post(f"/api/refs/{ref_id}/indexes").json()["change_count"] == 3


def test_two_workers_with_their_own_beat_never_refresh_at_once(releases, curator, start_worker):
    """Two worker processes, each running beat every second against a slow GitHub: the refreshes they trigger take
    turns under the Redis lock, so GitHub never sees two of them at once."""
    import time

    from tests.conftest import wait_for

    client = client_for(curator)
    ref_id = install(client)["id"]
    assert run_waiting_jobs() == ["complete"]
    slow = releases.json(releases.two, etag='W/"r2"')
    slow.delay = 1.5
    releases.script(LATEST, slow)
    env = {"VIRTOOL_GITHUB_API_URL": releases.url, "VIRTOOL_RELEASE_INTERVAL": "0.5"}
    start_worker(queues="default", concurrency=2, beat=True, **env)
    start_worker(queues="default", concurrency=2, beat=True, **env)
    wait_for(lambda: len([p for p in releases.paths() if p == LATEST]) >= 3, timeout=60)
    time.sleep(2)
    assert releases.most_in_flight[LATEST] == 1
    release = Reference.objects.get(pk=ref_id).release
    assert (release["name"], release["newer"]) == ("v1.1.0", True)
