"""The calls of PathoScope OTUs (analyses.pathoscope.calls) on hand-made evidence: each rule exactly at, above and
below its threshold, the noise floor, the segments of schema'd and schema-less OTUs, and the internal control."""

from __future__ import annotations

import pytest

from analyses.pathoscope.calls import (
    CONTROL_FAILED,
    DETECTED,
    INDETERMINATE,
    NOT_DETECTED,
    Call,
    CallRules,
    Evidence,
    Segment,
    calls_with_control,
    otu_call,
    otu_evidence,
    otu_result,
    otu_segments,
    percent_text,
    weight_text,
)
from references.call_rules import DEFAULT_CALL_RULES

RULES = CallRules(min_reads=20, min_coverage=0.5, min_median_depth=5, min_weight=0.01)


def evidence(**changes) -> Evidence:
    """Evidence that meets every rule of RULES with room to spare, changed as asked."""
    values = {"reads": 500, "weight": 0.5, "median_depth": 40, "coverage": {"RNA1": 0.9, "RNA2": 0.9}} | changes
    segments = tuple(Segment(name, coverage) for name, coverage in values.pop("coverage").items())
    return Evidence(segments=segments, **values)


def test_evidence_well_above_every_rule_is_detected_with_the_thresholds_it_met():
    call = otu_call(evidence(), RULES)
    assert call.result == DETECTED
    assert call.reasons == (
        "weight 0.5 ≥ 0.01",
        "500 reads ≥ 20",
        "median depth 40 ≥ 5",
        "RNA1 covered 90 % ≥ 50 %",
        "RNA2 covered 90 % ≥ 50 %",
    )


@pytest.mark.parametrize(
    ("value", "result", "reasons"),
    [(21, DETECTED, None), (20, DETECTED, None), (19, INDETERMINATE, ("19 reads < 20",))],
    ids=["above", "at", "below"],
)
def test_min_reads(value, result, reasons):
    call = otu_call(evidence(reads=value), RULES)
    assert call.result == result
    if reasons:
        assert call.reasons == reasons
    else:
        assert f"{value} reads ≥ 20" in call.reasons


@pytest.mark.parametrize(
    ("value", "result", "reason"),
    [
        (0.501, DETECTED, "RNA2 covered 50.1 % ≥ 50 %"),
        (0.5, DETECTED, "RNA2 covered 50 % ≥ 50 %"),
        (0.499, INDETERMINATE, "RNA2 covered 49.9 % < 50 %"),
        (0.08, INDETERMINATE, "RNA2 covered 8 % < 50 %"),
    ],
    ids=["above", "at", "below", "far-below"],
)
def test_min_coverage_of_each_required_segment(value, result, reason):
    call = otu_call(evidence(coverage={"RNA1": 0.9, "RNA2": value}), RULES)
    assert call.result == result
    assert reason in call.reasons
    if result == INDETERMINATE:
        assert call.reasons == (reason,)  # RNA1 is fine: only what was missed is said


@pytest.mark.parametrize(
    ("value", "result", "reason"),
    [
        (6, DETECTED, "median depth 6 ≥ 5"),
        (5, DETECTED, "median depth 5 ≥ 5"),
        (4, INDETERMINATE, "median depth 4 < 5"),
    ],
    ids=["above", "at", "below"],
)
def test_min_median_depth(value, result, reason):
    call = otu_call(evidence(median_depth=value), RULES)
    assert call.result == result
    assert reason in call.reasons


@pytest.mark.parametrize(
    ("value", "result", "reason"),
    [
        (0.0101, DETECTED, "weight 0.0101 ≥ 0.01"),
        (0.01, DETECTED, "weight 0.01 ≥ 0.01"),
        (0.0099, NOT_DETECTED, "weight 0.0099 < 0.01"),
    ],
    ids=["above", "at", "below"],
)
def test_weight_floor(value, result, reason):
    call = otu_call(evidence(weight=value), RULES)
    assert call.result == result
    assert reason in call.reasons


def test_below_the_weight_floor_is_noise_even_with_other_shortfalls():
    call = otu_call(evidence(weight=3.2e-7, reads=3, coverage={"RNA1": 0.02}), RULES)
    assert call == Call(NOT_DETECTED, ("weight 3.2e-7 < 0.01", "3 reads < 20", "RNA1 covered 2 % < 50 %"))


def test_several_shortfalls_above_the_floor_are_all_named():
    call = otu_call(evidence(reads=12, median_depth=1, coverage={"RNA1": 0.7, "RNA2": 0.08}), RULES)
    assert call == Call(INDETERMINATE, ("12 reads < 20", "median depth 1 < 5", "RNA2 covered 8 % < 50 %"))


def test_no_evidence_is_not_detected():
    assert otu_call(None, RULES) == Call(NOT_DETECTED, ("no reads",))
    assert otu_call(evidence(reads=0, coverage={"RNA1": 0.0}), RULES) == Call(NOT_DETECTED, ("no reads",))
    # Shared reads only (no best-hit read) but some coverage: evidence, short of the rules.
    assert otu_call(evidence(reads=0, coverage={"RNA1": 0.6}), RULES).result == INDETERMINATE


def test_the_result_without_reasons_is_the_same_call():
    # Every combination of each rule below, at and above its threshold (and no evidence at all).
    grid = [
        evidence(reads=reads, weight=weight, median_depth=depth, coverage={"RNA1": 0.9, "RNA2": coverage})
        for reads in (0, 19, 20, 21)
        for weight in (0.0, 0.0099, 0.01, 0.5)
        for depth in (0, 4, 5, 6)
        for coverage in (0.0, 0.499, 0.5, 0.501)
    ]
    grid += [None, evidence(reads=0, coverage={"RNA1": 0.0})]
    assert [otu_result(item, RULES) for item in grid] == [otu_call(item, RULES).result for item in grid]
    assert {otu_result(item, RULES) for item in grid} == {DETECTED, NOT_DETECTED, INDETERMINATE}


def test_default_rules():
    assert CallRules.of() == CallRules(**DEFAULT_CALL_RULES)
    assert CallRules.of({"min_reads": 50, "unknown": 1, "min_weight": None}) == CallRules(
        **{**DEFAULT_CALL_RULES, "min_reads": 50}
    )


def test_numbers_in_words():
    assert weight_text(3.2e-7) == "3.2e-7"
    assert weight_text(0.000999) == "9.99e-4"
    assert weight_text(1e-4) == "1e-4"
    assert weight_text(0.98) == "0.98"
    assert weight_text(0) == "0"
    assert percent_text(0.084) == "8.4 %"
    assert percent_text(0.0005) == "0.05 %"
    assert otu_call(evidence(reads=1), RULES).reasons == ("1 read < 20",)


# --- Internal control ----------------------------------------------------------------------------------------


def calls(**results: Call) -> dict[str, Call]:
    return dict(results)


DETECTED_CALL = otu_call(evidence(), RULES)
NEGATIVE = otu_call(evidence(weight=1e-5), RULES)
WEAK = otu_call(evidence(reads=3), RULES)


def test_control_present_leaves_the_calls_alone():
    found = calls(ctrl=DETECTED_CALL, virus=DETECTED_CALL, noise=NEGATIVE, weak=WEAK)
    applied, control = calls_with_control(found, control_id="ctrl", rules=RULES)
    assert control == DETECTED_CALL
    assert applied == found


def test_control_absent_makes_every_negative_indeterminate():
    found = calls(virus=DETECTED_CALL, noise=NEGATIVE, weak=WEAK)
    applied, control = calls_with_control(found, control_id="ctrl", rules=RULES)
    assert control == Call(NOT_DETECTED, ("no reads",))
    assert applied["virus"] == DETECTED_CALL  # a positive stays positive
    assert applied["weak"] == WEAK
    assert applied["noise"] == Call(INDETERMINATE, (CONTROL_FAILED, *NEGATIVE.reasons))
    assert "ctrl" not in applied


def test_control_found_below_the_rules_counts_as_failed_and_keeps_its_own_call():
    weak_control = otu_call(evidence(coverage={"RNA1": 0.1}), RULES)
    found = calls(ctrl=weak_control, noise=NEGATIVE)
    applied, control = calls_with_control(found, control_id="ctrl", rules=RULES)
    assert control == weak_control
    assert control.result == INDETERMINATE
    assert applied["ctrl"] == weak_control
    assert applied["noise"].result == INDETERMINATE
    assert applied["noise"].reasons[0] == CONTROL_FAILED


def test_no_control_named():
    found = calls(noise=NEGATIVE)
    assert calls_with_control(found, control_id=None, rules=RULES) == (found, None)


# --- Segments --------------------------------------------------------------------------------------------------


def sequence(sid: str, accession: str, segment: str = "") -> dict:
    return {"_id": sid, "accession": accession, "segment": segment}


SCHEMA = [{"name": "RNA1", "required": True}, {"name": "RNA2", "required": True}, {"name": "Sat", "required": False}]


def test_required_segments_are_read_by_name_and_a_missing_one_is_uncovered():
    sequences = [sequence("a", "X1", "RNA1"), sequence("b", "X2", "RNA2"), sequence("c", "X3", "Sat")]
    segments = otu_segments(schema=SCHEMA, sequences=sequences, coverage={"a": 0.8, "c": 0.1})
    assert segments == (Segment("RNA1", 0.8), Segment("RNA2", 0.0))  # the optional satellite is not required


def test_without_schema_every_sequence_of_the_best_isolate_counts():
    sequences = [sequence("a", "NC_005266"), sequence("b", "NC_005267")]
    segments = otu_segments(schema=[], sequences=sequences, coverage={"a": 0.9})
    assert segments == (Segment("NC_005266", 0.9), Segment("NC_005267", 0.0))
    # A schema whose sequences carry no segment names reads its sequences too.
    assert otu_segments(schema=SCHEMA, sequences=sequences, coverage={"a": 0.9}) == segments


def formatted_otu(schema, isolates) -> dict:
    return {"reads": 100, "pi": 0.9, "depth": 12, "schema": schema, "isolates": isolates}


def test_evidence_reads_the_best_isolate_with_every_sequence_of_it_in_the_document():
    best = {"id": "i1", "sequences": [{"id": "a", "accession": "X1", "segment": "RNA1", "coverage": 0.95}]}
    other = {"id": "i2", "sequences": [{"id": "z", "accession": "Z2", "segment": "RNA2", "coverage": 0.99}]}
    otu = formatted_otu(SCHEMA, [best, other])
    document = {"isolates": [{"id": "i1", "sequences": [sequence("a", "X1", "RNA1"), sequence("b", "X2", "RNA2")]}]}
    found = otu_evidence(otu, document)
    assert found == Evidence(100, 0.9, 12, (Segment("RNA1", 0.95), Segment("RNA2", 0.0)))
    call = otu_call(found, RULES)
    assert call == Call(INDETERMINATE, ("RNA2 covered 0 % < 50 %",))
    # Without the document only the sequences with reads are known.
    assert otu_evidence(otu).segments == (Segment("RNA1", 0.95), Segment("RNA2", 0.0))
    assert otu_evidence(formatted_otu([], [best])).segments == (Segment("X1", 0.95),)
