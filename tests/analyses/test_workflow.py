"""PathoScope end to end: demo reference → index → samples → analyses, on real bowtie2 and real reads."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random

import pytest

from analyses.models import Analysis
from jobs.models import Job
from references.models import Reference
from samples.models import Sample
from subtractions.models import Subtraction
from tests.conftest import SHARED, client_for, run_waiting_jobs, wait_for
from tests.references.conftest import DEMO, make_reference_upload
from tests.samples.test_api import make_upload
from tests.subtractions.test_subtractions import make_upload as make_subtraction_upload

pytestmark = pytest.mark.django_db(transaction=True)
SAMPLES = SHARED / "data" / "samples"
RPRSV = "Raspberry ringspot virus"
RPRSV_RNA1, RPRSV_RNA2 = "NC_005266", "NC_005267"


@pytest.fixture
def scientist(make_user):
    return make_user(
        "sci", permissions=["create_ref", "create_sample", "upload_file", "modify_subtraction", "cancel_job"]
    )


def prepare(client, user, *, reads: tuple[str, ...] = ("rprsv_1.fq.gz", "rprsv_2.fq.gz"), run=run_waiting_jobs):
    """Import the demo reference, build its index, create a sample; `run` gets the jobs done."""
    upload = make_reference_upload(user, source=DEMO)
    reference = client.post("/api/refs", {"import_from": upload.pk, "name": "Demo"}, format="json").json()
    run()
    assert client.post(f"/api/refs/{reference['id']}/indexes").status_code == 201
    uploads = [make_upload(user, SAMPLES / name) for name in reads]
    sample = client.post("/api/samples", {"name": reads[0], "files": [u.pk for u in uploads]}, format="json").json()
    run()
    return reference, sample


def top_otu(results: dict) -> dict:
    return results["hits"][0]


def test_rprsv_sample_on_a_real_worker_finds_both_segments(scientist, start_worker):
    start_worker(queues="small,large", concurrency=1, VIRTOOL_PROC="2", VIRTOOL_LG_PROC="2")
    client = client_for(scientist)

    def wait_jobs() -> None:
        wait_for(lambda: not Job.objects.exclude(state__in=["complete", "error", "cancelled"]).exists(), timeout=180)
        assert set(Job.objects.values_list("state", flat=True)) == {"complete"}, [
            j.status[-1] for j in Job.objects.all()
        ]

    reference, sample = prepare(client, scientist, run=wait_jobs)
    wait_for(lambda: Sample.objects.get(pk=sample["id"]).ready, timeout=60)
    response = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json")
    assert response.status_code == 201, response.json()
    analysis = response.json()
    assert analysis["workflow"] == "pathoscope_bowtie"
    assert analysis["index"]["version"] == 0
    wait_jobs()
    document = client.get(f"/api/analyses/{analysis['id']}").json()
    assert document["ready"] is True
    results = document["results"]
    assert results["read_count"] > 1000
    assert results["subtracted_count"] == 0
    otu = top_otu(results)
    assert otu["name"] == RPRSV
    sequences = {s["accession"]: s for i in otu["isolates"] for s in i["sequences"]}
    assert {RPRSV_RNA1, RPRSV_RNA2} <= set(sequences)
    for accession in (RPRSV_RNA1, RPRSV_RNA2):
        assert sequences[accession]["coverage"] > 0.5, (accession, sequences[accession]["coverage"])
        assert sequences[accession]["align"][0][0] == 0
    assert otu["pi"] > 0.9
    # The stored results are Virtool's shape.
    stored = Analysis.objects.get(pk=analysis["id"]).results
    hit = stored["hits"][0]
    assert set(hit) == {"id", "otu", "final", "initial", "align", "coverage", "depth"}
    assert set(hit["final"]) == {"pi", "best", "high", "low", "reads"}
    assert hit["otu"] == {"id": otu["id"], "version": 0}
    # Exports: one row per sequence.
    rows = list(csv.reader(io.StringIO(client.get(f"/api/analyses/documents/{analysis['id']}.csv").content.decode())))
    assert rows[0] == ["OTU", "Isolate", "Sequence", "Length", "Weight", "Median Depth", "Coverage"]
    assert {row[2] for row in rows[1:] if row[0] == RPRSV} >= {RPRSV_RNA1, RPRSV_RNA2}
    xlsx = client.get(f"/api/analyses/documents/{analysis['id']}.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    listed = client.get(f"/api/samples/{sample['id']}/analyses").json()["documents"]
    assert [a["id"] for a in listed] == [analysis["id"]]


def test_negative_control_finds_nothing(scientist, jobs_here):
    client = client_for(scientist)
    reference, sample = prepare(client, scientist, reads=("small_50bp_1.fq.gz", "small_50bp_2.fq.gz"))
    analysis = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json").json()
    assert run_waiting_jobs() == ["complete"]
    results = client.get(f"/api/analyses/{analysis['id']}").json()["results"]
    assert results["hits"] == []


def host_genome_with(fragment: str, seed: int = 7) -> bytes:
    """A host-like genome: random sequence around a fragment of the virus (an endogenous viral element)."""
    rng = random.Random(seed)
    flank = lambda n: "".join(rng.choice("ACGT") for _ in range(n))  # noqa: E731
    sequence = flank(3000) + fragment + flank(3000)
    return (">host_chr1\n" + "\n".join(sequence[i : i + 70] for i in range(0, len(sequence), 70)) + "\n").encode()


def test_subtraction_removes_reads_the_host_explains(scientist, jobs_here):
    client = client_for(scientist)
    reference, sample = prepare(client, scientist)
    demo = json.loads(gzip.decompress(DEMO.read_bytes()))
    rna2 = next(
        s["sequence"]
        for o in demo["otus"]
        for i in o["isolates"]
        for s in i["sequences"]
        if s["accession"] == RPRSV_RNA2
    )
    upload = make_subtraction_upload(scientist, host_genome_with(rna2[2000:3500]))
    subtraction = client.post("/api/subtractions", {"name": "Host", "upload_id": upload.pk}, format="json").json()
    assert run_waiting_jobs() == ["complete"]
    plain = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json").json()
    subtracted = client.post(
        f"/api/samples/{sample['id']}/analyses",
        {"ref_id": reference["id"], "subtractions": [subtraction["id"]]},
        format="json",
    ).json()
    assert client.delete(f"/api/subtractions/{subtraction['id']}").status_code == 409  # an analysis waits for it
    assert run_waiting_jobs() == ["complete", "complete"]
    without = client.get(f"/api/analyses/{plain['id']}").json()["results"]
    with_host = client.get(f"/api/analyses/{subtracted['id']}").json()["results"]
    assert without["subtracted_count"] == 0
    assert with_host["subtracted_count"] > 50
    depth = lambda results: next(  # noqa: E731
        s for o in results["hits"] for i in o["isolates"] for s in i["sequences"] if s["accession"] == RPRSV_RNA2
    )["median_depth"]
    assert depth(with_host) <= depth(without)
    # A batch without subtractions analyses each sample with its own defaults.
    client.patch(f"/api/samples/{sample['id']}", {"subtractions": [subtraction["id"]]}, format="json")
    batch = client.post("/api/analyses", {"sample_ids": [sample["id"]], "ref_id": reference["id"]}, format="json")
    assert batch.status_code == 201
    assert batch.json()[0]["subtractions"] == [{"id": subtraction["id"], "name": "Host"}]
    assert run_waiting_jobs() == ["complete"]
    client.patch(f"/api/samples/{sample['id']}", {"subtractions": []}, format="json")
    # The analyses keep their results when the subtraction goes (it is linked to no sample).
    assert client.delete(f"/api/subtractions/{subtraction['id']}").status_code == 204
    assert client.get(f"/api/analyses/{subtracted['id']}").json()["results"]["subtracted_count"] > 50


def test_refusals(scientist, jobs_here, make_user):
    client = client_for(scientist)
    reference, sample = prepare(client, scientist, reads=("small_50bp_1.fq.gz",))
    empty = client.post("/api/refs", {"name": "Empty"}, format="json").json()
    no_index = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": empty["id"]}, format="json")
    assert no_index.status_code == 400
    assert no_index.json()["message"] == "The reference has no ready index: build one first"
    missing = client.post(
        f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"], "subtractions": ["nope"]}, format="json"
    )
    assert missing.json()["message"] == "Subtractions do not exist: nope"
    analysis = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json").json()
    running = client.delete(f"/api/analyses/{analysis['id']}")
    assert running.status_code == 409
    # What the waiting analysis uses cannot be deleted under it.
    assert client.delete(f"/api/samples/{sample['id']}").status_code == 409
    in_use = client.delete(f"/api/refs/{reference['id']}")
    assert in_use.status_code == 409
    assert "in use by running jobs" in in_use.json()["message"]
    # Others cannot read or start analyses on a sample they may not read.
    Sample.objects.filter(pk=sample["id"]).update(all_read=False, all_write=False)
    stranger = client_for(make_user("stranger"))
    assert stranger.get(f"/api/analyses/{analysis['id']}").status_code == 403
    assert stranger.get("/api/analyses").json()["documents"] == []
    assert run_waiting_jobs() == ["complete"]
    assert client.delete(f"/api/analyses/{analysis['id']}").status_code == 204
    assert not Analysis.objects.exists()
    # Batch: the same analysis on several samples at once.
    batch = client.post("/api/analyses", {"sample_ids": [sample["id"]], "ref_id": reference["id"]}, format="json")
    assert batch.status_code == 201
    assert len(batch.json()) == 1
    assert Reference.objects.count() == 2
    assert Subtraction.objects.count() == 0
