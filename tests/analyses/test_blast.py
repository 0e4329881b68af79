"""NCBI BLAST of NuVs contigs: the API, each step of a search against a recorded NCBI on 127.0.0.1, and the whole
search through a real Celery worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analyses.models import Analysis, NuvsBlast
from analyses.nuvs.blast import nuvs_blast_check
from samples.models import Sample
from tests.analyses.ncbi_server import FakeNCBI, ncbi  # noqa: F401  (fixture)
from tests.analyses.nuvs_data import nuvs_analysis, nuvs_results, rprsv_rna2
from tests.conftest import client_for, free_port, wait_for

pytestmark = pytest.mark.django_db

CLUSTERS = {10: "hmm00010", 100: "hmm00100", 1000: "hmm01000"}

RPRSV_HIT = {
    "accession": "AY310445",
    "taxid": 12253,
    "title": "Raspberry ringspot virus grapevine strain RNA 2, complete sequence",
    "name": "Raspberry ringspot virus",
    "identity": 1200,
    "evalue": 0,
    "align_len": 1200,
    "score": 1200,
    "bit_score": 2217.1,
    "gaps": 0,
    "len": 3912,
}


@pytest.fixture
def data_path(settings, tmp_path):
    settings.DATA_PATH = tmp_path / "data"
    settings.DATA_PATH.mkdir()
    return settings.DATA_PATH


@pytest.fixture
def owner(make_user):
    return make_user("blaster")


@pytest.fixture
def client(owner):
    return client_for(owner)


@pytest.fixture
def fast_ncbi(settings, ncbi):  # noqa: F811
    """NCBI is the recorded one, and the waits are short."""
    settings.VIRTOOL_BLAST_URL = ncbi.url
    settings.VIRTOOL_BLAST_INTERVAL = 0.05
    settings.VIRTOOL_BLAST_MAX_INTERVAL = 0.2
    settings.VIRTOOL_BLAST_RETRIES = 2
    return ncbi


@pytest.fixture
def queued(mocker):
    """The BLAST task is not sent to Celery: the test takes the steps itself."""
    return mocker.patch("analyses.nuvs.blast.nuvs_blast_task.delay")


def blast_of(owner, index: int = 0) -> NuvsBlast:
    from analyses.nuvs.blast import nuvs_blast_create

    analysis = nuvs_analysis(owner, nuvs_results(CLUSTERS))
    return nuvs_blast_create(analysis=analysis, sequence_index=index)


def run(blast: NuvsBlast, limit: int = 20) -> list[float]:
    """Take every step of the search in this process; the waits the task would have made."""
    delays, checks, failures = [], 0, 0
    for _ in range(limit):
        step = nuvs_blast_check(blast_id=blast.pk, checks=checks, failures=failures)
        if step is None:
            return delays
        delays.append(step.delay)
        checks, failures = step.checks, step.failures
    raise AssertionError("the search did not end")


# --- API ------------------------------------------------------------------------------------------------------


def test_put_blast_answers_201_with_the_search_and_queues_its_task(
    client, owner, data_path, queued, django_capture_on_commit_callbacks
):
    analysis = nuvs_analysis(owner, nuvs_results(CLUSTERS))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(f"/api/analyses/{analysis.pk}/1/blast")
    assert response.status_code == 201
    assert response["Location"] == f"/api/analyses/{analysis.pk}/1/blast"
    body = response.json()
    blast = NuvsBlast.objects.get()
    assert body["id"] == blast.pk
    assert {k: body[k] for k in ("sequence_index", "rid", "ready", "result", "error", "interval")} == {
        "sequence_index": 1, "rid": None, "ready": False, "result": None, "error": None, "interval": 5
    }  # fmt: skip
    assert all(body[key] for key in ("last_checked_at", "created_at", "updated_at"))
    queued.assert_called_once_with(blast.pk, 0, 0)
    contig = client.get(f"/api/analyses/{analysis.pk}").json()["results"]["hits"][1]
    assert contig["blast"]["id"] == blast.pk


def test_a_new_put_replaces_the_contigs_search(client, owner, data_path, queued):
    analysis = nuvs_analysis(owner, nuvs_results(CLUSTERS))
    first = client.put(f"/api/analyses/{analysis.pk}/0/blast").json()
    NuvsBlast.objects.filter(pk=first["id"]).update(error="NCBI reports that the BLAST search X failed.")
    second = client.put(f"/api/analyses/{analysis.pk}/0/blast").json()
    assert second["id"] != first["id"]
    assert list(NuvsBlast.objects.values_list("pk", flat=True)) == [second["id"]]
    assert client.put(f"/api/analyses/{analysis.pk}/2/blast").status_code == 201
    assert NuvsBlast.objects.count() == 2


def test_delete_blast_removes_the_search(client, owner, data_path, queued):
    analysis = nuvs_analysis(owner, nuvs_results(CLUSTERS))
    client.put(f"/api/analyses/{analysis.pk}/0/blast")
    assert client.delete(f"/api/analyses/{analysis.pk}/0/blast").status_code == 204
    assert not NuvsBlast.objects.exists()
    assert client.delete(f"/api/analyses/{analysis.pk}/0/blast").status_code == 204
    assert client.get(f"/api/analyses/{analysis.pk}").json()["results"]["hits"][0]["blast"] is None


@pytest.mark.parametrize(("index", "message"), [("3", "Sequence 3 does not exist in this analysis"),
                                                 ("99999999999999999999", None)])  # fmt: skip
def test_put_blast_refuses_a_contig_that_does_not_exist(client, owner, data_path, queued, index, message):
    analysis = nuvs_analysis(owner, nuvs_results(CLUSTERS))
    response = client.put(f"/api/analyses/{analysis.pk}/{index}/blast")
    assert response.status_code == 400
    if message:
        assert response.json()["message"] == message
    assert client.delete(f"/api/analyses/{analysis.pk}/{index}/blast").status_code == 204
    assert not NuvsBlast.objects.exists()


def test_put_blast_refuses_pathoscope_unfinished_and_unknown_analyses(client, owner, data_path, queued):
    sample = Sample.objects.create(name="p", user=owner, ready=True)
    pathoscope = Analysis.objects.create(sample=sample, user=owner, ready=True, results={"hits": []})
    response = client.put(f"/api/analyses/{pathoscope.pk}/0/blast")
    assert (response.status_code, response.json()["message"]) == (400, "Not a NuVs analysis")
    assert client.delete(f"/api/analyses/{pathoscope.pk}/0/blast").status_code == 400
    running = nuvs_analysis(owner, None, ready=False)
    response = client.put(f"/api/analyses/{running.pk}/0/blast")
    assert (response.status_code, response.json()["id"]) == (409, "conflict")
    assert client.put("/api/analyses/missing0/0/blast").status_code == 404
    assert not NuvsBlast.objects.exists()
    queued.assert_not_called()


def test_put_blast_needs_write_right_on_the_sample(make_user, owner, data_path, queued):
    analysis = nuvs_analysis(owner, nuvs_results(CLUSTERS))
    Sample.objects.filter(pk=analysis.sample_id).update(all_read=True, all_write=False)
    reader = client_for(make_user("reader"))
    assert reader.get(f"/api/analyses/{analysis.pk}").status_code == 200
    assert reader.put(f"/api/analyses/{analysis.pk}/0/blast").status_code == 403
    assert reader.delete(f"/api/analyses/{analysis.pk}/0/blast").status_code == 403


# --- The steps of a search, against the recorded NCBI ---------------------------------------------------------


def test_search_goes_put_waiting_ready_and_stores_virtools_result(owner, data_path, queued, fast_ncbi):
    blast = blast_of(owner)
    delays = run(blast)
    assert fast_ncbi.kinds() == ["Put", "SearchInfo", "SearchInfo", "Result"]
    put = fast_ncbi.requests[0][1]
    sent = ("CMD", "DATABASE", "PROGRAM", "MEGABLAST", "HITLIST_SIZE", "EXPECT", "FORMAT_TYPE")
    assert {k: put[k] for k in sent} == {
        "CMD": "Put", "DATABASE": "nr", "PROGRAM": "blastn", "MEGABLAST": "on", "HITLIST_SIZE": "5",
        "EXPECT": "1000", "FORMAT_TYPE": "JSON2",
    }  # fmt: skip
    assert put["QUERY"] == rprsv_rna2(0, 1200)
    assert fast_ncbi.requests[1][1] == {"CMD": "Get", "FORMAT_OBJECT": "SearchInfo", "RID": "4VT8M1X0016"}
    assert fast_ncbi.requests[3][1] == {"CMD": "Get", "FORMAT_TYPE": "JSON2_S", "RID": "4VT8M1X0016"}
    # RTOE (19 s) is waited for but capped; the interval grows while NCBI is still searching.
    assert delays == [0.2, 0.1]

    blast.refresh_from_db()
    assert (blast.rid, blast.ready, blast.error) == ("4VT8M1X0016", True, None)
    result = blast.result
    assert result["rid"] == "4VT8M1X0016"
    assert (result["program"], result["version"], result["target"]) == ("blastn", "BLASTN 2.16.1+", {"db": "core_nt"})
    assert result["params"]["expect"] == 1000
    assert result["masking"] == [{"from": 341, "to": 366}]
    assert result["stat"]["db_num"] == 124953116
    assert result["hits"][0] == RPRSV_HIT
    assert {k: result["hits"][1][k] for k in ("accession", "identity", "align_len", "evalue", "score", "len")} == {
        "accession": "NC_005267", "identity": 502, "align_len": 570, "evalue": 4.2e-61, "score": 366, "len": 3914
    }  # fmt: skip
    assert blast.last_checked_at > blast.created_at


def test_ncbi_failed_search_ends_in_a_clear_error(owner, data_path, queued, fast_ncbi):
    fast_ncbi.script("SearchInfo", (200, "searchinfo_waiting.html"), (200, "searchinfo_failed.html"))
    blast = blast_of(owner)
    run(blast)
    blast.refresh_from_db()
    assert not blast.ready
    assert blast.error == "NCBI reports that the BLAST search 4VT8M1X0016 failed. Try again later."
    assert "Result" not in fast_ncbi.kinds()


def test_transient_503_and_dropped_connections_are_retried(owner, data_path, queued, fast_ncbi):
    fast_ncbi.script("Put", (503, "service_unavailable.html"), (200, "put.html"))
    fast_ncbi.script("SearchInfo", "drop", (503, "service_unavailable.html"), (200, "searchinfo_ready.html"))
    blast = blast_of(owner)
    delays = run(blast)
    assert fast_ncbi.kinds() == ["Put", "Put", "SearchInfo", "SearchInfo", "SearchInfo", "Result"]
    # Backoff doubles from the first interval, and starts again after a success.
    assert delays == [0.05, 0.2, 0.05, 0.1]
    blast.refresh_from_db()
    assert blast.ready
    assert blast.result["hits"][0] == RPRSV_HIT


def test_unreachable_ncbi_ends_in_a_clear_error(owner, data_path, queued, fast_ncbi, settings):
    settings.VIRTOOL_BLAST_URL = f"http://127.0.0.1:{free_port()}/Blast.cgi"  # nothing listens there
    blast = blast_of(owner)
    delays = run(blast)
    assert delays == [0.05, 0.1]  # VIRTOOL_BLAST_RETRIES = 2
    blast.refresh_from_db()
    assert blast.error == "NCBI BLAST could not be reached: connection refused. Try again later."
    assert blast.rid is None


def test_ncbi_persistent_503_ends_in_a_clear_error(owner, data_path, queued, fast_ncbi):
    fast_ncbi.script("Put", (503, "service_unavailable.html"))
    blast = blast_of(owner)
    run(blast)
    blast.refresh_from_db()
    assert (
        blast.error == "NCBI BLAST could not be reached: NCBI answered HTTP 503 Service Unavailable. Try again later."
    )
    assert fast_ncbi.kinds() == ["Put"] * 3


def test_unknown_status_is_waited_out_early_and_an_error_later(owner, data_path, queued, fast_ncbi):
    fast_ncbi.script("SearchInfo", (200, "searchinfo_unknown.html"), (200, "searchinfo_ready.html"))
    blast = blast_of(owner)
    run(blast)
    blast.refresh_from_db()
    assert blast.ready

    fast_ncbi.script("SearchInfo", (200, "searchinfo_unknown.html"))
    blast = blast_of(owner, index=1)
    run(blast)
    blast.refresh_from_db()
    assert blast.error == "NCBI no longer knows the BLAST search 4VT8M1X0016 (it may have expired). Try again."


def test_a_search_that_never_finishes_times_out(owner, data_path, queued, fast_ncbi, settings):
    fast_ncbi.script("SearchInfo", (200, "searchinfo_waiting.html"))
    blast = blast_of(owner)
    step = nuvs_blast_check(blast_id=blast.pk, checks=0, failures=0)
    NuvsBlast.objects.filter(pk=blast.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert nuvs_blast_check(blast_id=blast.pk, checks=step.checks, failures=0) is None
    blast.refresh_from_db()
    assert blast.error == "NCBI BLAST did not finish within 60 minutes (request 4VT8M1X0016). Try again later."


def test_a_step_is_taken_once_and_a_replaced_search_stops(owner, data_path, queued, fast_ncbi):
    blast = blast_of(owner)
    assert nuvs_blast_check(blast_id=blast.pk, checks=0, failures=0) is not None
    assert nuvs_blast_check(blast_id=blast.pk, checks=0, failures=0) is None  # the same message again
    assert fast_ncbi.kinds() == ["Put"]
    replacement = blast_of(owner)  # another analysis: the first search is untouched
    NuvsBlast.objects.filter(pk=blast.pk).delete()
    assert nuvs_blast_check(blast_id=blast.pk, checks=1, failures=0) is None
    assert fast_ncbi.kinds() == ["Put"]
    assert NuvsBlast.objects.filter(pk=replacement.pk).exists()


def test_an_unreadable_answer_ends_in_an_error(owner, data_path, queued, fast_ncbi):
    fast_ncbi.script("Put", (200, "searchinfo_waiting.html"))  # no RID in it
    blast = blast_of(owner)
    run(blast)
    blast.refresh_from_db()
    assert (
        blast.error
        == "NCBI BLAST gave an answer that cannot be read: NCBI accepted no search (its answer holds no request id)."
    )


# --- Through a real Celery worker ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_search_through_a_real_worker_is_followed_live(
    owner,
    data_path,
    ncbi,  # noqa: F811
    start_worker,
    channel_reader,
):
    from core.events import user_group

    ncbi.script("Put", (503, "service_unavailable.html"), (200, "put.html"))
    start_worker(
        queues="default",
        concurrency=1,
        VIRTOOL_BLAST_URL=ncbi.url,
        VIRTOOL_BLAST_INTERVAL="0.2",
        VIRTOOL_BLAST_MAX_INTERVAL="0.5",
    )
    reader = channel_reader().join(user_group(owner.pk))
    analysis = nuvs_analysis(owner, nuvs_results(CLUSTERS))
    response = client_for(owner).put(f"/api/analyses/{analysis.pk}/0/blast")
    assert response.status_code == 201
    blast = wait_for(lambda: NuvsBlast.objects.filter(pk=response.json()["id"], ready=True).first(), timeout=60)
    assert blast.error is None
    assert blast.result["hits"][0] == RPRSV_HIT
    assert ncbi.kinds() == ["Put", "Put", "SearchInfo", "SearchInfo", "Result"]
    updates = [
        m for m in reader.messages(timeout=1.0) if m["interface"] == "analyses" and m["data"]["id"] == analysis.pk
    ]
    # Created, submitted (after a retry), waiting, ready: each change reached the owner's page.
    assert len(updates) >= 5
    contig = client_for(owner).get(f"/api/analyses/{analysis.pk}").json()["results"]["hits"][0]
    assert contig["blast"]["ready"] is True
    assert contig["blast"]["result"]["hits"][0]["accession"] == "AY310445"


@pytest.mark.django_db(transaction=True)
def test_unreachable_ncbi_through_a_real_worker(owner, data_path, start_worker):
    start_worker(
        queues="default",
        concurrency=1,
        VIRTOOL_BLAST_URL=f"http://127.0.0.1:{free_port()}/Blast.cgi",
        VIRTOOL_BLAST_INTERVAL="0.1",
        VIRTOOL_BLAST_MAX_INTERVAL="0.2",
        VIRTOOL_BLAST_RETRIES="1",
    )
    analysis = nuvs_analysis(owner, nuvs_results(CLUSTERS))
    blast_id = client_for(owner).put(f"/api/analyses/{analysis.pk}/0/blast").json()["id"]
    blast = wait_for(lambda: NuvsBlast.objects.filter(pk=blast_id, error__isnull=False).first(), timeout=60)
    assert blast.error == "NCBI BLAST could not be reached: connection refused. Try again later."
    assert not blast.ready


def test_blast_checks_go_to_the_default_queue_not_a_job_slot():
    from analyses.tasks import nuvs_blast_task
    from virtool_site.celery import app

    route = app.amqp.router.route({}, nuvs_blast_task.name, args=(1, 0, 0), kwargs={})
    assert route["queue"].name == "default"


def test_a_search_without_hits_is_ready_with_none(owner, data_path, queued, fast_ncbi):
    fast_ncbi.script("SearchInfo", (200, "searchinfo_ready_no_hits.html"))
    fast_ncbi.script("Result", (200, "result_no_hits.json"))
    blast = blast_of(owner)
    run(blast)
    blast.refresh_from_db()
    assert (blast.ready, blast.error) == (True, None)
    assert blast.result["hits"] == []
    assert blast.result["masking"] is None
