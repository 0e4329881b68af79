"""The headline of an analysis, for the overview and the samples list, without reading its results.

When an analysis's results are first formatted (the workflow's last step does it), a small `summary` is kept:
PathoScope's evidence of each OTU hit (reads, weight, median depth, coverage of each required segment: what a
call reads, free of any rule), NuVs' number of contigs and of contigs with HMM hits. The `headline` is called from
the summary under the reference's rules in force (`analyses.pathoscope.calls.otu_result`, about 1 µs an OTU) and
kept with the rules it was called with (`headline_key`), so that the samples list reads it as a column; when the
reference's rules or control change it is called again (`headlines_recall`, from a receiver).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from analyses.models import Analysis
from analyses.pathoscope.calls import DETECTED, NOT_DETECTED, CallRules, Evidence, Segment, otu_evidence, otu_result

if TYPE_CHECKING:
    from otus.documents import Document
    from references.models import Reference

NUVS = "nuvs"


def pathoscope_summary(otus: Iterable[tuple[dict[str, Any], Document | None]]) -> dict[str, Any]:
    """The evidence of each formatted OTU (heaviest first), with the OTU's joined document for its segments."""
    summary = []
    for otu, document in otus:
        evidence = otu_evidence(otu, document)
        summary.append(
            {
                "id": otu["id"],
                "name": otu["name"],
                "reads": evidence.reads,
                "weight": evidence.weight,
                "median_depth": evidence.median_depth,
                "segments": [[segment.name, segment.coverage] for segment in evidence.segments],
            }
        )
    return {"otus": summary}


def nuvs_summary(results: Mapping[str, Any]) -> dict[str, Any]:
    """How many contigs NuVs assembled and how many of them have an ORF with an HMM hit."""
    contigs = results.get("hits") or []
    with_hits = sum(1 for contig in contigs if any(orf.get("hits") for orf in contig.get("orfs") or []))
    return {"contigs": len(contigs), "hmm_contigs": with_hits}


def headline_key(reference: Reference | None) -> str:
    """The rules and control a PathoScope headline is called with, as one comparable string."""
    rules = CallRules.of(reference.call_rules if reference is not None else None)
    control = reference.internal_control if reference is not None else None
    return json.dumps({"rules": rules.as_dict(), "control": control}, sort_keys=True)


def headline_call(*, workflow: str, summary: Mapping[str, Any] | None, reference: Reference | None) -> dict | None:
    """The headline of a summary: NuVs' counts; for PathoScope the detected and indeterminate OTUs by name
    (heaviest first) under the reference's rules and control (a failed control makes negatives indeterminate),
    and the control's name and whether it was detected (null without control). None without summary."""
    if summary is None:
        return None
    if workflow == NUVS:
        return {"contigs": summary.get("contigs", 0), "hmm_contigs": summary.get("hmm_contigs", 0)}
    rules = CallRules.of(reference.call_rules if reference is not None else None)
    control_id = reference.internal_control if reference is not None else None
    results: list[tuple[Mapping[str, Any], str]] = []
    for otu in summary.get("otus") or []:
        evidence = Evidence(
            reads=otu["reads"],
            weight=otu["weight"],
            median_depth=otu["median_depth"],
            segments=tuple(Segment(name, coverage) for name, coverage in otu["segments"]),
        )
        results.append((otu, otu_result(evidence, rules)))
    control = None
    if control_id:
        found = next(((otu, result) for otu, result in results if otu["id"] == control_id), None)
        detected = found is not None and found[1] == DETECTED
        control = {"id": control_id, "name": found[0]["name"] if found else None, "detected": detected}
    detected_names, indeterminate_names = [], []
    for otu, result in results:
        if control_id and otu["id"] == control_id:
            continue
        if result == NOT_DETECTED and control is not None and not control["detected"]:
            result = "indeterminate"
        if result == DETECTED:
            detected_names.append(otu["name"])
        elif result != NOT_DETECTED:
            indeterminate_names.append(otu["name"])
    return {"detected": detected_names, "indeterminate": indeterminate_names, "control": control}


def headline_current(analysis: Analysis) -> dict | None:
    """The headline under the rules in force now: the kept one when it was called with them, otherwise called
    again from the summary (no query: the reference is loaded with the analysis)."""
    if analysis.summary is None:
        return None
    key = "" if analysis.workflow == NUVS else headline_key(analysis.reference)
    if analysis.headline is not None and analysis.headline_key == key:
        return analysis.headline
    return headline_call(workflow=analysis.workflow, summary=analysis.summary, reference=analysis.reference)


def summary_store(analysis: Analysis, summary: dict[str, Any]) -> None:
    """Keep the summary of a ready analysis and its headline under the rules in force."""
    if not analysis.ready:
        return
    key = "" if analysis.workflow == NUVS else headline_key(analysis.reference)
    headline = headline_call(workflow=analysis.workflow, summary=summary, reference=analysis.reference)
    Analysis.objects.filter(pk=analysis.pk).update(summary=summary, headline=headline, headline_key=key)
    analysis.summary, analysis.headline, analysis.headline_key = summary, headline, key


def summary_fill(analysis: Analysis) -> None:
    """Keep the summary of a ready analysis that has none (one finished before summaries were kept): NuVs' from its
    results, PathoScope's by formatting its results once (which keeps it)."""
    if not analysis.ready or analysis.summary is not None or analysis.results is None:
        return
    if analysis.workflow == NUVS:
        summary_store(analysis, nuvs_summary(analysis.results))
        return
    from analyses.formatting import format_pathoscope

    format_pathoscope(analysis)


def headlines_recall(reference: Reference) -> int:
    """Call again the kept headlines of the reference's PathoScope analyses whose rules or control changed; returns
    how many changed (one query when none did)."""
    key = headline_key(reference)
    stale = list(
        Analysis.objects.filter(reference=reference, ready=True, summary__isnull=False)
        .exclude(workflow=NUVS)
        .exclude(headline_key=key)
        .only("id", "workflow", "summary", "headline", "headline_key")
    )
    for analysis in stale:
        analysis.headline = headline_call(workflow=analysis.workflow, summary=analysis.summary, reference=reference)
        analysis.headline_key = key
    Analysis.objects.bulk_update(stale, ["headline", "headline_key"], batch_size=500)
    return len(stale)
