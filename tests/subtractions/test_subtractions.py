"""Subtractions: the create_subtraction job (checks, counts, bowtie2 index), edits, links to samples, deletion."""

from __future__ import annotations

import gzip
import random

import pytest

from files.models import Upload
from jobs.models import Job
from jobs.runner import job_execute
from samples.models import Sample
from subtractions.models import Subtraction
from subtractions.selectors import subtractions_path
from tests.conftest import client_for, stored_upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _run_jobs_here(jobs_here):
    """Jobs are run in this process by the tests."""


@pytest.fixture
def curator(make_user):
    return make_user("host", permissions=["modify_subtraction", "upload_file"])


def make_upload(user, data: bytes, name: str = "host.fa") -> Upload:
    return stored_upload(user, data, name=name, upload_type="subtraction")


def genome(seed: int = 3, records: int = 3, length: int = 2000) -> bytes:
    rng = random.Random(seed)
    out = []
    for index in range(records):
        sequence = "".join(rng.choice("ACGT") for _ in range(length)) + "NNNNnnacgt"
        lines = [sequence[i : i + 60] for i in range(0, len(sequence), 60)]
        out.append(f">chr{index + 1} host chromosome\n" + "\n".join(lines))
    return ("\n".join(out) + "\n").encode()


def create(client, upload, name="Vitis vinifera", nickname="Grapevine"):
    return client.post("/api/subtractions", {"name": name, "nickname": nickname, "upload_id": upload.pk}, format="json")


def run_job(subtraction_id: str) -> str:
    return job_execute(job_id=Subtraction.objects.get(pk=subtraction_id).job_id)


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_create_counts_and_indexes_the_genome(curator, compressed):
    client = client_for(curator)
    data = genome()
    upload = make_upload(
        curator, gzip.compress(data) if compressed else data, "host.fa.gz" if compressed else "host.fa"
    )
    response = create(client, upload)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["ready"] is False
    assert body["file"] == {"id": upload.pk, "name": upload.name}
    assert run_job(body["id"]) == "complete"
    detail = client.get(f"/api/subtractions/{body['id']}").json()
    assert detail["ready"] is True
    assert detail["count"] == 3
    text = b"".join(line for line in data.splitlines(True) if not line.startswith(b">")).lower()
    counts = {letter: text.count(letter.encode()) for letter in "atgcn"}
    total = sum(counts.values())
    assert detail["gc"] == {letter: round(counts[letter] / total, 3) for letter in "acgtn"}
    names = {f["name"] for f in detail["files"]}
    assert "subtraction.fa.gz" in names
    assert {f"subtraction.{s}.bt2" for s in ("1", "2", "3", "4", "rev.1", "rev.2")} <= names
    assert gzip.decompress((subtractions_path(body["id"]) / "subtraction.fa.gz").read_bytes()) == data
    assert client.get(f"/api/subtractions/{body['id']}/files/subtraction.fa.gz").status_code == 200
    upload.refresh_from_db()
    assert upload.removed
    short = client.get("/api/subtractions?short=true").json()
    assert short == [{"id": body["id"], "name": "Vitis vinifera", "ready": True}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ACGTACGT\n>chr1\nACGT\n", "must start with a '>' header line"),
        (b">chr1\nACGTXXQQ\n", "characters that are not nucleotides"),
        (b">chr1\n>chr2\nACGT\n", "has no sequence"),
        (gzip.compress(b">chr1\n" + b"ACGT" * 5000)[:-30], "damaged or truncated"),
        (b"", "no FASTA records"),
    ],
    ids=["no-header", "not-nucleotides", "empty-record", "truncated-gzip", "empty"],
)
def test_bad_fasta_ends_in_a_clear_error_and_leaves_nothing(curator, data, message):
    client = client_for(curator)
    upload = make_upload(curator, data)
    body = create(client, upload).json()
    assert run_job(body["id"]) == "error"
    job = Job.objects.get(pk=body["job"]["id"])
    assert message in job.status[-1]["error"]["details"][0]
    assert "host.fa" in job.status[-1]["error"]["details"][0]
    assert not Subtraction.objects.exists()
    assert not subtractions_path(body["id"]).exists()
    upload.refresh_from_db()
    assert not upload.reserved
    assert not upload.removed


def test_edit_link_and_delete(curator, admin_user):
    client = client_for(curator)
    body = create(client, make_upload(curator, genome(records=1, length=300))).json()
    assert run_job(body["id"]) == "complete"
    edited = client.patch(f"/api/subtractions/{body['id']}", {"name": "Arabidopsis", "nickname": ""}, format="json")
    assert edited.json()["name"] == "Arabidopsis"
    assert edited.json()["nickname"] == ""
    sample = Sample.objects.create(name="leaf", user=admin_user, ready=True)
    admin = client_for(admin_user)
    assert admin.patch(f"/api/samples/{sample.pk}", {"subtractions": [body["id"]]}, format="json").status_code == 200
    assert admin.get(f"/api/samples/{sample.pk}").json()["subtractions"] == [body["id"]]
    detail = client.get(f"/api/subtractions/{body['id']}").json()
    assert detail["linked_samples"] == [{"id": sample.pk, "name": "leaf"}]
    refused = client.delete(f"/api/subtractions/{body['id']}")
    assert refused.status_code == 409
    assert "leaf" in refused.json()["message"]
    bad = admin.patch(f"/api/samples/{sample.pk}", {"subtractions": ["nothere"]}, format="json")
    assert bad.status_code == 400
    assert bad.json()["message"] == "Subtractions do not exist: nothere"
    admin.patch(f"/api/samples/{sample.pk}", {"subtractions": []}, format="json")
    assert client.delete(f"/api/subtractions/{body['id']}").status_code == 204
    assert not subtractions_path(body["id"]).exists()


def test_writes_need_modify_subtraction(make_user, curator):
    upload = make_upload(curator, genome(records=1, length=100))
    nobody = client_for(make_user("nobody"))
    assert create(nobody, upload).status_code == 403
    assert nobody.get("/api/subtractions").status_code == 200
    wrong = Upload.objects.create(name="r.fq", type="reads", user=curator, size=1, ready=True, name_on_disk="x")
    response = create(client_for(curator), wrong)
    assert response.status_code == 400
    assert response.json()["message"] == "Only subtraction uploads can make a subtraction"
