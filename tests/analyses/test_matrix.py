"""The cross-sample matrix on three real PathoScope analyses (rprsv, small_50bp, and rprsv with a subtraction):
RpRSV detected in two samples and an explicit `not detected` zero cell in the third, the same numbers as
GET /api/analyses/{id}, every sample by OTU cell in the CSV and the XLSX, sorting, the label filter, refusals."""

from __future__ import annotations

import csv
import gzip
import io
import json

import openpyxl
import pytest

from samples.models import Label, Sample
from tests.analyses.test_workflow import RPRSV, RPRSV_RNA2, SAMPLES, host_genome_with, prepare
from tests.conftest import client_for, run_waiting_jobs
from tests.references.conftest import DEMO
from tests.samples.test_api import make_upload
from tests.subtractions.test_subtractions import make_upload as make_subtraction_upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scientist(make_user, jobs_here):
    return make_user("sci", permissions=["create_ref", "create_sample", "upload_file", "modify_subtraction"])


def make_sample(client, user, name: str, reads: tuple[str, ...]) -> dict:
    uploads = [make_upload(user, SAMPLES / read) for read in reads]
    sample = client.post("/api/samples", {"name": name, "files": [u.pk for u in uploads]}, format="json").json()
    assert run_waiting_jobs() == ["complete"]
    return sample


@pytest.fixture
def three(scientist):
    """The three analyses: {name: (sample, analysis)}, with the reference."""
    client = client_for(scientist)
    reference, rprsv = prepare(client, scientist)
    negative = make_sample(client, scientist, "negative", ("small_50bp_1.fq.gz", "small_50bp_2.fq.gz"))
    subtracted = make_sample(client, scientist, "subtracted", ("rprsv_1.fq.gz", "rprsv_2.fq.gz"))
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
    start = {"ref_id": reference["id"]}
    analyses = {
        "rprsv": client.post(f"/api/samples/{rprsv['id']}/analyses", start, format="json").json(),
        "negative": client.post(f"/api/samples/{negative['id']}/analyses", start, format="json").json(),
        "subtracted": client.post(
            f"/api/samples/{subtracted['id']}/analyses", {**start, "subtractions": [subtraction["id"]]}, format="json"
        ).json(),
    }
    assert run_waiting_jobs() == ["complete"] * 3
    samples = {"rprsv": rprsv, "negative": negative, "subtracted": subtracted}
    return reference, {name: (samples[name], analyses[name]) for name in analyses}


def cells_by_name(matrix: dict) -> dict[str, dict[str, dict]]:
    """{sample name: {OTU name: cell}}."""
    names = [otu["name"] for otu in matrix["otus"]]
    return {row["sample_name"]: dict(zip(names, row["cells"], strict=True)) for row in matrix["samples"]}


def test_matrix_of_three_real_analyses(scientist, three, make_user, django_assert_max_num_queries):
    reference, made = three
    client = client_for(scientist)
    ids = ",".join(analysis["id"] for _, analysis in made.values())
    response = client.get(f"/api/analyses/matrix?ids={ids}")
    assert response.status_code == 200, response.json()
    matrix = response.json()
    assert matrix["reference"] == {"id": reference["id"], "name": "Demo"}
    assert [row["analysis_id"] for row in matrix["samples"]] == [made[name][1]["id"] for name in sorted(made)]
    assert [row["sample_name"] for row in matrix["samples"]] == ["negative", "rprsv_1.fq.gz", "subtracted"]
    for row in matrix["samples"]:
        assert len(row["cells"]) == len(matrix["otus"])  # no gaps
        assert row["reference"] == {"id": reference["id"], "name": "Demo"}
        assert row["index_version"] == 0
    assert matrix["otus"][0]["name"] == RPRSV  # the most detected column first
    assert matrix["otus"][0]["detected"] == 2
    cells = cells_by_name(matrix)
    assert cells["rprsv_1.fq.gz"][RPRSV]["call"] == "detected"
    assert cells["subtracted"][RPRSV]["call"] == "detected"
    assert cells["negative"][RPRSV] == {"call": "not detected", "reads": 0, "coverage": 0.0, "depth": 0, "weight": 0.0}
    subtracted_row = next(row for row in matrix["samples"] if row["sample_name"] == "subtracted")
    assert [s["name"] for s in subtracted_row["subtractions"]] == ["Host"]

    # The numbers and calls of GET /api/analyses/{id}, for every OTU it shows.
    for name, (_sample, analysis) in made.items():
        results = client.get(f"/api/analyses/{analysis['id']}").json()["results"]
        row = next(row for row in matrix["samples"] if row["analysis_id"] == analysis["id"])
        by_id = dict(zip((otu["id"] for otu in matrix["otus"]), row["cells"], strict=True))
        for otu in results["hits"]:
            cell = by_id[otu["id"]]
            shown = {"call": otu["call"]["result"], "reads": otu["reads"], "coverage": otu["coverage"]}
            assert {k: cell[k] for k in shown} == shown, (name, otu["name"])
            assert (cell["depth"], cell["weight"], cell["reasons"]) == (otu["depth"], otu["pi"], otu["call"]["reasons"])
        assert sum(1 for cell in row["cells"] if cell["reads"]) == len([o for o in results["hits"] if o["reads"]])

    # Sorted by the RpRSV column (detected first, then reads), and by sample name reversed.
    rprsv_id = matrix["otus"][0]["id"]
    by_rprsv = client.get(f"/api/analyses/matrix?ids={ids}&sort=-{rprsv_id}").json()
    assert by_rprsv["samples"][-1]["sample_name"] == "negative"
    reads = [row["cells"][0]["reads"] for row in by_rprsv["samples"]]
    assert reads == sorted(reads, reverse=True)
    reverse = client.get(f"/api/analyses/matrix?ids={ids}&sort=-sample").json()
    assert [row["sample_name"] for row in reverse["samples"]] == ["subtracted", "rprsv_1.fq.gz", "negative"]

    # Every OTU of the reference with all=true, zero columns included.
    everything = client.get(f"/api/analyses/matrix?ids={ids}&all=true").json()
    reference_otus = client.get(f"/api/refs/{reference['id']}/otus?per_page=100").json()["documents"]
    assert len(everything["otus"]) == len(reference_otus)
    assert len(reference_otus) > len(matrix["otus"])
    assert all(len(row["cells"]) == len(everything["otus"]) for row in everything["samples"])

    # By label (the latest ready analysis of each sample carrying it), and a label filtering chosen samples.
    label = Label.objects.create(name="Field 3")
    for name in ("rprsv", "negative"):
        Sample.objects.get(pk=made[name][0]["id"]).labels.add(label)
    labelled = client.get(f"/api/analyses/matrix?label={label.pk}").json()
    assert [row["sample_name"] for row in labelled["samples"]] == ["negative", "rprsv_1.fq.gz"]
    assert labelled["samples"][1]["labels"] == [{"id": label.pk, "name": "Field 3", "color": label.color}]
    sample_ids = ",".join(sample["id"] for sample, _ in made.values())
    chosen = client.get(f"/api/analyses/matrix?sample_ids={sample_ids}&label={label.pk}").json()
    assert {row["analysis_id"] for row in chosen["samples"]} == {made["rprsv"][1]["id"], made["negative"][1]["id"]}
    by_samples = client.get(f"/api/analyses/matrix?sample_ids={sample_ids}&ref_id={reference['id']}").json()
    assert len(by_samples["samples"]) == 3
    assert by_samples["missing"] == []

    # A bounded number of queries, however many rows (no query per sample or cell).
    with django_assert_max_num_queries(12):
        assert client.get(f"/api/analyses/matrix?ids={ids}&all=true").status_code == 200

    # CSV: every sample by OTU cell, long form; XLSX: the same cells.
    csv_response = client.get(f"/api/analyses/matrix.csv?ids={ids}")
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode())))
    assert rows[0][:9] == [
        "Sample ID",
        "Sample",
        "Analysis ID",
        "Reference",
        "Index Version",
        "OTU ID",
        "OTU",
        "Call",
        "Reads",
    ]
    body = rows[1:]
    assert len(body) == len(matrix["samples"]) * len(matrix["otus"])
    assert {(row[0], row[5]) for row in body} == {
        (r["sample_id"], o["id"]) for r in matrix["samples"] for o in matrix["otus"]
    }
    negative_rprsv = next(row for row in body if row[1] == "negative" and row[6] == RPRSV)
    assert negative_rprsv[7:12] == ["not detected", "0", "0.0", "0", "0.0"]
    assert [row[7] for row in body if row[6] == RPRSV].count("detected") == 2
    xlsx_response = client.get(f"/api/analyses/matrix.xlsx?ids={ids}")
    assert xlsx_response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_response.content), read_only=True)
    sheet = list(workbook["Cells"].iter_rows(values_only=True))
    assert [list(row) for row in sheet[:1]] == [rows[0]]

    def same(value):  # XLSX keeps numbers as numbers (0.0 reads back as 0), the CSV as text
        text = "" if value is None else str(value)
        try:
            return float(text)
        except ValueError:
            return text

    assert [[same(v) for v in row] for row in sheet[1:]] == [[same(v) for v in row] for row in body]
    wide = list(workbook["Reads"].iter_rows(values_only=True))
    assert list(wide[0]) == ["Sample", *(otu["name"] for otu in matrix["otus"])]
    assert len(wide) == len(matrix["samples"]) + 1

    # A stranger sees only the samples they may read.
    hidden = made["negative"][0]["id"]
    Sample.objects.filter(pk=hidden).update(all_read=False, all_write=False)
    stranger = client_for(make_user("stranger"))
    assert stranger.get(f"/api/analyses/matrix?ids={ids}").status_code == 403
    assert stranger.get(f"/api/analyses/matrix.csv?ids={ids}").status_code == 403
    assert stranger.get(f"/api/analyses/matrix?sample_ids={hidden}").status_code == 403
    seen = stranger.get(f"/api/analyses/matrix?label={label.pk}").json()
    assert [row["sample_name"] for row in seen["samples"]] == ["rprsv_1.fq.gz"]
    assert client.get(f"/api/analyses/matrix?label={label.pk}").json()["samples"][0]["sample_name"] == "negative"


def test_matrix_refuses_bad_parameters(scientist, three):
    _reference, made = three
    client = client_for(scientist)
    ids = made["rprsv"][1]["id"]
    for query, parameter in (
        ("ids=ab!c", "ids"),
        ("ids=" + ",".join(["abcdefgh"] * 251), "ids"),
        ("label=one", "label"),
        (f"ids={ids}&all=perhaps", "all"),
        (f"ids={ids}&colour=red", "colour"),
        (f"ids={ids}&sort=a;b", "sort"),
    ):
        response = client.get(f"/api/analyses/matrix?{query}")
        assert response.status_code == 400, (query, response.json())
        assert response.json()[0]["loc"] == [parameter], response.json()
        assert response.json()[0]["in"] == "query string"
    for query, word in (("", "ids, sample_ids or label"), (f"ids={ids}&sort=nosuchotu", "sort")):
        response = client.get(f"/api/analyses/matrix?{query}")
        assert response.status_code == 400, response.json()
        assert response.json()["id"] == "bad_request"
        assert response.json()["message"].startswith(word)
    assert client.get("/api/analyses/matrix?ids=nosuchid").status_code == 404
    assert client.get("/api/analyses/matrix?sample_ids=nosuchid").status_code == 404
    assert client.get(f"/api/analyses/matrix?ids={ids}&ref_id=nosuchref").status_code == 404
    assert client.get("/api/analyses/matrix.xlsx").status_code == 400
    # Analyses of several references need a choice.
    other = client.post("/api/refs", {"name": "Other"}, format="json").json()
    wrong = client.get(f"/api/analyses/matrix?ids={ids}&ref_id={other['id']}")
    assert wrong.status_code == 400
    assert wrong.json()["message"].startswith("ids:")
    # A sample without a ready PathoScope analysis of the reference is listed as missing, not as a row.
    none = client.get(f"/api/analyses/matrix?sample_ids={made['rprsv'][0]['id']}&ref_id={other['id']}").json()
    assert none["samples"] == []
    assert none["missing"] == [{"id": made["rprsv"][0]["id"], "name": "rprsv_1.fq.gz"}]
    assert client.get("/api/analyses/matrix?ids=" + ids).status_code == 200
    from rest_framework.test import APIClient

    assert APIClient().get(f"/api/analyses/matrix?ids={ids}").status_code == 401
