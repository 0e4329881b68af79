"""The Virtool importer on small hand-written dumps of both shapes and a data folder of real reads."""

from __future__ import annotations

import io
from pathlib import Path

import bson
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from analyses.models import Analysis, AnalysisFile
from core.selectors import settings_get
from hmm.models import HMM
from indexes.models import Index
from otus.models import OTU, Change, Sequence
from references.models import Reference
from samples.models import Label, Sample
from subtractions.models import Subtraction
from tests.conftest import client_for
from tests.virtool_import import dumps
from users.models import User
from virtool_import.models import ImportedDocument, ImportReport
from virtool_import.services import virtool_import, virtool_import_check

pytestmark = pytest.mark.django_db

REAL_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "users.hashers.VirtoolSHA512PasswordHasher",
]


@pytest.fixture
def virtool(tmp_path):
    """Build the dump and data folder of a shape: `virtool("2019")` → (dump, data)."""

    def build(shape: str, collections=None) -> tuple[Path, Path]:
        documents = collections or (dumps.dump_2019() if shape == "2019" else dumps.dump_36())
        dump = dumps.write_dump(tmp_path / f"dump-{shape}", documents)
        data = dumps.data_folder(tmp_path / f"data-{shape}", shape=shape)
        return dump, data

    return build


def _counts() -> dict[str, int]:
    models = [User, Label, Subtraction, Reference, OTU, Sequence, Index, Change, Sample, Analysis, AnalysisFile, HMM]
    return {model.__name__: model.objects.count() for model in models}


def _login(handle: str, password: str) -> APIClient:
    client = APIClient()
    response = client.post("/api/account/login", {"handle": handle, "password": password}, format="json")
    assert response.status_code == 201, response.content
    return client


def test_import_2019_user_logs_in_with_sha512_password_then_rehashed(virtool, settings):
    settings.PASSWORD_HASHERS = REAL_HASHERS
    dump, data = virtool("2019")
    virtool_import(dump=dump, data=data)
    bob = User.objects.get(handle="bob")
    assert bob.password.startswith("virtool_sha512$")
    assert bob.administrator_role == "full"
    assert list(bob.groups.values_list("name", flat=True)) == ["technicians"]
    assert bob.primary_group.name == "technicians"
    assert sorted(bob.primary_group.permissions.values_list("codename", flat=True)) == ["create_sample", "upload_file"]
    wrong = APIClient().post("/api/account/login", {"handle": "bob", "password": "virtool2019pas"}, format="json")
    assert wrong.status_code == 400
    client = _login("bob", dumps.OLD_PASSWORD)
    assert client.get("/api/account").json()["handle"] == "bob"
    bob.refresh_from_db()
    assert bob.password.startswith("bcrypt_sha256$")  # rehashed at the first login
    _login("bob", dumps.OLD_PASSWORD)
    # A second import keeps the rehashed password: the dump's hash did not change.
    virtool_import(dump=dump, data=data)
    bob.refresh_from_db()
    assert bob.password.startswith("bcrypt_sha256$")


def test_import_36_user_logs_in_with_bcrypt_password(virtool, settings):
    settings.PASSWORD_HASHERS = REAL_HASHERS
    dump, data = virtool("36")
    virtool_import(dump=dump, data=data)
    alice = User.objects.get(handle="alice")
    assert alice.password.startswith("bcrypt$$2b$")
    assert alice.email == "alice@example.org"
    assert alice.settings["show_ids"] is True
    assert list(alice.groups.values_list("name", flat=True)) == ["Diagnostics"]
    _login("alice", dumps.NEW_PASSWORD)
    wrong = APIClient().post("/api/account/login", {"handle": "alice", "password": "not it"}, format="json")
    assert wrong.status_code == 400


@pytest.mark.parametrize(("shape", "analysis_id"), [("2019", "ana2019a"), ("36", "ana0036a")])
def test_imported_pathoscope_analysis_shows_rprsv(virtool, admin_user, shape, analysis_id):
    dump, data = virtool(shape)
    virtool_import(dump=dump, data=data)
    response = client_for(admin_user).get(f"/api/analyses/{analysis_id}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["workflow"] == "pathoscope_bowtie"
    assert body["sample"]["id"] in ("smp2019a", "smp0036a")
    assert body["index"] == {"id": "idx00001", "version": 0}
    results = body["results"]
    assert results["read_count"] == 1000
    assert results["subtracted_count"] == 12
    (otu,) = results["hits"]
    # The OTU as built into index 0: RpRSV, before the unbuilt change of its abbreviation.
    assert (otu["id"], otu["name"], otu["abbreviation"], otu["version"]) == (
        "rprsv001",
        "Raspberry ringspot virus",
        "RpRSV",
        0,
    )
    assert otu["pi"] == pytest.approx(1.0)
    sequences = {s["id"]: s for isolate in otu["isolates"] for s in isolate["sequences"]}
    assert sequences["seq00001"]["pi"] == pytest.approx(0.61)
    assert sequences["seq00001"]["reads"] == 610
    assert sequences["seq00002"]["reads"] == 390
    length = len(dumps.RNA1)
    assert sequences["seq00001"]["coverage"] == pytest.approx((length - 10) / length, abs=0.001)


@pytest.mark.parametrize("shape", ["2019", "36"])
def test_imported_reference_history_reverts(virtool, admin_user, shape):
    dump, data = virtool(shape)
    virtool_import(dump=dump, data=data)
    otu = OTU.objects.get(pk="rprsv001")
    assert (otu.abbreviation, otu.version, otu.reference_id) == ("RRSV", 1, "ref00001")
    assert list(Change.objects.filter(otu_id="rprsv001").order_by("pk").values_list("change_id", "index_id")) == [
        ("rprsv001.0", "idx00001"),
        ("rprsv001.1", None),
    ]
    client = client_for(admin_user)
    assert client.delete("/api/history/rprsv001.0").status_code == 409  # built into index 0
    assert client.delete("/api/history/rprsv001.1").status_code == 204
    otu.refresh_from_db()
    assert (otu.abbreviation, otu.version) == ("RpRSV", 0)
    assert sorted(Sequence.objects.filter(otu=otu).values_list("id", "segment")) == [
        ("seq00001", "RNA1"),
        ("seq00002", "RNA2"),
    ]


def test_import_36_brings_samples_files_labels_nuvs_and_hmms(virtool, admin_user, settings):
    dump, data = virtool("36")
    before = sorted((str(path), path.stat().st_size) for path in data.rglob("*"))
    report = virtool_import(dump=dump, data=data)
    assert report.shape == "36.x"
    assert sorted((str(path), path.stat().st_size) for path in data.rglob("*")) == before  # Virtool's is only read
    sample = Sample.objects.get(pk="smp0036a")
    assert (sample.name, sample.paired, sample.ready, sample.is_legacy) == ("Raspberry 2025", True, True, False)
    assert sample.group.name == "Diagnostics"
    assert list(sample.labels.values_list("name", flat=True)) == ["Quarantine"]
    folder = Path(settings.DATA_PATH) / "samples" / "smp0036a"
    for mate in (1, 2):
        assert (folder / f"reads_{mate}.fq.gz").read_bytes() == (dumps.SAMPLES / f"rprsv_{mate}.fq.gz").read_bytes()
    index = Index.objects.get(pk="idx00001")
    assert index.has_files
    assert index.manifest == {"rprsv001": 0}
    assert HMM.objects.filter(pk="hmm00010", cluster=10).exists()
    nuvs = client_for(admin_user).get("/api/analyses/nuv0036a").json()
    assert nuvs["results"]["hits"][0]["orfs"][0]["hits"][0]["hit"] == "hmm00010"
    assert [f["name"] for f in nuvs["files"]] == ["assembly.fa.gz"]


def test_import_2019_sample_is_legacy_and_its_update_job_is_started(virtool, settings):
    dump, data = virtool("2019")
    report = virtool_import(dump=dump, data=data)
    assert report.shape == "2019"
    instance = settings_get()
    assert (instance.sample_group, instance.sample_all_read, instance.minimum_password_length) == (
        "users_primary_group",
        False,
        10,
    )
    sample = Sample.objects.get(pk="smp2019a")
    assert sample.is_legacy
    assert [f["name"] for f in sample.files] == ["reads_1.fastq", "reads_2.fastq"]
    assert sample.srna is False
    assert list(sample.subtractions.values_list("pk", flat=True)) == ["arabidop"]
    assert sample.job is not None
    assert sample.job.workflow == "update_sample"
    folder = Path(settings.DATA_PATH) / "samples" / "smp2019a"
    assert (folder / "reads_1.fastq").stat().st_size == (data / "samples" / "smp2019a" / "reads_1.fastq").stat().st_size
    subtraction = Path(settings.DATA_PATH) / "subtractions" / "arabidop"
    assert (subtraction / "subtraction.1.bt2").is_file()  # 2019's reference.1.bt2, renamed
    (legacy,) = report.legacy_samples
    assert legacy["id"] == "smp2019a"
    assert legacy["job"] == sample.job_id
    assert any("uncompressed" in reason for reason in legacy["reasons"])


@pytest.mark.parametrize("shape", ["2019", "36"])
def test_second_import_changes_nothing(virtool, shape):
    dump, data = virtool(shape)
    first = virtool_import(dump=dump, data=data)
    assert sum(row["created"] for row in first.collections) > 0
    before = _counts()
    documents = list(ImportedDocument.objects.order_by("pk").values("collection", "virtool_id", "local_id", "digest"))
    second = virtool_import(dump=dump, data=data)
    assert _counts() == before
    assert list(ImportedDocument.objects.order_by("pk").values("collection", "virtool_id", "local_id", "digest")) == (
        documents
    )
    for row in second.collections:
        assert (row["created"], row["updated"], row["skipped"]) == (0, 0, 0), row
        assert row["unchanged"] == row["read"]


def test_changed_document_is_updated(virtool, tmp_path):
    collections = dumps.dump_36()
    dump, data = virtool("36", collections)
    virtool_import(dump=dump, data=data)
    collections["samples"][0]["name"] = "Raspberry 2025 (renamed)"
    dumps.write_dump(dump, collections)
    report = virtool_import(dump=dump, data=data)
    samples = next(row for row in report.collections if row["collection"] == "samples")
    assert (samples["created"], samples["updated"]) == (0, 1)
    assert Sample.objects.get(pk="smp0036a").name == "Raspberry 2025 (renamed)"
    assert Sample.objects.count() == 1


def _malformed(virtool) -> tuple[Path, Path]:
    """A 2019 dump with a truncated analyses file, a sample whose reads are missing and an OTU with no isolates."""
    collections = dumps.dump_2019()
    missing = {**collections["samples"][0], "_id": "smpgone1", "name": "No reads"}
    collections["samples"].append(missing)
    empty = {**collections["otus"][0], "_id": "emptyotu", "name": "Empty virus", "isolates": []}
    collections["otus"].append(empty)
    dump, data = virtool("2019", collections)
    path = dump / "virtool" / "analyses.bson"
    good = bson.encode({"_id": "anagood1", **{k: v for k, v in collections["analyses"][0].items() if k != "_id"}})
    path.write_bytes(good + path.read_bytes()[:-40])
    return dump, data


def test_check_lists_every_problem_and_writes_nothing(virtool):
    dump, data = _malformed(virtool)
    report = virtool_import_check(dump=dump, data=data)
    problems = {(p["collection"], p["id"]): p["reason"] for p in report.problems if p["skipped"]}
    assert set(problems) == {("analyses", "#2"), ("samples", "smpgone1"), ("otus", "emptyotu")}
    assert "damaged after document 1" in problems["analyses", "#2"]
    assert problems["samples", "smpgone1"].startswith("Its reads are missing")
    assert problems["otus", "emptyotu"] == "The OTU has no isolates"
    assert report.check_only
    assert all(count == 0 for count in _counts().values())
    assert not ImportedDocument.objects.exists()


def test_import_of_malformed_dump_leaves_the_bad_documents_out(virtool):
    dump, data = _malformed(virtool)
    report = virtool_import(dump=dump, data=data)
    assert not Sample.objects.filter(pk="smpgone1").exists()
    assert not OTU.objects.filter(pk="emptyotu").exists()
    assert list(Analysis.objects.values_list("pk", flat=True)) == ["anagood1"]  # the one before the damage
    assert Sample.objects.filter(pk="smp2019a").exists()
    assert OTU.objects.filter(pk="rprsv001").exists()
    skipped = {(p["collection"], p["id"]) for p in report.problems if p["skipped"]}
    assert skipped == {("analyses", "#2"), ("samples", "smpgone1"), ("otus", "emptyotu")}


def test_command_prints_report_and_check_problems(virtool):
    dump, data = _malformed(virtool)
    out = io.StringIO()
    call_command("import_virtool", "--dump", str(dump), "--data", str(data), "--check", stdout=out)
    text = out.getvalue()
    assert "skipped: otus emptyotu: The OTU has no isolates" in text
    assert "skipped: samples smpgone1: Its reads are missing" in text
    assert Sample.objects.count() == 0
    out = io.StringIO()
    call_command("import_virtool", "--dump", str(dump), "--data", str(data), stdout=out)
    text = out.getvalue()
    assert "samples      [##############################] 1/1" in text
    assert Sample.objects.count() == 1
    assert ImportReport.objects.count() == 2


def test_import_report_page_shows_last_report(virtool, admin_user, make_user):
    carol = make_user("carol")
    dump, data = _malformed(virtool)
    virtool_import(dump=dump, data=data)
    page = client_for(admin_user).get("/administration/import")
    assert page.status_code == 200
    html = page.content.decode()
    assert "The OTU has no isolates" in html
    assert "smpgone1" in html
    assert "Raspberry 2019" in html  # the legacy sample
    assert client_for(carol).get("/administration/import").status_code == 403


def test_imported_legacy_sample_updated_has_the_quality_of_a_fresh_one(virtool, settings, jobs_here):
    """The acceptance walk end to end: the 2019 sample's update job, run here, leaves it as a sample made today from
    the same reads would be: gzip reads under today's names and the FastQC-exact quality of those reads."""
    from samples.quality import quality
    from tests.conftest import run_waiting_jobs

    dump, data = virtool("2019")
    virtool_import(dump=dump, data=data)
    assert run_waiting_jobs() == ["complete"]
    sample = Sample.objects.get(pk="smp2019a")
    assert not sample.is_legacy
    folder = Path(settings.DATA_PATH) / "samples" / "smp2019a"
    assert sorted(path.name for path in folder.glob("reads_*")) == ["reads_1.fq.gz", "reads_2.fq.gz"]
    originals = [data / "samples" / "smp2019a" / f"reads_{mate}.fastq" for mate in (1, 2)]
    assert sample.quality == quality(originals)
    assert sample.library_type == "normal"  # 2019's srna: false
