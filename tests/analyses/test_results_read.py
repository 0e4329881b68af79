"""Reading PathoScope results: the hit OTUs come as built into the index (stored once) and the coverage lines as
drawn once, never replayed or drawn per read, and read exactly as the old path read them, also after later edits,
reverts and removals."""

from __future__ import annotations

import pytest

from analyses import formatting
from analyses.models import Analysis
from analyses.services import analysis_finish
from indexes.models import Index, IndexOTU
from otus import selectors as otu_selectors
from otus.models import OTU, Sequence
from samples.models import Sample
from tests.analyses.replay import replaying
from tests.conftest import client_for, run_waiting_jobs
from tests.references.conftest import DEMO, import_reference

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def curator(make_user, jobs_here):
    return make_user("cura", permissions=["create_ref", "create_sample"])


def build(client, reference: dict) -> Index:
    assert client.post(f"/api/refs/{reference['id']}/indexes").status_code == 201
    assert run_waiting_jobs() == ["complete"]
    return Index.objects.filter(reference_id=reference["id"]).order_by("-version").first()


def hit(sequence: Sequence, version: int, pi: float) -> dict:
    """One stored hit, in the shape the workflow stores (a few reads at the start of the sequence)."""
    length = len(sequence.sequence)
    align = [3] * min(50, length) + [0] * max(length - 50, 0)
    numbers = {"pi": pi, "best": pi, "high": pi, "low": 0.0, "reads": 3}
    return {
        "id": sequence.pk,
        "otu": {"id": sequence.otu_id, "version": version},
        "final": numbers,
        "initial": numbers,
        "align": align,
        "coverage": round(min(50, length) / length, 3),
        "depth": round(sum(align) / length),
    }


def analysed(user, index: Index, otu_ids: list[str]) -> tuple[Analysis, dict]:
    """An analysis of `index` hitting every sequence of these OTUs, and its results (not stored yet)."""
    sample = Sample.objects.create(name="leaf", user=user, ready=True, all_read=True)
    analysis = Analysis.objects.create(
        sample=sample, reference_id=index.reference_id, index=index, index_version=index.version, user=user
    )
    sequences = Sequence.objects.filter(otu_id__in=otu_ids).order_by("otu_id", "position")
    hits = [hit(s, index.manifest[s.otu_id], 0.9 / (position + 1)) for position, s in enumerate(sequences)]
    return analysis, {"read_count": 100, "subtracted_count": 0, "hits": hits}


def read(client, analysis: Analysis) -> dict:
    response = client.get(f"/api/analyses/{analysis.pk}")
    assert response.status_code == 200
    return response.json()["results"]


def replayed(client, analysis: Analysis) -> dict:
    with replaying():
        return read(client, analysis)


def test_finished_analysis_reads_its_otus_as_built_after_edits_reverts_and_removals(curator, mocker):
    client = client_for(curator)
    reference = import_reference(client, curator, DEMO, name="Demo")
    first, second, third = OTU.objects.filter(reference_id=reference["id"]).order_by("name")[:3]
    client.patch(f"/api/otus/{first.pk}", {"name": "Renamed before the build"}, format="json")
    index = build(client, reference)
    assert index.manifest[first.pk] == 1
    analysis, results = analysed(curator, index, [first.pk, second.pk, third.pk])
    analysis_finish(analysis_id=analysis.pk, results=results)
    assert set(IndexOTU.objects.filter(index=index).values_list("otu_id", "version")) == {
        (first.pk, 1),
        (second.pk, 0),
        (third.pk, 0),
    }
    analysis.refresh_from_db()
    assert set(analysis.coverage_lines) == {h["id"] for h in results["hits"]}  # drawn once, when it finished
    replay = mocker.spy(otu_selectors, "otu_joined")
    drawing = mocker.spy(formatting, "coverage_line")
    before = read(client, analysis)
    assert replay.call_count == 0  # no history replayed to read
    assert drawing.call_count == 0  # and no coverage line drawn
    assert before == replayed(client, analysis)
    assert replay.call_count == 3  # the old path replays each OTU

    # After the build: an edit, reverted; another edit; the second OTU removed.
    client.patch(f"/api/otus/{first.pk}", {"name": "Renamed after the build"}, format="json")
    assert client.delete(f"/api/history/{first.pk}.2").status_code == 204
    client.patch(f"/api/otus/{first.pk}", {"name": "Renamed again"}, format="json")
    assert client.delete(f"/api/otus/{second.pk}").status_code == 204
    replay.reset_mock()
    after = read(client, analysis)
    assert replay.call_count == 0
    assert after == before == replayed(client, analysis)
    names = {otu["id"]: otu["name"] for otu in after["hits"]}
    assert names[first.pk] == "Renamed before the build"
    assert names[second.pk] == second.name


def test_analysis_finished_before_indexes_kept_otus_reads_the_same_and_keeps_them(curator, mocker):
    client = client_for(curator)
    reference = import_reference(client, curator, DEMO, name="Demo")
    otus = list(OTU.objects.filter(reference_id=reference["id"]).order_by("name")[:2])
    index = build(client, reference)
    analysis, results = analysed(curator, index, [otu.pk for otu in otus])
    # Stored as analyses were stored before: results only.
    Analysis.objects.filter(pk=analysis.pk).update(results=results, ready=True)
    client.patch(f"/api/otus/{otus[0].pk}", {"name": "Renamed after the build"}, format="json")
    old = replayed(client, analysis)
    assert not IndexOTU.objects.exists()
    assert read(client, analysis) == old
    assert IndexOTU.objects.filter(index=index).count() == 2
    analysis.refresh_from_db()
    assert set(analysis.coverage_lines) == {h["id"] for h in results["hits"]}
    replay = mocker.spy(otu_selectors, "otu_joined")
    drawing = mocker.spy(formatting, "coverage_line")
    assert read(client, analysis) == old
    assert replay.call_count == 0
    assert drawing.call_count == 0
    assert {otu["name"] for otu in old["hits"]} == {otus[0].name, otus[1].name}


def test_analysis_of_a_deleted_reference_reads_as_before(curator):
    """The reference takes its index (and the OTUs kept with it) and its history along: as before, the hits are
    shown under their OTU ids, with their sequences by id."""
    client = client_for(curator)
    reference = import_reference(client, curator, DEMO, name="Demo")
    otu = OTU.objects.filter(reference_id=reference["id"]).order_by("name").first()
    index = build(client, reference)
    analysis, results = analysed(curator, index, [otu.pk])
    analysis_finish(analysis_id=analysis.pk, results=results)
    assert client.delete(f"/api/refs/{reference['id']}").status_code == 204
    assert not IndexOTU.objects.exists()
    analysis.refresh_from_db()
    assert analysis.index is None
    gone = read(client, analysis)
    assert gone == replayed(client, analysis)
    assert gone["hits"][0]["name"] == otu.pk
    sequence_ids = {s["id"] for i in gone["hits"][0]["isolates"] for s in i["sequences"]}
    assert sequence_ids == {h["id"] for h in results["hits"]}
