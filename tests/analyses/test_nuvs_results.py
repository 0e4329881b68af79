"""NuVs results on `GET /api/analyses/{id}` (annotations merged, Virtool's per-contig figures), the result files
and the FASTA downloads."""

from __future__ import annotations

import gzip

import pytest

from analyses.models import Analysis, AnalysisFile, NuvsBlast
from analyses.nuvs.results import format_contig
from analyses.services import analysis_files_record
from hmm.models import HMM
from samples.models import Sample
from tests.analyses.nuvs_data import install_hmms, nuvs_analysis, nuvs_results, rprsv_rna2
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_path(settings, tmp_path):
    settings.DATA_PATH = tmp_path / "data"
    settings.DATA_PATH.mkdir()
    return settings.DATA_PATH


@pytest.fixture
def clusters(data_path) -> dict[int, str]:
    return install_hmms()


@pytest.fixture
def owner(make_user):
    return make_user("nuvs-owner", permissions=["create_sample"])


@pytest.fixture
def client(owner):
    return client_for(owner)


@pytest.fixture
def analysis(owner, clusters) -> Analysis:
    return nuvs_analysis(owner, nuvs_results(clusters))


def test_nuvs_get_merges_annotations_and_adds_virtools_figures(
    client, analysis, clusters, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/analyses/{analysis.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["workflow"] == "nuvs"
    first, second, third = body["results"]["hits"]

    # Contig 0: ORF 0 hits vFam 10 and 100, ORF 1 a purged HMM, ORF 2 nothing (so E is 0, Virtool's rule).
    assert [first[key] for key in ("id", "index", "annotatedOrfCount", "e")] == [0, 0, 2, 0]
    assert first["families"] == ["Papillomaviridae", "Baculoviridae"]
    assert first["names"] == [
        "L1",
        "L1 protein",
        "major capsid protein",
        "late expression factor 11",
        "LEF-11",
        "lef11",
    ]
    assert first["sequence"] == rprsv_rna2(0, 1200)
    hit = first["orfs"][0]["hits"][0]
    assert hit == {
        "hit": clusters[10],
        "full_e": 1e-30,
        "full_score": 120.5,
        "full_bias": 0.1,
        "best_e": 2e-30,
        "best_bias": 0.2,
        "best_score": 119.5,
        "cluster": 10,
        "families": {"Papillomaviridae": 102},
        "names": ["L1", "L1 protein", "major capsid protein"],
    }
    purged = first["orfs"][1]["hits"][0]
    assert (purged["hit"], purged["full_e"], purged["cluster"], purged["families"], purged["names"]) == (
        "purged00",
        4e-6,
        None,
        {},
        [],
    )
    assert first["orfs"][2]["hits"] == []
    assert first["blast"] is None

    # Contig 1: one ORF with two hits: E is the smaller full_e.
    assert [second[key] for key in ("id", "annotatedOrfCount", "e")] == [1, 1, 5e-9]
    assert second["families"] == ["Baculoviridae", "Papillomaviridae"]
    # Contig 2: no ORF, no E.
    assert [third[key] for key in ("annotatedOrfCount", "e", "families", "names")] == [0, None, [], []]

    assert [f["name"] for f in body["files"]] == []  # nothing recorded yet


def test_families_leave_out_virtools_none_placeholder():
    contig = {
        "index": 4,
        "sequence": "ACGT",
        "orfs": [{"index": 0, "pos": [0, 3], "hits": [{"hit": "a", "full_e": 1}]}],
    }
    formatted = format_contig(
        contig, {"a": {"cluster": 5, "families": {"None": 3, "Secoviridae": 2}, "names": []}}, None
    )
    assert formatted["families"] == ["Secoviridae"]


def test_annotations_come_in_one_query_whatever_the_number_of_hits(client, owner, clusters, settings):
    # Counts of the view's queries: nothing kept per process (core/caching.py), so that every request reads its
    # session and user alike, whether or not a write came before it.
    settings.VIRTOOL_RESPONSE_CACHE_ENTRIES = 0
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = nuvs_analysis(owner, nuvs_results(clusters))
    big_results = nuvs_results(clusters)
    big_results["hits"] = [{**big_results["hits"][0], "index": i} for i in range(40)]
    big = nuvs_analysis(owner, big_results)
    counts = []
    client.get(f"/api/analyses/{small.pk}")  # the first request of a client also loads its session
    for analysis in (small, big):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/api/analyses/{analysis.pk}").status_code == 200
        counts.append(len(captured))
        assert sum("hmm_hmm" in query["sql"] for query in captured.captured_queries) == 1
    assert counts[0] == counts[1]


def test_purged_hmms_leave_hits_without_annotation(client, analysis):
    HMM.objects.all().delete()
    hits = client.get(f"/api/analyses/{analysis.pk}").json()["results"]["hits"]
    assert hits[0]["orfs"][0]["hits"][0]["cluster"] is None
    assert hits[0]["orfs"][0]["hits"][0]["full_e"] == 1e-30
    assert hits[0]["families"] == []
    assert hits[0]["e"] == 0


@pytest.mark.parametrize(("workflow", "ready", "results"), [
    ("nuvs", False, None),
    ("nuvs", True, None),
    ("pathoscope_bowtie", True, None),
    ("pathoscope_bowtie", False, None),
])  # fmt: skip
def test_analyses_without_results_answer_with_null_results(client, owner, workflow, ready, results):
    sample = Sample.objects.create(name="empty", user=owner, ready=True)
    analysis = Analysis.objects.create(workflow=workflow, sample=sample, user=owner, ready=ready, results=results)
    response = client.get(f"/api/analyses/{analysis.pk}")
    assert response.status_code == 200
    assert response.json()["results"] is None
    assert response.json()["files"] == []


def test_running_nuvs_analysis_hides_partial_results(client, owner, clusters):
    analysis = nuvs_analysis(owner, nuvs_results(clusters), ready=False)
    assert client.get(f"/api/analyses/{analysis.pk}").json()["results"] is None


def test_blast_document_is_attached_to_its_contig(client, analysis):
    blast = NuvsBlast.objects.create(analysis=analysis, sequence_index=1, rid="RID1", interval=10)
    hits = client.get(f"/api/analyses/{analysis.pk}").json()["results"]["hits"]
    assert hits[0]["blast"] is None
    assert hits[2]["blast"] is None
    assert hits[1]["blast"]["id"] == blast.pk
    assert {k: hits[1]["blast"][k] for k in ("rid", "ready", "result", "error", "interval", "sequence_index")} == {
        "rid": "RID1", "ready": False, "result": None, "error": None, "interval": 10, "sequence_index": 1
    }  # fmt: skip
    assert set(hits[1]["blast"]) >= {"last_checked_at", "created_at", "updated_at"}


def test_nuvs_analysis_does_not_export_as_csv(client, analysis):
    response = client.get(f"/api/analyses/documents/{analysis.pk}.csv")
    assert response.status_code == 400
    assert "PathoScope" in response.json()["message"]


# --- Files --------------------------------------------------------------------------------------------------


def test_files_are_recorded_once_listed_and_downloaded(client, analysis):
    recorded = analysis_files_record(analysis_id=analysis.pk)
    assert [(f.name, f.format) for f in recorded] == [
        ("assembly.fa.gz", "fasta"), ("orfs.fa.gz", "fasta"), ("hmm.tsv", "tsv")
    ]  # fmt: skip
    assert all(f.description and f.size and f.name_on_disk == f.name for f in recorded)
    again = analysis_files_record(analysis_id=analysis.pk)
    assert [f.pk for f in again] == [f.pk for f in recorded]
    assert AnalysisFile.objects.count() == 3

    files = client.get(f"/api/analyses/{analysis.pk}").json()["files"]
    assert [f["name"] for f in files] == ["assembly.fa.gz", "orfs.fa.gz", "hmm.tsv"]
    assert set(files[0]) == {"id", "analysis", "name", "name_on_disk", "format", "size", "uploaded_at", "description"}
    assert files[0]["analysis"] == analysis.pk

    response = client.get(f"/api/analyses/{analysis.pk}/files/{files[0]['id']}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert gzip.decompress(body).decode().startswith(">NODE_0\n" + rprsv_rna2(0, 60))
    assert "assembly.fa.gz" in response["Content-Disposition"]
    part = client.get(f"/api/analyses/{analysis.pk}/files/{files[2]['id']}", HTTP_RANGE="bytes=0-2")
    assert part.status_code == 206
    assert b"".join(part.streaming_content) == b"hit"


def test_only_present_files_are_recorded(owner, clusters):
    analysis = nuvs_analysis(owner, nuvs_results(clusters))
    from analyses.selectors import analysis_path

    (analysis_path(analysis) / "hmm.tsv").unlink()
    assert [f.name for f in analysis_files_record(analysis_id=analysis.pk)] == ["assembly.fa.gz", "orfs.fa.gz"]
    assert analysis_files_record(analysis_id="missing0") == []


@pytest.mark.parametrize("file_id", ["999", "abc", "99999999999999999999999"])
def test_unknown_file_is_404(client, analysis, file_id):
    analysis_files_record(analysis_id=analysis.pk)
    response = client.get(f"/api/analyses/{analysis.pk}/files/{file_id}")
    assert response.status_code == 404
    assert response.json()["id"] == "not_found"


def test_file_gone_from_disk_is_404(client, analysis):
    file = analysis_files_record(analysis_id=analysis.pk)[0]
    from analyses.selectors import analysis_path

    (analysis_path(analysis) / file.name_on_disk).unlink()
    assert client.get(f"/api/analyses/{analysis.pk}/files/{file.pk}").status_code == 404


def test_files_of_an_unreadable_analysis_are_refused(make_user, analysis):
    Sample.objects.filter(pk=analysis.sample_id).update(all_read=False, all_write=False)
    stranger = client_for(make_user("stranger"))
    file = analysis_files_record(analysis_id=analysis.pk)[0]
    assert stranger.get(f"/api/analyses/{analysis.pk}/files/{file.pk}").status_code == 403
    assert stranger.get(f"/api/analyses/{analysis.pk}/sequences.fa").status_code == 403


# --- FASTA downloads ----------------------------------------------------------------------------------------


def test_all_contigs_download_as_fasta(client, analysis):
    response = client.get(f"/api/analyses/{analysis.pk}/sequences.fa")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="Raspberry_leaf_7_{analysis.pk}_contigs.fa"'
    text = response.content.decode()
    headers = [line for line in text.splitlines() if line.startswith(">")]
    stem = f"Raspberry_leaf_7_{analysis.pk}"
    assert headers == [f">{stem}_contig_0 length=1200", f">{stem}_contig_1 length=900", f">{stem}_contig_2 length=400"]
    first = text.split(">")[1].splitlines()
    assert all(len(line) <= 80 for line in first[1:])
    assert "".join(first[1:]) == rprsv_rna2(0, 1200)


def test_one_contig_downloads_as_fasta(client, analysis):
    response = client.get(f"/api/analyses/{analysis.pk}/sequences/1.fa")
    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    assert lines[0] == f">Raspberry_leaf_7_{analysis.pk}_contig_1 length=900"
    assert "".join(lines[1:]) == rprsv_rna2(1500, 900)
    assert client.get(f"/api/analyses/{analysis.pk}/sequences/7.fa").status_code == 404


def test_orf_translations_download_as_fasta(client, analysis):
    response = client.get(f"/api/analyses/{analysis.pk}/orfs.fa")
    assert response.status_code == 200
    text = response.content.decode()
    headers = [line for line in text.splitlines() if line.startswith(">")]
    stem = f"Raspberry_leaf_7_{analysis.pk}"
    assert headers == [
        f">{stem}_contig_0_orf_0 strand=+ frame=1 pos=10-910 length=301 hmm=vFam_10 e=1e-30 name=L1",
        f">{stem}_contig_0_orf_1 strand=- frame=2 pos=1150-400 length=250",
        f">{stem}_contig_0_orf_2 strand=+ frame=3 pos=500-800 length=100",
        f">{stem}_contig_1_orf_0 strand=+ frame=1 pos=0-600 length=199 hmm=vFam_10 e=5e-09 name=L1",
    ]


@pytest.mark.parametrize("path", ["sequences.fa", "sequences/0.fa", "orfs.fa"])
def test_downloads_refuse_pathoscope_and_unfinished_analyses(client, owner, clusters, path):
    sample = Sample.objects.create(name="p", user=owner, ready=True)
    pathoscope = Analysis.objects.create(sample=sample, user=owner, ready=True, results={"hits": []})
    response = client.get(f"/api/analyses/{pathoscope.pk}/{path}")
    assert response.status_code == 400
    assert response.json()["message"] == "Not a NuVs analysis"
    running = nuvs_analysis(owner, None, ready=False)
    response = client.get(f"/api/analyses/{running.pk}/{path}")
    assert response.status_code == 409
    assert client.get(f"/api/analyses/missing0/{path}").status_code == 404
