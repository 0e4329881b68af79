"""The matrix on synthetic stored results: no query per sample (however many rows), the numbers kept once, the
internal control turning a sample's negatives indeterminate, and the long-form CSV."""

from __future__ import annotations

import csv
import io

import pytest

from analyses.matrix import ZERO, ZERO_CONTROL_FAILED
from analyses.models import Analysis
from tests.analyses.matrix_data import synthetic_matrix
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def scientist(make_user):
    return make_user("sci")


def test_matrix_queries_do_not_grow_with_its_rows(scientist, django_assert_max_num_queries, settings):
    # Counts of the view's queries: nothing kept per process (core/caching.py), so that every request reads its
    # session and user alike, whether or not a write came before it.
    settings.VIRTOOL_RESPONSE_CACHE_ENTRIES = 0
    client = client_for(scientist)
    _, few = synthetic_matrix(samples=3, otus=40, user=scientist, name="Few", seed=1)
    _, many = synthetic_matrix(samples=40, otus=40, user=scientist, name="Many", seed=2)
    # The first matrix computes and keeps each analysis's numbers: a bounded number of queries too.
    with django_assert_max_num_queries(15):
        first = client.get("/api/analyses/matrix?ids=" + ",".join(a.pk for a in many))
    assert first.status_code == 200
    assert Analysis.objects.filter(otu_numbers__isnull=True).count() == len(few)
    client.get("/api/analyses/matrix?ids=" + ",".join(a.pk for a in few))
    counts = []
    for analyses in (few, many):
        with django_assert_max_num_queries(12) as captured:
            response = client.get("/api/analyses/matrix?all=true&ids=" + ",".join(a.pk for a in analyses))
        assert response.status_code == 200
        counts.append(len(captured))
        matrix = response.json()
        assert len(matrix["samples"]) == len(analyses)
        assert len(matrix["otus"]) == 40
        assert all(len(row["cells"]) == 40 for row in matrix["samples"])
    assert counts[0] == counts[1]
    assert first.json()["otus"] == client.get("/api/analyses/matrix?ids=" + ",".join(a.pk for a in many)).json()["otus"]


def test_matrix_cells_calls_and_control(scientist):
    client = client_for(scientist)
    reference, analyses = synthetic_matrix(samples=4, otus=30, user=scientist, present=3, noise=5)
    ids = ",".join(a.pk for a in analyses)
    matrix = client.get(f"/api/analyses/matrix?ids={ids}").json()
    assert matrix["internal_control"] is None
    calls = {cell["call"] for row in matrix["samples"] for cell in row["cells"]}
    assert calls <= {"detected", "not detected", "indeterminate"}
    assert "detected" in calls
    for row in matrix["samples"]:
        found = [cell for cell in row["cells"] if cell["reads"]]
        assert len(found) == 8
        assert sum(cell["call"] == "detected" for cell in found) == 3  # the noise has tiny weights
        zeros = [cell for cell in row["cells"] if not cell["reads"]]
        assert all(cell == ZERO for cell in zeros)
        assert all("reasons" in cell for cell in found)
    # A control OTU none of the samples has: every negative of every sample becomes indeterminate.
    found_ids = {o["id"] for o in matrix["otus"]}
    absent = reference.otus.exclude(pk__in=found_ids).values_list("pk", flat=True).first()
    reference.internal_control = absent
    reference.save()
    failed = client.get(f"/api/analyses/matrix?ids={ids}").json()
    assert failed["internal_control"]["id"] == absent
    for row in failed["samples"]:
        assert row["internal_control"] == {"detected": False}
        assert "not detected" not in {cell["call"] for cell in row["cells"]}
        assert all(cell == ZERO_CONTROL_FAILED for cell in row["cells"] if not cell["reads"])
    noise = next(cell for row in failed["samples"] for cell in row["cells"] if 0 < cell["reads"] < 20)
    assert noise["call"] == "indeterminate"
    assert noise["reasons"][0] == "internal control not detected"
    # A control every... first sample's detected OTU: detected there, so that sample's negatives stay negative.
    first = matrix["samples"][0]
    detected_id = next(o["id"] for o, c in zip(matrix["otus"], first["cells"], strict=True) if c["call"] == "detected")
    reference.internal_control = detected_id
    reference.save()
    passed = client.get(f"/api/analyses/matrix?ids={ids}").json()
    row = next(r for r in passed["samples"] if r["analysis_id"] == first["analysis_id"])
    assert row["internal_control"] == {"detected": True}
    assert "not detected" in {cell["call"] for cell in row["cells"]}
    # The CSV: every cell, zeros named as such.
    rows = list(csv.reader(io.StringIO(client.get(f"/api/analyses/matrix.csv?ids={ids}").content.decode())))
    assert len(rows) == 1 + len(passed["samples"]) * len(passed["otus"])
    assert {row[12] for row in rows[1:] if row[8] == "0"} <= {"no reads", "internal control not detected; no reads"}


def test_finishing_again_recomputes_the_numbers(scientist):
    from analyses.matrix import otu_numbers_store

    _, analyses = synthetic_matrix(samples=1, otus=10, user=scientist, present=1, noise=1)
    analysis = Analysis.objects.get(pk=analyses[0].pk)
    otu_numbers_store(analyses=[analysis])
    assert len(Analysis.objects.get(pk=analysis.pk).otu_numbers["otus"]) == 2
    from analyses.services import analysis_finish

    analysis_finish(analysis_id=analysis.pk, results={"read_count": 1, "subtracted_count": 0, "hits": []})
    assert Analysis.objects.get(pk=analysis.pk).otu_numbers == {"version": 1, "otus": []}
