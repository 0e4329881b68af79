"""Calls through the API on a real PathoScope analysis of the rprsv sample: RpRSV detected under the default rules,
the reference's call rules edited (validated, refused without the `modify` right) and applied when the analysis is
read, and the internal control checked."""

from __future__ import annotations

import pytest

from analyses.pathoscope.calls import CONTROL_FAILED
from otus.models import OTU
from references.call_rules import DEFAULT_CALL_RULES
from tests.analyses.test_workflow import RPRSV, RPRSV_RNA1, RPRSV_RNA2, prepare
from tests.conftest import client_for, run_waiting_jobs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scientist(make_user, jobs_here):
    return make_user("sci", permissions=["create_ref", "create_sample", "upload_file"])


def by_name(results: dict) -> dict[str, dict]:
    return {otu["name"]: otu for otu in results["hits"]}


def test_rprsv_is_detected_and_the_calls_follow_the_rules_and_the_control(scientist, make_user):
    client = client_for(scientist)
    reference, sample = prepare(client, scientist)
    ref_path = f"/api/refs/{reference['id']}"
    analysis = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json").json()
    assert run_waiting_jobs() == ["complete"]
    path = f"/api/analyses/{analysis['id']}"

    # Default rules: RpRSV detected, both segments (it has no schema: its best isolate's sequences) well covered.
    results = client.get(path).json()["results"]
    assert results["call_rules"] == DEFAULT_CALL_RULES
    assert results["internal_control"] is None
    assert results["sample_read_count"] == 20_000
    rprsv = by_name(results)[RPRSV]
    assert rprsv["call"]["result"] == "detected", rprsv["call"]
    reasons = rprsv["call"]["reasons"]
    assert any(reason.startswith(f"{RPRSV_RNA1} covered ") and reason.endswith("≥ 50 %") for reason in reasons)
    assert any(reason.startswith(f"{RPRSV_RNA2} covered ") for reason in reasons)
    assert all(otu["call"]["result"] in ("detected", "not detected", "indeterminate") for otu in results["hits"])
    before = {otu["name"]: otu["call"] for otu in results["hits"]}
    negatives = [name for name, call in before.items() if call["result"] == "not detected"]
    assert len(negatives) > 1, before  # noise hits besides Plum pox virus

    # The rules in force are on the reference, editable with the `modify` right; bad values are refused by name.
    assert client.get(ref_path).json()["call_rules"] == DEFAULT_CALL_RULES
    for bad in ({"min_coverage": 1.5}, {"min_reads": -1}, {"min_weight": "lots"}, {"min_reads": 2.5}):
        response = client.patch(ref_path, {"call_rules": bad}, format="json")
        assert response.status_code == 400, (bad, response.json())
        assert response.json()[0]["loc"] == ["call_rules", *bad], response.json()
    # JSON's 1e999 is infinity in Python.
    huge = client.generic("PATCH", ref_path, '{"call_rules": {"min_median_depth": 1e999}}', "application/json")
    assert huge.status_code == 400
    assert huge.json()[0]["loc"] == ["call_rules", "min_median_depth"]
    unknown = client.patch(ref_path, {"call_rules": {"max_reads": 3}}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()[0]["loc"] == ["call_rules", "max_reads"]
    assert client.patch(ref_path, {"call_rules": []}, format="json").status_code == 400
    stranger = client_for(make_user("stranger"))
    assert stranger.patch(ref_path, {"call_rules": {"min_reads": 1}}, format="json").status_code == 403

    # A stricter coverage rule applies to the stored result as soon as it is read again.
    response = client.patch(ref_path, {"call_rules": {"min_coverage": 0.999, "min_reads": 50}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["call_rules"] == {**DEFAULT_CALL_RULES, "min_coverage": 0.999, "min_reads": 50}
    results = client.get(path).json()["results"]
    assert results["call_rules"]["min_coverage"] == 0.999
    strict = by_name(results)[RPRSV]["call"]
    assert strict["result"] == "indeterminate", strict
    assert strict["reasons"]
    assert all(reason.endswith("< 99.9 %") for reason in strict["reasons"]), strict
    # A rule set to null goes back to its default; the others stay.
    client.patch(ref_path, {"call_rules": {"min_coverage": None}}, format="json")
    assert client.get(ref_path).json()["call_rules"] == {**DEFAULT_CALL_RULES, "min_reads": 50}
    client.patch(ref_path, {"call_rules": None}, format="json")
    assert client.get(ref_path).json()["call_rules"] == DEFAULT_CALL_RULES

    # An internal control the sample lacks (a few reads at noise level): flagged absent, and every negative
    # becomes indeterminate.
    plum_pox = OTU.objects.get(reference_id=reference["id"], name="Plum pox virus")
    assert before["Plum pox virus"]["result"] == "not detected"
    assert client.patch(ref_path, {"internal_control": plum_pox.pk}, format="json").status_code == 200
    results = client.get(path).json()["results"]
    assert results["internal_control"] == {
        "id": plum_pox.pk,
        "name": "Plum pox virus",
        "detected": False,
        "call": before["Plum pox virus"],
    }
    assert results["internal_control"]["call"]["reasons"][0].startswith("weight ")
    after = {otu["name"]: otu["call"] for otu in results["hits"]}
    assert after[RPRSV] == before[RPRSV]
    # The control keeps its own call; every other negative is indeterminate.
    assert [name for name, call in after.items() if call["result"] == "not detected"] == ["Plum pox virus"]
    for name in set(negatives) - {"Plum pox virus"}:
        assert after[name] == {"result": "indeterminate", "reasons": [CONTROL_FAILED, *before[name]["reasons"]]}

    # RpRSV as the control: present, and the calls are as without a control.
    rprsv_id = by_name(results)[RPRSV]["id"]
    assert client.patch(ref_path, {"internal_control": rprsv_id}, format="json").status_code == 200
    results = client.get(path).json()["results"]
    control = results["internal_control"]
    assert (control["id"], control["name"], control["detected"]) == (rprsv_id, RPRSV, True)
    assert control["call"] == before[RPRSV]
    assert {otu["name"]: otu["call"] for otu in results["hits"]} == before


def test_a_negative_sample_with_its_control_absent_says_so(scientist):
    client = client_for(scientist)
    reference, sample = prepare(client, scientist, reads=("small_50bp_1.fq.gz",))
    rprsv = OTU.objects.get(reference_id=reference["id"], name=RPRSV)
    client.patch(f"/api/refs/{reference['id']}", {"internal_control": rprsv.pk}, format="json")
    analysis = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json").json()
    assert run_waiting_jobs() == ["complete"]
    results = client.get(f"/api/analyses/{analysis['id']}").json()["results"]
    assert results["hits"] == []
    assert results["internal_control"]["detected"] is False
    assert results["internal_control"]["name"] == RPRSV
    assert results["internal_control"]["call"] == {"result": "not detected", "reasons": ["no reads"]}
