"""Importing Virtool reference files, validation reports, export round trips, clones and FASTA references."""

from __future__ import annotations

import gzip
import json

import pytest

from otus.models import OTU, Change, Sequence
from references.models import Reference
from tests.conftest import client_for
from tests.references.conftest import DEMO, EXPORT_20, gz_json, import_reference, load, make_reference_upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def curator(make_user):
    return make_user("cura", permissions=["create_ref", "upload_file"])


def file_ids(document: dict) -> tuple[set, set, dict]:
    otus = {otu["_id"] for otu in document["otus"]}
    sequences = {s["_id"]: s["sequence"] for otu in document["otus"] for i in otu["isolates"] for s in i["sequences"]}
    isolates = {(otu["_id"], i["id"]) for otu in document["otus"] for i in otu["isolates"]}
    return otus, isolates, sequences


def normal(otu: dict) -> dict:
    """A source OTU as an export writes it: no `taxid` (not part of the format), `segment` always present."""
    out = {key: value for key, value in otu.items() if key != "taxid"}
    for isolate in out["isolates"]:
        for sequence in isolate["sequences"]:
            sequence.setdefault("segment", None)
    return out


@pytest.mark.parametrize("path", [DEMO, EXPORT_20], ids=["demo", "export-20"])
def test_import_keeps_every_id_and_sequence(curator, path):
    client = client_for(curator)
    reference = import_reference(client, curator, path, name="Plant viruses")
    source = load(path)
    otu_ids, isolate_ids, sequences = file_ids(source)
    assert reference["ready"] is True
    assert reference["otu_count"] == len(source["otus"])
    assert set(OTU.objects.values_list("id", flat=True)) == otu_ids
    assert {(otu.pk, i["id"]) for otu in OTU.objects.all() for i in otu.isolates} == isolate_ids
    assert dict(Sequence.objects.values_list("id", "sequence")) == sequences
    # Each OTU has one `import` change holding its whole document.
    assert Change.objects.filter(method_name="import").count() == len(source["otus"])
    change = client.get(f"/api/history/{source['otus'][0]['_id']}.0").json()
    assert change["method_name"] == "import"
    assert change["description"].startswith(f"Imported {source['otus'][0]['name']}")
    assert change["diff"]["_id"] == source["otus"][0]["_id"]
    # The upload is used up; the imported OTUs are verified, so the reference can be built.
    assert reference["unbuilt_change_count"] == len(source["otus"])
    assert not OTU.objects.filter(verified=False).exists()
    otu = client.get(f"/api/otus/{source['otus'][0]['_id']}").json()
    assert otu["name"] == source["otus"][0]["name"]
    assert otu["issues"] is False


def test_export_then_import_gives_an_equal_reference(curator):
    client = client_for(curator)
    reference = import_reference(client, curator, DEMO, name="Demo")
    response = client.get(f"/api/refs/{reference['id']}/export?scope=unbuilt")
    assert response.status_code == 200
    exported = json.loads(
        gzip.decompress(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    source = load(DEMO)
    assert [normal(o) for o in sorted(source["otus"], key=lambda o: o["name"])] == exported["otus"]
    assert exported["data_type"] == "genome"
    assert exported["organism"] == "virus"
    # Remove the original, import the export: the same ids, names and sequences come back.
    assert client.delete(f"/api/refs/{reference['id']}").status_code == 204
    assert not OTU.objects.exists()
    assert not Sequence.objects.exists()
    again = import_reference(client, curator, data=gzip.compress(json.dumps(exported).encode()), name="Again")
    second = client.get(f"/api/refs/{again['id']}/export?scope=unbuilt")
    assert json.loads(gzip.decompress(second.content))["otus"] == exported["otus"]


def test_import_of_the_same_file_twice_gets_new_ids_and_remembers_the_originals(curator):
    client = client_for(curator)
    import_reference(client, curator, EXPORT_20, name="First")
    second = import_reference(client, curator, EXPORT_20, name="Second")
    assert second["otu_count"] == 20
    otus = OTU.objects.filter(reference_id=second["id"])
    source_ids = {otu["_id"] for otu in load(EXPORT_20)["otus"]}
    assert {otu.remote_id for otu in otus} == source_ids
    assert not {otu.pk for otu in otus} & source_ids
    remote = json.loads(gzip.decompress(client.get(f"/api/refs/{second['id']}/export?scope=unbuilt").content))
    assert {otu["_id"] for otu in remote["otus"]} == {otu.pk for otu in otus}


def test_import_of_a_bad_file_lists_every_problem_and_creates_nothing(curator):
    client = client_for(curator)
    document = load(EXPORT_20)
    document["otus"][1]["name"] = document["otus"][0]["name"].upper()  # duplicate name (case-insensitive)
    document["otus"][2]["isolates"][0]["sequences"][0]["sequence"] = "ACGTA"  # 5 nt
    document["otus"][3]["isolates"] = []  # empty OTU
    document["otus"][4]["abbreviation"] = document["otus"][5]["abbreviation"] or "X"
    document["otus"][5]["abbreviation"] = document["otus"][4]["abbreviation"]
    upload = make_reference_upload(curator, data=gz_json(document))
    response = client.post("/api/refs", {"import_from": upload.pk, "name": "Bad"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["id"] == "invalid_input"
    messages = [problem["msg"] for problem in body["errors"]]
    assert any("Duplicate OTU name" in m for m in messages)
    assert any("is 5 nt long" in m for m in messages)
    assert any("has no isolates" in m for m in messages)
    assert any("Duplicate abbreviation" in m for m in messages)
    assert body["errors"][0]["loc"][0] == "otus"
    assert not Reference.objects.exists()
    assert not OTU.objects.exists()
    assert not Change.objects.exists()
    upload.refresh_from_db()
    assert not upload.reserved
    assert not upload.removed


def test_import_of_something_that_is_not_a_reference_is_refused(curator):
    client = client_for(curator)
    upload = make_reference_upload(curator, data=b"\x00\x01binary", name="x.bin")
    response = client.post("/api/refs", {"import_from": upload.pk}, format="json")
    assert response.status_code == 400
    assert "neither a Virtool reference" in response.json()["message"]
    assert not Reference.objects.exists()


def test_reference_from_multi_fasta(curator):
    client = client_for(curator)
    fasta = (
        b">NC_003615.1 Raspberry ringspot virus RNA1, complete sequence\nACGTACGTAC\nGGTTAACC\n"
        b">MN123456 Grapevine fanleaf virus isolate X, complete genome\nacgtacgtacgtacgt\n"
    )
    reference = import_reference(client, curator, data=gzip.compress(fasta), name="From FASTA")
    otus = {otu["name"]: otu for otu in client.get(f"/api/refs/{reference['id']}/otus").json()["documents"]}
    assert set(otus) == {"Raspberry ringspot virus RNA1", "Grapevine fanleaf virus isolate X"}
    otu = client.get(f"/api/otus/{otus['Raspberry ringspot virus RNA1']['id']}").json()
    (isolate,) = otu["isolates"]
    assert isolate["default"] is True
    (sequence,) = isolate["sequences"]
    assert sequence["accession"] == "NC_003615.1"
    assert sequence["definition"] == "Raspberry ringspot virus RNA1, complete sequence"
    assert sequence["sequence"] == "ACGTACGTACGGTTAACC"


def test_fasta_with_duplicate_names_is_refused(curator):
    client = client_for(curator)
    fasta = b">A1 Some virus\nACGTACGTACGT\n>A2 Some virus\nACGTACGTACGT\n"
    upload = make_reference_upload(curator, data=fasta, name="x.fa")
    response = client.post("/api/refs", {"import_from": upload.pk}, format="json")
    assert response.status_code == 400
    assert "Duplicate OTU name 'Some virus'" in response.json()["errors"][0]["msg"]


def test_fasta_that_is_not_text_is_refused_naming_the_line(curator):
    client = client_for(curator)
    fasta = b">A1 Some virus\nACGTACGTACGT\n>A2 Other virus\nACGT\xffACGTACGT\n"
    upload = make_reference_upload(curator, data=gzip.compress(fasta), name="x.fa")
    response = client.post("/api/refs", {"import_from": upload.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"loc": [], "msg": "line 4: the file is not text: byte 0xff is neither ASCII nor UTF-8"}
    ]
    assert not Reference.objects.exists()


def test_clone_copies_every_otu_with_new_ids_and_clone_history(curator):
    client = client_for(curator)
    source = import_reference(client, curator, EXPORT_20, name="Source")
    response = client.post("/api/refs", {"clone_from": source["id"], "name": "Mine"}, format="json")
    assert response.status_code == 201
    from tests.references.conftest import run_waiting_jobs

    assert run_waiting_jobs() == ["complete"]
    clone = client.get(f"/api/refs/{response.json()['id']}").json()
    assert clone["otu_count"] == 20
    assert clone["cloned_from"] == {"id": source["id"], "name": "Source"}
    assert Change.objects.filter(reference_id=clone["id"], method_name="clone").count() == 20
    export = lambda ref: json.loads(gzip.decompress(client.get(f"/api/refs/{ref}/export").content))["otus"]  # noqa: E731
    strip = lambda otus: [  # noqa: E731
        (o["name"], [[s["sequence"] for s in i["sequences"]] for i in o["isolates"]]) for o in otus
    ]
    assert strip(export(clone["id"])) == strip(export(source["id"]))


def test_import_and_export_commands(run_manage, admin_user, tmp_path):
    result = run_manage("import_reference", str(DEMO), "--name", "From the command line")
    assert result.returncode == 0, result.stderr
    assert "24/24 OTUs" in result.stderr
    reference = Reference.objects.get(name="From the command line")
    assert reference.ready
    assert reference.user == admin_user
    target = tmp_path / "out.json.gz"
    result = run_manage("export_reference", reference.pk, str(target))
    assert result.returncode == 0, result.stderr
    exported = load(target)
    assert [normal(o) for o in sorted(load(DEMO)["otus"], key=lambda o: o["name"])] == exported["otus"]


def test_import_command_reports_problems(run_manage, tmp_path):
    bad = tmp_path / "bad.json.gz"
    document = load(EXPORT_20)
    document["otus"][0]["isolates"][0]["sequences"][0]["sequence"] = "ACG"
    bad.write_bytes(gz_json(document))
    result = run_manage("import_reference", str(bad))
    assert result.returncode != 0
    assert "is 3 nt long" in result.stderr
    assert not Reference.objects.exists()
