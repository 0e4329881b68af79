"""PathoScope results as users read them: hits grouped by OTU (at its indexed version), isolates, sequences,
weights, depths, coverage and drawable coverage lines; and the CSV/XLSX exports (workflows.md §1.8).

The OTUs come as built into the analysis's index (`indexes.IndexOTU`), stored once, so that a read replays no
history; only when the index is gone (its reference was deleted) is history asked, as before.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import visvalingamwyatt

from analyses.models import Analysis
from analyses.pathoscope.calls import DETECTED, CallRules, calls_with_control, otu_call, otu_evidence
from analyses.summary import pathoscope_summary, summary_store
from indexes.selectors import index_otus_frozen
from indexes.services import index_otus_freeze
from otus.documents import Document, isolate_name
from otus.selectors import otu_at_version, otu_name

# Coverage lines longer than this are simplified with Visvalingam-Whyatt (Virtool's Python server did the same).
SIMPLIFY_ABOVE = 100
SIMPLIFY_RATIO = 0.4
EXPORT_COLUMNS = ("OTU", "Isolate", "Sequence", "Length", "Weight", "Median Depth", "Coverage")


def coverage_line(align: list[int]) -> list[list[int]]:
    """Depth per position as [[x, depth], ...]: the first and last points and every change point, simplified."""
    if not align:
        return []
    depth = np.asarray(align)
    changes = np.flatnonzero(np.diff(depth)) if depth.size > 1 else np.array([], dtype=int)
    # A change between i and i+1 keeps both sides, so the line steps instead of sloping.
    keep = np.unique(np.concatenate(([0, depth.size - 1], changes, changes + 1)))
    points = [[int(x), int(depth[x])] for x in keep]
    if len(points) > SIMPLIFY_ABOVE:
        points = [[int(x), int(y)] for x, y in visvalingamwyatt.simplify(points, ratio=SIMPLIFY_RATIO)]
    return points


def _median(values: np.ndarray) -> int:
    return round(float(np.median(values))) if values.size else 0


def _coverage(values: np.ndarray) -> float:
    return round(float(np.count_nonzero(values)) / values.size, 3) if values.size else 0.0


def hit_otus(analysis: Analysis, keys: list[tuple[str | None, int | None]]) -> dict[tuple, Document | None]:
    """The joined OTU of each (otu id, version) of the hits, as built into the analysis's index (None if unknown)."""
    index = analysis.index
    manifest = index.manifest if index is not None else {}
    built = {otu_id for otu_id, version in keys if otu_id and version is not None and manifest.get(otu_id) == version}
    frozen = index_otus_frozen(index_id=index.pk, otu_ids=built) if index is not None and built else {}
    missing = built - frozen.keys()
    if index is not None and missing:
        # An analysis finished before indexes kept their OTUs: store them now, so that the next read finds them.
        frozen |= index_otus_freeze(index=index, otu_ids=sorted(missing))
    documents: dict[tuple, Document | None] = {}
    for otu_id, version in keys:
        if otu_id in built:
            documents[otu_id, version] = frozen.get(otu_id)
        elif otu_id and version is not None:
            # No index any more (its reference was deleted, and its history with it), or not in its manifest.
            documents[otu_id, version] = otu_at_version(otu_id=otu_id, version=version)
        else:
            documents[otu_id, version] = None
    return documents


def stored_lines(analysis: Analysis) -> dict[str, list[list[int]]]:
    """The coverage lines kept with the analysis (none for one formatted before lines were kept)."""
    return dict(analysis.coverage_lines or {})


def store_lines(analysis: Analysis, lines: dict[str, list[list[int]]]) -> None:
    """Keep the coverage lines of a finished analysis, so that later reads do not simplify them again."""
    if analysis.ready:
        Analysis.objects.filter(pk=analysis.pk).update(coverage_lines=lines)
        analysis.coverage_lines = lines


def format_pathoscope(analysis: Analysis) -> dict[str, Any] | None:
    """The stored results grouped by OTU for display, or None while there are none.

    The first formatting of a finished analysis (the workflow's last step does it) simplifies the coverage lines
    and keeps them; later ones read them.
    """
    results = analysis.results
    if results is None:
        return None
    by_otu: dict[tuple, list[dict]] = {}
    for hit in results.get("hits", []):
        key = (hit["otu"]["id"], hit["otu"]["version"])
        by_otu.setdefault(key, []).append(hit)
    documents = hit_otus(analysis, list(by_otu))
    lines = stored_lines(analysis)
    known = len(lines)
    otus = []
    for (otu_id, version), hits in by_otu.items():
        document = documents[otu_id, version]
        otu = _format_otu(otu_id, version, document, {hit["id"]: hit for hit in hits}, lines)
        otus.append((otu, document))
    if len(lines) != known:
        store_lines(analysis, lines)
    otus.sort(key=lambda pair: (-pair[0]["pi"], pair[0]["name"]))
    rules, control = pathoscope_calls(analysis, otus)
    if analysis.ready and analysis.summary is None:
        # The overview's headline, kept once (the workflow's last step formats the results first).
        summary_store(analysis, pathoscope_summary(otus))
    quality = analysis.sample.quality or {}
    return {
        "read_count": results.get("read_count", 0),
        "subtracted_count": results.get("subtracted_count", 0),
        "hits": [otu for otu, _ in otus],
        # Ours, beside Virtool's keys: what the calls were made with, the control, and the sample's own read count.
        "call_rules": rules.as_dict(),
        "internal_control": control,
        "sample_read_count": quality.get("count"),
        # What the analysis kept behind each hit OTU (reads, consensus); null for one made before it was kept.
        "evidence": results.get("evidence"),
    }


def pathoscope_calls(analysis: Analysis, otus: list[tuple[dict, Document | None]]) -> tuple[CallRules, dict | None]:
    """Add `call: {result, reasons}` to each formatted OTU, from the rules of the analysis's reference as they are
    now (the defaults once the reference is gone); returns the rules and `{id, name, detected, call}` of the
    reference's internal control (None when it names none)."""
    reference = analysis.reference
    rules = CallRules.of(reference.call_rules if reference is not None else None)
    control_id = reference.internal_control if reference is not None else None
    keys = [otu["id"] or f"#{position}" for position, (otu, _) in enumerate(otus)]
    calls = {key: otu_call(otu_evidence(otu, document), rules) for key, (otu, document) in zip(keys, otus, strict=True)}
    applied, control_call = calls_with_control(calls, control_id=control_id, rules=rules)
    for key, (otu, _) in zip(keys, otus, strict=True):
        otu["call"] = applied[key].as_dict()
    if not control_id or control_call is None:
        return rules, None
    found = next((otu for otu, _ in otus if otu["id"] == control_id), None)
    name = found["name"] if found is not None else otu_name(otu_id=control_id)
    control = {"id": control_id, "name": name, "detected": control_call.result == DETECTED}
    return rules, {**control, "call": control_call.as_dict()}


def _segment_key(isolate: dict, sequence: dict) -> str:
    """Which segment a sequence is, to merge depths across isolates: its schema name, or else its rank by length
    within its isolate (RNA1 before RNA2 in Virtool's multi-segment OTUs whose sequences carry no segment name)."""
    if sequence.get("segment"):
        return f"name:{sequence['segment']}"
    ranked = sorted(isolate["sequences"], key=lambda s: (-len(s["sequence"]), s["_id"]))
    return f"rank:{next(i for i, s in enumerate(ranked) if s['_id'] == sequence['_id'])}"


def _format_otu(
    otu_id: str | None,
    version: int | None,
    document: dict | None,
    hits: dict[str, dict],
    lines: dict[str, list] | None = None,
    *,
    draw: bool = True,
) -> dict:
    """One OTU of the results; the coverage line of a sequence not in `lines` is drawn and added to it (with
    `draw=False`, as the cross-sample matrix reads only the numbers, no line is drawn and `align` stays empty)."""
    lines = {} if lines is None else lines
    isolates = []
    if document:
        sources = document["isolates"]
    else:  # the OTU cannot be found any more: show the sequences by id
        unknown = [{"_id": ref, "accession": ref, "definition": "", "segment": None, "sequence": ""} for ref in hits]
        sources = [{"id": None, "source_type": "", "source_name": "", "default": False, "sequences": unknown}]
    segments: dict[str, list[np.ndarray]] = {}
    for isolate in sources:
        sequences = []
        depths = []
        for sequence in isolate["sequences"]:
            hit = hits.get(sequence["_id"])
            if hit is None:
                continue
            length = len(sequence["sequence"]) or len(hit["align"])
            align = np.zeros(length, dtype=np.int64)
            values = np.asarray(hit["align"][:length], dtype=np.int64)
            align[: values.size] = values
            depths.append(align)
            segments.setdefault(_segment_key(isolate, sequence), []).append(align)
            if draw and sequence["_id"] not in lines:
                lines[sequence["_id"]] = coverage_line(align.tolist())
            sequences.append(
                {
                    "id": sequence["_id"],
                    "accession": sequence["accession"],
                    "definition": sequence["definition"],
                    "segment": sequence.get("segment"),
                    "length": length,
                    "pi": hit["final"]["pi"],
                    "best": hit["final"]["best"],
                    "reads": hit["final"]["reads"],
                    "coverage": hit["coverage"],
                    "depth": hit["depth"],
                    "median_depth": _median(align),
                    "align": lines.get(sequence["_id"], []),
                }
            )
        if not sequences:
            continue
        joined = np.concatenate(depths)
        isolates.append(
            {
                "id": isolate["id"],
                "source_type": isolate["source_type"],
                "source_name": isolate["source_name"],
                "name": isolate_name(isolate),
                "default": isolate["default"],
                "pi": sum(s["pi"] for s in sequences),
                "best": sum(s["best"] for s in sequences),
                "reads": sum(s["reads"] for s in sequences),
                "coverage": _coverage(joined),
                "depth": _median(joined),
                "sequences": sequences,
            }
        )
    merged = []
    for arrays in segments.values():
        longest = max(a.size for a in arrays)
        stacked = np.zeros((len(arrays), longest), dtype=np.int64)
        for row, array in enumerate(arrays):
            stacked[row, : array.size] = array
        merged.append(stacked.max(axis=0))
    everything = np.concatenate(merged) if merged else np.zeros(0, dtype=np.int64)
    return {
        "id": otu_id,
        "name": document["name"] if document else (otu_id or "Unknown OTU"),
        "abbreviation": document["abbreviation"] if document else "",
        "version": version,
        "schema": document["schema"] if document else [],
        "pi": sum(i["pi"] for i in isolates),
        "best": sum(i["best"] for i in isolates),
        "reads": sum(i["reads"] for i in isolates),
        "coverage": max((i["coverage"] for i in isolates), default=0.0),
        "depth": _median(everything),
        "max_depth": int(everything.max()) if everything.size else 0,
        "isolates": sorted(isolates, key=lambda i: -i["pi"]),
    }


def export_rows(formatted: dict[str, Any]) -> list[list]:
    """One row per detected sequence: OTU, Isolate, Sequence, Length, Weight, Median Depth, Coverage."""
    rows = []
    for otu in formatted["hits"]:
        for isolate in otu["isolates"]:
            for sequence in isolate["sequences"]:
                rows.append(
                    [
                        otu["name"],
                        isolate["name"],
                        sequence["accession"],
                        sequence["length"],
                        sequence["pi"],
                        sequence["median_depth"],
                        sequence["coverage"],
                    ]
                )
    return rows


def export_csv(formatted: dict[str, Any]) -> str:
    """The CSV export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(export_rows(formatted))
    return buffer.getvalue()


def export_xlsx(formatted: dict[str, Any], title: str) -> bytes:
    """The XLSX export (one sheet, the same columns as the CSV)."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(title[:31] or "PathoScope")
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, EXPORT_COLUMNS, bold)
    for row, values in enumerate(export_rows(formatted), start=1):
        sheet.write_row(row, 0, values)
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 2, 20)
    workbook.close()
    return buffer.getvalue()


def format_results(analysis: Analysis) -> dict[str, Any] | None:
    """The results of a ready analysis formatted for its workflow (None until it is ready or when it has none)."""
    if not analysis.ready or analysis.results is None:
        return None
    if analysis.workflow == "nuvs":
        from analyses.nuvs.results import format_nuvs

        return format_nuvs(analysis)
    return format_pathoscope(analysis)
