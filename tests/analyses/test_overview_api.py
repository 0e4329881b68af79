"""The analyses overview through the API, on real PathoScope analyses: the rprsv sample's headline names Raspberry
ringspot virus, small_50bp's detects nothing, a failed analysis carries its job's words, a running one has no
duration; filters, sorts, refusals; the headline follows the reference's call rules (kept for the samples list,
which shows each sample's latest calls); the results are never read for a page, and the queries are bounded."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analyses.base import AnalysisError
from analyses.models import Analysis
from samples.models import Sample
from tests.analyses.test_workflow import RPRSV, prepare
from tests.conftest import SHARED, client_for, run_waiting_jobs
from tests.samples.test_api import make_upload

SAMPLES = SHARED / "data" / "samples"

pytestmark = pytest.mark.django_db(transaction=True)

OVERVIEW = "/api/analyses/overview"
BROKEN = "bowtie2 ran out of memory mapping the reads"


@pytest.fixture
def scientist(make_user, jobs_here):
    return make_user("sci", permissions=["create_ref", "create_sample", "upload_file"])


def new_sample(client, user, reads: tuple[str, ...]) -> dict:
    uploads = [make_upload(user, SAMPLES / name) for name in reads]
    sample = client.post("/api/samples", {"name": reads[0], "files": [u.pk for u in uploads]}, format="json").json()
    assert run_waiting_jobs() == ["complete"]
    return sample


def start(client, sample: dict, reference: dict) -> dict:
    response = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def overview(client, query: str = "") -> dict:
    response = client.get(f"{OVERVIEW}?{query}")
    assert response.status_code == 200, response.json()
    return response.json()


def ids(client, query: str = "") -> list[str]:
    return [document["id"] for document in overview(client, query)["documents"]]


def result_reads(queries: CaptureQueriesContext) -> list[str]:
    """The queries that read the results or coverage lines of analyses."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if '"analyses_analysis"."results"' in q["sql"] or '"analyses_analysis"."coverage_lines"' in q["sql"]
    ]


def test_overview_headlines_states_filters_sorts_and_latest_calls(scientist, mocker, settings):
    # Counts of the view's queries: nothing kept per process (core/caching.py), so that every request reads its
    # session and user alike, whether or not a write came before it.
    settings.VIRTOOL_RESPONSE_CACHE_ENTRIES = 0
    client = client_for(scientist)
    reference, rprsv_sample = prepare(client, scientist)
    small_sample = new_sample(client, scientist, ("small_50bp_1.fq.gz", "small_50bp_2.fq.gz"))
    rprsv = start(client, rprsv_sample, reference)
    small = start(client, small_sample, reference)
    assert run_waiting_jobs() == ["complete", "complete"]

    patched = mocker.patch("analyses.workflows.index_reference", side_effect=AnalysisError(BROKEN))
    failed = start(client, small_sample, reference)
    assert run_waiting_jobs() == ["error"]
    mocker.stop(patched)
    running = start(client, rprsv_sample, reference)  # its job waits: never run here

    body = overview(client)
    assert set(body) == {"documents", "found_count", "total_count", "page", "page_count", "per_page"}
    documents = {document["id"]: document for document in body["documents"]}
    assert list(documents) == [running["id"], failed["id"], small["id"], rprsv["id"]]  # newest first

    found = documents[rprsv["id"]]
    assert found["state"] == "ready"
    assert found["sample"] == {"id": rprsv_sample["id"], "name": rprsv_sample["name"]}
    assert found["reference"]["id"] == reference["id"]
    assert found["index"]["version"] == 0
    assert found["subtractions"] == []
    assert found["user"]["handle"] == "sci"
    assert found["headline"]["detected"] == [RPRSV], found["headline"]
    assert found["headline"]["control"] is None
    assert found["duration"] is not None
    assert found["duration"] > 0

    nothing = documents[small["id"]]
    assert nothing["state"] == "ready"
    assert nothing["headline"] == {"detected": [], "indeterminate": [], "control": None}

    broken_one = documents[failed["id"]]
    assert broken_one["state"] == "failed"
    assert broken_one["headline"] is None
    assert BROKEN in broken_one["job"]["error"], broken_one["job"]
    assert broken_one["duration"] is not None

    waiting = documents[running["id"]]
    assert waiting["state"] == "running"
    assert waiting["duration"] is None
    assert waiting["headline"] is None

    # Filters (each alone, and together), every page counting all readable analyses in `total_count`.
    assert ids(client, "state=failed") == [failed["id"]]
    assert ids(client, "state=running") == [running["id"]]
    assert ids(client, "state=ready") == [small["id"], rprsv["id"]]
    assert ids(client, "state=ready&state=failed") == [failed["id"], small["id"], rprsv["id"]]
    assert ids(client, "workflow=nuvs") == []
    assert len(ids(client, "workflow=pathoscope_bowtie")) == 4
    assert ids(client, f"reference={reference['id']}&sample=SMALL") == [failed["id"], small["id"]]
    assert ids(client, "reference=nosuchref") == []
    assert len(ids(client, "user=sc")) == 4
    assert ids(client, "user=nobody") == []
    filtered = overview(client, "state=ready&sample=rprsv")
    assert [d["id"] for d in filtered["documents"]] == [rprsv["id"]]
    assert (filtered["found_count"], filtered["total_count"]) == (1, 4)

    # Sorts: by sample name (newest first within a sample), by duration (a running one has none: last).
    assert ids(client, "sort=sample") == [running["id"], rprsv["id"], failed["id"], small["id"]]
    assert ids(client, "sort=-sample") == [failed["id"], small["id"], running["id"], rprsv["id"]]
    assert ids(client, "sort=created_at") == [rprsv["id"], small["id"], failed["id"], running["id"]]
    durations = {a.pk: a.job.finished_at - a.job.created_at for a in Analysis.objects.exclude(pk=running["id"])}
    by_duration = sorted(durations, key=lambda pk: (durations[pk], pk))
    assert ids(client, "sort=duration")[:3] == by_duration
    assert ids(client, "sort=duration")[3] == running["id"]
    assert ids(client, "sort=-duration")[3] == running["id"]
    assert ids(client, "per_page=2&page=2") == [small["id"], rprsv["id"]]

    # Refusals in Virtool's query-string error shape.
    for bad in ("state=done", "sort=size", "page=0", "per_page=1000"):
        response = client.get(f"{OVERVIEW}?{bad}")
        assert response.status_code == 400, (bad, response.json())

    # The samples list shows each sample's latest calls (its newest ready PathoScope analysis).
    samples = {s["id"]: s for s in client.get("/api/samples").json()["documents"]}
    assert samples[rprsv_sample["id"]]["latest_calls"] == {
        "analysis_id": rprsv["id"],
        "detected": [RPRSV],
        "indeterminate": [],
    }
    assert samples[small_sample["id"]]["latest_calls"] == {
        "analysis_id": small["id"],
        "detected": [],
        "indeterminate": [],
    }
    assert client.get(f"/api/samples/{rprsv_sample['id']}").json()["latest_calls"]["detected"] == [RPRSV]

    # Stricter rules on the reference: the headline follows, kept for the samples list too.
    ref_path = f"/api/refs/{reference['id']}"
    assert client.patch(ref_path, {"call_rules": {"min_coverage": 0.999}}, format="json").status_code == 200
    headline = overview(client, "sample=rprsv&state=ready")["documents"][0]["headline"]
    assert headline["detected"] == [], headline
    assert headline["indeterminate"] == [RPRSV], headline
    calls = {s["id"]: s for s in client.get("/api/samples").json()["documents"]}[rprsv_sample["id"]]["latest_calls"]
    assert calls["indeterminate"] == [RPRSV]
    assert Analysis.objects.get(pk=rprsv["id"]).headline["indeterminate"] == [RPRSV]
    client.patch(ref_path, {"call_rules": None}, format="json")
    assert Analysis.objects.get(pk=rprsv["id"]).headline["detected"] == [RPRSV]

    # An analysis finished before summaries were kept gets its summary on its first listing, once.
    Analysis.objects.filter(pk=rprsv["id"]).update(summary=None, headline=None, headline_key="")
    assert overview(client, "sample=rprsv&state=ready")["documents"][0]["headline"]["detected"] == [RPRSV]
    assert Analysis.objects.get(pk=rprsv["id"]).summary is not None

    # A page reads no results, and its queries do not grow with its rows.
    with CaptureQueriesContext(connection) as one:
        overview(client, "per_page=1")
    with CaptureQueriesContext(connection) as four:
        overview(client, "per_page=4")
    assert result_reads(four) == []
    assert len(four) == len(one)


def test_overview_queries_are_bounded(scientist, make_user, django_assert_max_num_queries):
    client = client_for(scientist)
    reference, sample = prepare(client, scientist, reads=("small_50bp_1.fq.gz", "small_50bp_2.fq.gz"))
    for _ in range(3):
        start(client, sample, reference)
    assert run_waiting_jobs() == ["complete"] * 3
    overview(client)  # fine without it too: every summary was kept at finish
    with django_assert_max_num_queries(8):
        body = overview(client)
    assert [d["headline"]["detected"] for d in body["documents"]] == [[], [], []]
    # Without rights on the sample, a user sees none of its analyses.
    stranger = client_for(make_user("stranger"))
    Sample.objects.filter(pk=sample["id"]).update(all_read=False, group_read=False)
    assert overview(stranger)["documents"] == []
