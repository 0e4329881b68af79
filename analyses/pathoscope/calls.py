"""Calls: `detected`, `not detected` or `indeterminate` for each OTU of a PathoScope result, with the reasons in
words, from the reference's call rules (`references.call_rules`) and its internal control.

Pure computation (no Django, no database): a cross-sample matrix calls `otu_result` for every cell (about 1 µs;
an OTU not in a result is the one `NO_READS` call) and `otu_call` where it shows the reasons (about 20 µs).

The rule:
- **not detected**: no evidence. The OTU has no reads and no coverage (it is not in the result at all), or its
  weight is below the floor (PathoScope's own estimate puts it at noise level).
- **detected**: weight ≥ floor, reads ≥ minimum, median depth ≥ minimum and coverage ≥ minimum on each required
  segment. A value equal to its threshold meets it.
- **indeterminate**: evidence above the noise floor that misses at least one of the other thresholds.
- **internal control**: its own call says whether it is detected. When it is not, every `not detected` of the other
  OTUs becomes `indeterminate` ("internal control not detected"): a negative is not worth signing when the control
  failed, while a positive stays positive.

Segments (`otu_segments`): an OTU whose schema lists required segments needs each of them covered, read on the best
isolate's sequences by segment name; an OTU without schema (or whose sequences carry no segment names, or whose
schema requires none) needs each sequence of its best isolate covered. A segment no read reached is covered 0 %.

Reasons: the thresholds missed, for `not detected` and `indeterminate`; the thresholds met, for `detected`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from references.call_rules import call_rules_effective

Result = Literal["detected", "not detected", "indeterminate"]
DETECTED: Final = "detected"
NOT_DETECTED: Final = "not detected"
INDETERMINATE: Final = "indeterminate"
# The three calls in the order documents list them (the API's one `CallResultEnum`).
RESULTS: Final = (DETECTED, NOT_DETECTED, INDETERMINATE)
CONTROL_FAILED: Final = "internal control not detected"


@dataclass(frozen=True, slots=True)
class CallRules:
    """The thresholds of a call (see `references.call_rules` for what each means and its default)."""

    min_reads: float
    min_coverage: float
    min_median_depth: float
    min_weight: float

    @classmethod
    def of(cls, stored: Mapping[str, Any] | None = None) -> CallRules:
        """The rules in force on a reference whose `call_rules` are `stored` (None: the defaults)."""
        rules = call_rules_effective(stored)
        return cls(
            min_reads=rules["min_reads"],
            min_coverage=rules["min_coverage"],
            min_median_depth=rules["min_median_depth"],
            min_weight=rules["min_weight"],
        )

    def as_dict(self) -> dict[str, float]:
        """The rules as the API shows them."""
        return {
            "min_reads": self.min_reads,
            "min_coverage": self.min_coverage,
            "min_median_depth": self.min_median_depth,
            "min_weight": self.min_weight,
        }


@dataclass(frozen=True, slots=True)
class Segment:
    """A segment (or, without schema, a sequence) that must be covered: its name and covered fraction (0 to 1)."""

    name: str
    coverage: float


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the call of one OTU reads: best-hit reads, weight (pi), median depth and the coverage of its segments."""

    reads: float
    weight: float
    median_depth: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Call:
    """A call and why."""

    result: Result
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """`{result, reasons}` as the API shows it."""
        return {"result": self.result, "reasons": list(self.reasons)}


# --- Numbers in words ------------------------------------------------------------------------------------------


def _trim(number: float, places: int) -> str:
    text = f"{number:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent_text(fraction: float) -> str:
    """'8 %', '49.9 %', '0.05 %': a fraction as a percentage, with the digits that tell it from a threshold."""
    return f"{_trim(fraction * 100, 2)} %"


def weight_text(weight: float) -> str:
    """'0.98', '0.001', '3.2e-7': a weight, tiny ones in scientific notation rather than as 0.000."""
    if weight == 0:
        return "0"
    if abs(weight) < 0.001:
        mantissa, exponent = f"{weight:.2e}".split("e")
        return f"{_trim(float(mantissa), 2)}e{int(exponent)}"
    return f"{weight:.4g}"


def _count(number: float) -> str:
    return _trim(number, 2)


def _reads(number: float) -> str:
    return f"{_count(number)} read{'' if number == 1 else 's'}"


# --- Calls -----------------------------------------------------------------------------------------------------


# The call of every OTU that is not in a result (most cells of a cross-sample matrix): one object.
NO_READS: Final = Call(NOT_DETECTED, ("no reads",))


def _no_evidence(evidence: Evidence) -> bool:
    return evidence.reads <= 0 and all(s.coverage <= 0 for s in evidence.segments)


def otu_result(evidence: Evidence | None, rules: CallRules) -> Result:
    """The call of one OTU without its reasons (the same rule as `otu_call`, without writing a word): for many
    cells at once, with `otu_call` for the few whose reasons are read."""
    if evidence is None or _no_evidence(evidence):
        return NOT_DETECTED
    if evidence.weight < rules.min_weight:
        return NOT_DETECTED
    if (
        evidence.reads < rules.min_reads
        or evidence.median_depth < rules.min_median_depth
        or any(s.coverage < rules.min_coverage for s in evidence.segments)
    ):
        return INDETERMINATE
    return DETECTED


def otu_call(evidence: Evidence | None, rules: CallRules) -> Call:
    """The call of one OTU from its evidence (None: the OTU is not in the result) under `rules`, with its reasons."""
    if evidence is None or _no_evidence(evidence):
        return NO_READS
    met: list[str] = []
    missed: list[str] = []

    def check(value: float, threshold: float, text: str, threshold_text: str) -> None:
        if value >= threshold:
            met.append(f"{text} ≥ {threshold_text}")
        else:
            missed.append(f"{text} < {threshold_text}")

    check(evidence.weight, rules.min_weight, f"weight {weight_text(evidence.weight)}", weight_text(rules.min_weight))
    noise = evidence.weight < rules.min_weight
    check(evidence.reads, rules.min_reads, _reads(evidence.reads), _count(rules.min_reads))
    check(
        evidence.median_depth,
        rules.min_median_depth,
        f"median depth {_count(evidence.median_depth)}",
        _count(rules.min_median_depth),
    )
    for segment in evidence.segments:
        check(
            segment.coverage,
            rules.min_coverage,
            f"{segment.name} covered {percent_text(segment.coverage)}",
            percent_text(rules.min_coverage),
        )
    if noise:
        return Call(NOT_DETECTED, tuple(missed))
    if missed:
        return Call(INDETERMINATE, tuple(missed))
    return Call(DETECTED, tuple(met))


def control_applied(call: Call, *, control_detected: bool) -> Call:
    """A call of an OTU other than the internal control, once the control is known: a negative of a failed
    control is indeterminate."""
    if control_detected or call.result != NOT_DETECTED:
        return call
    return Call(INDETERMINATE, (CONTROL_FAILED, *call.reasons))


def calls_with_control(
    calls: Mapping[str, Call], *, control_id: str | None, rules: CallRules
) -> tuple[dict[str, Call], Call | None]:
    """Every OTU's call ({otu id: call}) with the internal control applied, and the control's own call (None when
    the reference names no control; `not detected` when the control is not among `calls`)."""
    if not control_id:
        return dict(calls), None
    control = calls.get(control_id) or NO_READS
    detected = control.result == DETECTED
    applied = {
        otu_id: call if otu_id == control_id else control_applied(call, control_detected=detected)
        for otu_id, call in calls.items()
    }
    return applied, control


# --- Evidence from a formatted result ------------------------------------------------------------------------


def _schema_names(schema: Iterable[Any], *, required_only: bool) -> list[str]:
    names = []
    for segment in schema or []:
        if isinstance(segment, str):
            names.append(segment)
        elif (
            isinstance(segment, Mapping)
            and segment.get("name")
            and (not required_only or segment.get("required", True))
        ):
            names.append(str(segment["name"]))
    return names


def otu_segments(
    *,
    schema: Iterable[Any],
    sequences: Iterable[Mapping[str, Any]],
    coverage: Mapping[str, float],
) -> tuple[Segment, ...]:
    """The segments a call checks, from the OTU's `schema`, every sequence of its best isolate (`{_id or id,
    accession, segment}`) and the coverage of those reads reached ({sequence id: fraction})."""
    sequences = list(sequences)
    required = _schema_names(schema, required_only=True)
    if required and any(s.get("segment") for s in sequences):
        covered: dict[str, float] = {}
        for sequence in sequences:
            name = sequence.get("segment")
            if name:
                sequence_id = sequence.get("_id", sequence.get("id"))
                covered[name] = max(covered.get(name, 0.0), coverage.get(sequence_id, 0.0))
        return tuple(Segment(name, covered.get(name, 0.0)) for name in required)
    return tuple(
        Segment(
            str(sequence.get("accession") or sequence.get("_id", sequence.get("id"))).strip(),
            coverage.get(sequence.get("_id", sequence.get("id")), 0.0),
        )
        for sequence in sequences
    )


def otu_evidence(otu: Mapping[str, Any], document: Mapping[str, Any] | None = None) -> Evidence:
    """The evidence of one OTU of a formatted PathoScope result (`analyses.formatting`): its reads, weight and
    median depth, and the segments of its best isolate (the first, heaviest; every sequence of that isolate from
    the OTU `document` when known, so that a segment no read reached counts as uncovered)."""
    isolates = otu.get("isolates") or []
    segments: tuple[Segment, ...] = ()
    if isolates:
        best = isolates[0]
        coverage = {s["id"]: s["coverage"] for s in best["sequences"]}
        sequences: list[Mapping[str, Any]] = best["sequences"]
        if document and best.get("id") is not None:
            known = next((i for i in document.get("isolates", []) if i.get("id") == best["id"]), None)
            if known and known.get("sequences"):
                sequences = known["sequences"]
        segments = otu_segments(schema=otu.get("schema") or [], sequences=sequences, coverage=coverage)
    return Evidence(
        reads=otu.get("reads", 0), weight=otu.get("pi", 0.0), median_depth=otu.get("depth", 0), segments=segments
    )
