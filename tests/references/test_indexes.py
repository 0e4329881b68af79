"""Index builds: refusals, the manifest, the bowtie2 index of the default isolates, failures undone."""

from __future__ import annotations

import gzip
import json
import subprocess

import pytest

from indexes.models import Index
from indexes.selectors import index_path
from otus.models import OTU, Change
from tests.conftest import client_for
from tests.references.conftest import DEMO, import_reference, load, run_waiting_jobs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def curator(make_user):
    return make_user("cura", permissions=["create_ref", "upload_file"])


def default_sequence_ids(document: dict) -> set[str]:
    return {
        sequence["_id"]
        for otu in document["otus"]
        for isolate in otu["isolates"]
        if isolate["default"]
        for sequence in isolate["sequences"]
    }


def test_build_of_the_demo_reference_indexes_exactly_the_default_isolates(curator):
    client = client_for(curator)
    reference = import_reference(client, curator, DEMO, name="Demo")
    response = client.post(f"/api/refs/{reference['id']}/indexes")
    assert response.status_code == 201, response.json()
    index = response.json()
    assert index["version"] == 0
    assert index["ready"] is False
    assert index["change_count"] == 24
    # A second build while this one waits is refused.
    again = client.post(f"/api/refs/{reference['id']}/indexes")
    assert again.status_code == 409
    assert again.json()["message"] == "Index build already in progress"
    assert run_waiting_jobs() == ["complete"]
    detail = client.get(f"/api/indexes/{index['id']}").json()
    assert detail["ready"] is True
    assert detail["manifest"] == {otu["_id"]: 0 for otu in load(DEMO)["otus"]}
    assert {f["name"] for f in detail["files"]} == {
        "reference.fa.gz",
        "reference.json.gz",
        *(f"reference.{s}.bt2" for s in ("1", "2", "3", "4", "rev.1", "rev.2")),
    }
    assert detail["contributors"] == [{"id": curator.pk, "handle": "cura", "count": 24}]
    folder = index_path(Index.objects.get(pk=index["id"]))
    listed = subprocess.run(
        ["bowtie2-inspect", "-n", str(folder / "reference")], capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(listed) == sorted(default_sequence_ids(load(DEMO)))
    exported = json.loads(gzip.decompress((folder / "reference.json.gz").read_bytes()))
    assert len(exported["otus"]) == 24
    # Every change is now built: stamped with the index, no longer revertable, nothing left to build.
    assert not Change.objects.filter(index__isnull=True).exists()
    change_id = f"{load(DEMO)['otus'][0]['_id']}.0"
    revert = client.delete(f"/api/history/{change_id}")
    assert revert.status_code == 409
    assert revert.json()["message"] == "Change is already built"
    assert set(OTU.objects.values_list("last_indexed_version", flat=True)) == {0}
    nothing = client.post(f"/api/refs/{reference['id']}/indexes")
    assert nothing.status_code == 409
    assert nothing.json()["message"] == "There are no unbuilt changes"
    ref = client.get(f"/api/refs/{reference['id']}").json()
    assert ref["latest_build"]["id"] == index["id"]
    assert ref["unbuilt_change_count"] == 0
    # Index files download.
    fasta = client.get(f"/api/indexes/{index['id']}/files/reference.fa.gz")
    assert fasta.status_code == 200
    history = client.get(f"/api/indexes/{index['id']}/history").json()
    assert history["found_count"] == 24


def test_build_uses_the_manifest_versions_and_exports_the_built_scope(curator):
    client = client_for(curator)
    reference = import_reference(client, curator, DEMO, name="Demo")
    first = client.post(f"/api/refs/{reference['id']}/indexes").json()
    assert run_waiting_jobs() == ["complete"]
    otu_id = load(DEMO)["otus"][0]["_id"]
    client.patch(f"/api/otus/{otu_id}", {"name": "Renamed after the build"}, format="json")
    built = json.loads(gzip.decompress(client.get(f"/api/refs/{reference['id']}/export?scope=built").content))
    unbuilt = json.loads(gzip.decompress(client.get(f"/api/refs/{reference['id']}/export?scope=unbuilt").content))
    names = lambda doc: {o["_id"]: o["name"] for o in doc["otus"]}  # noqa: E731
    assert names(built)[otu_id] == load(DEMO)["otus"][0]["name"]
    assert names(unbuilt)[otu_id] == "Renamed after the build"
    # The index lists say what a rebuild would take in (the client offers "Rebuild the index" from them), and
    # nest the build's job as Virtool's client checks it.
    listed = client.get(f"/api/refs/{reference['id']}/indexes").json()
    assert (listed["total_otu_count"], listed["change_count"], listed["modified_otu_count"]) == (24, 1, 1)
    job = listed["documents"][0]["job"]
    assert set(job) == {"id", "created_at", "progress", "state", "user", "workflow", "error"}
    assert (job["state"], job["workflow"], job["user"]["handle"]) == ("complete", "build_index", "cura")
    everywhere = client.get("/api/indexes").json()
    assert (everywhere["total_otu_count"], everywhere["change_count"]) == (24, 1)
    # The edit after the build is unbuilt and revertable; the next build records version 1 of that OTU.
    second = client.post(f"/api/refs/{reference['id']}/indexes").json()
    assert second["version"] == first["version"] + 1
    assert second["change_count"] == 1
    assert Index.objects.get(pk=second["id"]).manifest[otu_id] == 1


def test_unverified_otus_block_a_build(curator):
    client = client_for(curator)
    reference = client.post("/api/refs", {"name": "Empty"}, format="json").json()
    client.post(f"/api/refs/{reference['id']}/otus", {"name": "Lonely virus"}, format="json")
    response = client.post(f"/api/refs/{reference['id']}/indexes")
    assert response.status_code == 409
    assert response.json()["message"] == "There are unverified OTUs: Lonely virus"
    assert not Index.objects.exists()


def test_failed_build_removes_its_files_and_returns_changes_to_unbuilt(curator, mocker):
    client = client_for(curator)
    reference = import_reference(client, curator, DEMO, name="Demo")
    index = client.post(f"/api/refs/{reference['id']}/indexes").json()
    mocker.patch("indexes.workflows.BOWTIE2_FILES", ("reference.9.bt2",))  # as if bowtie2-build wrote too little
    assert run_waiting_jobs() == ["error"]
    assert not Index.objects.exists()
    assert not index_path(Index(pk=index["id"], reference_id=reference["id"])).exists()
    assert Change.objects.filter(index__isnull=True).count() == 24
    assert client.get(f"/api/refs/{reference['id']}").json()["unbuilt_change_count"] == 24
