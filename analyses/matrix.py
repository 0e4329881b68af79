"""The cross-sample matrix: samples by OTUs of PathoScope analyses, each cell the call, reads, coverage, median depth
and weight of one OTU in one sample, negatives kept (an OTU a sample's analysis did not find is an explicit zero
cell, `not detected`, or `indeterminate` when that sample's internal control failed).

The numbers are those of `GET /api/analyses/{id}` (`analyses.formatting`: the OTU's reads, weight, coverage of its
best-covered isolate and median depth), computed once per analysis (`otu_numbers_store`, at the end of the workflow
or on the first matrix that needs them) and kept in `Analysis.otu_numbers` with the evidence its call reads; the
calls themselves are made at read time, under the reference's call rules as they are now, as the analysis page
does. A matrix of 500 analyses thus reads a few kilobytes per analysis, never their depth arrays.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from django.db.models import Prefetch

from analyses.formatting import _format_otu, hit_otus
from analyses.models import Analysis
from analyses.pathoscope.calls import (
    DETECTED,
    INDETERMINATE,
    NOT_DETECTED,
    CallRules,
    Evidence,
    Segment,
    otu_call,
    otu_evidence,
)
from analyses.selectors import analysis_list
from core.errors import BadRequest, Conflict, InsufficientRights, NotFound
from indexes.selectors import index_otus_frozen
from otus.selectors import otu_list, otu_name
from samples.models import Label
from samples.selectors import sample_list
from subtractions.models import Subtraction

if TYPE_CHECKING:
    from otus.documents import Document
    from users.models import User

# Rows a matrix may have: a larger selection is refused (400) rather than built for minutes.
MATRIX_MAX_SAMPLES: Final = 1000
# How the stored numbers are laid out; numbers of another version are computed again.
NUMBERS_VERSION: Final = 1
# What a row reads of an analysis, its sample and its reference.
ROW_FIELDS: Final = (
    "id",
    "workflow",
    "ready",
    "created_at",
    "reference_name",
    "index_id",
    "index_version",
    "otu_numbers",
    "sample__id",
    "sample__name",
    "reference__id",
    "reference__name",
    "reference__internal_control",
    "reference__call_rules",
)
# Analyses whose numbers are computed together (their results loaded at once).
NUMBERS_BATCH: Final = 50
CALL_RANK: Final = {NOT_DETECTED: 0, INDETERMINATE: 1, DETECTED: 2}
CSV_COLUMNS: Final = (
    "Sample ID",
    "Sample",
    "Analysis ID",
    "Reference",
    "Index Version",
    "OTU ID",
    "OTU",
    "Call",
    "Reads",
    "Coverage",
    "Median Depth",
    "Weight",
    "Reasons",
)


# --- Each analysis's numbers, computed once ------------------------------------------------------------------------


def _hit_groups(analysis: Analysis) -> dict[tuple, dict[str, dict]]:
    by_otu: dict[tuple, dict[str, dict]] = {}
    for hit in (analysis.results or {}).get("hits", []):
        if hit["otu"]["id"]:
            by_otu.setdefault((hit["otu"]["id"], hit["otu"]["version"]), {})[hit["id"]] = hit
    return by_otu


def otu_numbers(analysis: Analysis, documents: dict[tuple, Document | None] | None = None) -> list[dict[str, Any]]:
    """Each hit OTU of a ready PathoScope analysis: `{id, version, name, abbreviation, reads, weight, coverage,
    depth, segments}`, the numbers of `format_pathoscope` (without drawing coverage lines) and the segments its call
    checks (`[[name, covered fraction], ...]`). `documents`: the hit OTUs as `hit_otus` gives them, when known."""
    by_otu = _hit_groups(analysis)
    if documents is None or not all(key in documents for key in by_otu):
        documents = hit_otus(analysis, list(by_otu))
    numbers = []
    for (otu_id, version), hits in by_otu.items():
        document = documents[otu_id, version]
        otu = _format_otu(otu_id, version, document, hits, draw=False)
        evidence = otu_evidence(otu, document)
        numbers.append(
            {
                "id": otu_id,
                "version": version,
                "name": otu["name"],
                "abbreviation": otu["abbreviation"],
                "reads": otu["reads"],
                "weight": otu["pi"],
                "coverage": otu["coverage"],
                "depth": otu["depth"],
                "segments": [[segment.name, segment.coverage] for segment in evidence.segments],
            }
        )
    return numbers


def _documents_by_index(analyses: list[Analysis]) -> dict[str, dict[tuple, Document | None]]:
    """The hit OTUs of each analysis as built into its index, one query per index (not per analysis); an OTU not
    stored with its index is left out, so that `otu_numbers` asks `hit_otus` (which stores it) for that analysis."""
    wanted: dict[str, set[str]] = {}
    for analysis in analyses:
        if analysis.index_id is not None:
            wanted.setdefault(analysis.index_id, set()).update(key[0] for key in _hit_groups(analysis))
    frozen = {index_id: index_otus_frozen(index_id=index_id, otu_ids=otu_ids) for index_id, otu_ids in wanted.items()}
    documents: dict[str, dict[tuple, Document | None]] = {}
    for analysis in analyses:
        if analysis.index is None:
            continue
        manifest = analysis.index.manifest
        stored = frozen.get(analysis.index.pk, {})
        documents[analysis.pk] = {
            (otu_id, version): stored[otu_id]
            for otu_id, version in _hit_groups(analysis)
            if otu_id in stored and manifest.get(otu_id) == version
        }
    return documents


def otu_numbers_store(*, analyses: Iterable[Analysis]) -> None:
    """Compute and keep the matrix numbers of these ready PathoScope analyses (their `results` and index loaded)."""
    ready = [a for a in analyses if a.ready and a.results is not None and a.workflow != "nuvs"]
    documents = _documents_by_index(ready)
    for analysis in ready:
        analysis.otu_numbers = {
            "version": NUMBERS_VERSION,
            "otus": otu_numbers(analysis, documents.get(analysis.pk)),
        }
    if ready:
        Analysis.objects.bulk_update(ready, ["otu_numbers"], batch_size=200)


def _stored_numbers(analysis: Analysis) -> list[dict[str, Any]] | None:
    stored = analysis.otu_numbers
    if isinstance(stored, dict) and stored.get("version") == NUMBERS_VERSION:
        return list(stored.get("otus", []))
    return None


def _numbers_of(analyses: list[Analysis]) -> dict[str, list[dict[str, Any]]]:
    """The numbers of each analysis, computing (and keeping) those not stored yet, their results read in batches."""
    numbers: dict[str, list[dict[str, Any]]] = {}
    missing = []
    for analysis in analyses:
        stored = _stored_numbers(analysis)
        if stored is None:
            missing.append(analysis.pk)
        else:
            numbers[analysis.pk] = stored
    # A few at a time: the results of hundreds of analyses (their depth arrays) need not be in memory at once.
    for start in range(0, len(missing), NUMBERS_BATCH):
        fresh = list(Analysis.objects.select_related("index").filter(pk__in=missing[start : start + NUMBERS_BATCH]))
        otu_numbers_store(analyses=fresh)
        for analysis in fresh:
            numbers[analysis.pk] = _stored_numbers(analysis) or []
    return numbers


# --- Which analyses --------------------------------------------------------------------------------------------


@dataclass
class MatrixRequest:
    """What a matrix shows: analyses by id, or the latest ready PathoScope analysis of each sample (by id or carrying
    every label), of one reference; `labels` also filters analyses chosen by id or sample."""

    analysis_ids: list[str] = field(default_factory=list)
    sample_ids: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    ref_id: str | None = None
    include_all: bool = False
    sort: str = "sample"


def _pathoscope(queryset: Any) -> Any:
    return queryset.filter(ready=True).exclude(workflow="nuvs")


def _rows_queryset(user: User) -> Any:
    """Readable analyses (the scoping of the analyses list) with only what a row shows: its sample's name and
    labels, its reference's rules, its subtractions; never the results, the index's manifest or the job's history."""
    return (
        analysis_list(user=user)
        .select_related(None)
        .prefetch_related(None)
        .select_related("sample", "reference")
        .only(*ROW_FIELDS)
        .prefetch_related(
            Prefetch("sample__labels", queryset=Label.objects.only("id", "name", "color")),
            Prefetch("subtractions", queryset=Subtraction.objects.only("id", "name")),
        )
    )


def _by_ids(user: User, request: MatrixRequest) -> list[Analysis]:
    wanted = list(dict.fromkeys(request.analysis_ids))
    found = {a.pk: a for a in _rows_queryset(user).filter(pk__in=wanted)}
    for analysis_id in wanted:
        if analysis_id not in found:
            if Analysis.objects.filter(pk=analysis_id).exists():
                raise InsufficientRights()
            raise NotFound(f"Analysis {analysis_id} does not exist")
        analysis = found[analysis_id]
        if analysis.workflow == "nuvs":
            raise BadRequest(f"ids: analysis {analysis_id} is a NuVs analysis; the matrix shows PathoScope analyses")
        if not analysis.ready:
            raise Conflict(f"Analysis {analysis_id} is not ready yet")
        if request.ref_id and analysis.reference_id != request.ref_id:
            raise BadRequest(f"ids: analysis {analysis_id} is not of reference {request.ref_id} (ref_id)")
    analyses = [found[analysis_id] for analysis_id in wanted]
    if request.labels:
        carrying = set(sample_list(user=user, labels=request.labels).values_list("pk", flat=True))
        analyses = [a for a in analyses if a.sample_id in carrying]
    return analyses


def _latest(user: User, request: MatrixRequest) -> tuple[list[Analysis], list[dict[str, str]]]:
    """The latest ready PathoScope analysis of each chosen sample, and the chosen samples that have none."""
    samples = sample_list(user=user, labels=request.labels or None, sort="name")
    if request.sample_ids:
        wanted = list(dict.fromkeys(request.sample_ids))
        readable = dict(samples.filter(pk__in=wanted).values_list("id", "name"))
        if request.labels:
            # A label filters the selection: the samples it leaves out are not errors.
            unfiltered = set(sample_list(user=user).filter(pk__in=wanted).values_list("pk", flat=True))
        else:
            unfiltered = set(readable)
        for sample_id in wanted:
            if sample_id not in unfiltered:
                from samples.models import Sample

                if Sample.objects.filter(pk=sample_id).exists():
                    raise InsufficientRights()
                raise NotFound(f"Sample {sample_id} does not exist")
        chosen = [(sample_id, readable[sample_id]) for sample_id in wanted if sample_id in readable]
    else:
        chosen = list(samples.values_list("id", "name"))
    if len(chosen) > MATRIX_MAX_SAMPLES:
        raise BadRequest(f"label: {len(chosen)} samples; a matrix shows at most {MATRIX_MAX_SAMPLES}")
    candidates = _pathoscope(Analysis.objects.filter(sample_id__in=[sample_id for sample_id, _ in chosen]))
    if request.ref_id:
        candidates = candidates.filter(reference_id=request.ref_id)
    latest: dict[str, str] = {}
    for analysis_id, sample_id in candidates.order_by("sample_id", "-created_at", "-id").values_list("id", "sample_id"):
        latest.setdefault(sample_id, analysis_id)
    loaded = {a.pk: a for a in _rows_queryset(user).filter(pk__in=list(latest.values()))}
    analyses = [loaded[latest[sample_id]] for sample_id, _ in chosen if latest.get(sample_id) in loaded]
    missing = [{"id": sample_id, "name": name} for sample_id, name in chosen if sample_id not in latest]
    return analyses, missing


# --- The matrix ------------------------------------------------------------------------------------------------


def _cell(number: dict[str, Any], rules: CallRules, *, control_failed: bool, is_control: bool) -> dict[str, Any]:
    evidence = Evidence(
        reads=number["reads"],
        weight=number["weight"],
        median_depth=number["depth"],
        segments=tuple(Segment(name, coverage) for name, coverage in number["segments"]),
    )
    call = otu_call(evidence, rules)
    result, reasons = call.result, list(call.reasons)
    if control_failed and not is_control and result == NOT_DETECTED:
        result, reasons = INDETERMINATE, ["internal control not detected", *reasons]
    return {
        "call": result,
        "reads": number["reads"],
        "coverage": number["coverage"],
        "depth": number["depth"],
        "weight": number["weight"],
        "reasons": reasons,
    }


def _zero(call: str) -> dict[str, Any]:
    return {"call": call, "reads": 0, "coverage": 0.0, "depth": 0, "weight": 0.0}


# Shared by every zero cell (most of a large matrix): one object each, never changed.
ZERO: Final = _zero(NOT_DETECTED)
ZERO_CONTROL_FAILED: Final = _zero(INDETERMINATE)


def _sort_key(sort: str, otu_index: dict[str, int]) -> tuple[Any, bool]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "sample":
        return (lambda row: (row["sample_name"].lower(), row["sample_id"])), descending
    if key in otu_index:
        position = otu_index[key]

        def by_cell(row: dict[str, Any]) -> tuple:
            cell = row["cells"][position]
            return (CALL_RANK[cell["call"]], cell["reads"], cell["coverage"], cell["weight"])

        return by_cell, descending
    raise BadRequest(f"sort: {sort!r} is neither 'sample' nor an OTU column of this matrix (prefix '-' to reverse)")


def matrix_build(*, user: User, request: MatrixRequest) -> dict[str, Any]:
    """The matrix document: `{reference, call_rules, internal_control, otus, samples, missing, sort}`, each sample
    row with one cell per OTU column, in the order of `otus`."""
    missing: list[dict[str, str]] = []
    chosen_reference = None
    if request.ref_id:
        from references.selectors import reference_get

        chosen_reference = reference_get(reference_id=request.ref_id)  # 404 when it does not exist
    if request.analysis_ids:
        if len(request.analysis_ids) > MATRIX_MAX_SAMPLES:
            raise BadRequest(f"ids: a matrix shows at most {MATRIX_MAX_SAMPLES} analyses")
        analyses = _by_ids(user, request)
    elif request.sample_ids or request.labels:
        if len(request.sample_ids) > MATRIX_MAX_SAMPLES:
            raise BadRequest(f"sample_ids: a matrix shows at most {MATRIX_MAX_SAMPLES} samples")
        analyses, missing = _latest(user, request)
    else:
        raise BadRequest("ids, sample_ids or label: choose the analyses, the samples or a label")
    references = {a.reference_id: a.reference for a in analyses}
    if len(references) > 1:
        names = ", ".join(sorted(f"{r.name} ({r.pk})" if r else "a removed reference" for r in references.values()))
        raise BadRequest(f"ref_id: the analyses are of several references ({names}): choose one with ref_id")
    reference = next(iter(references.values()), None) if references else chosen_reference
    rules = CallRules.of(reference.call_rules if reference is not None else None)
    control_id = reference.internal_control if reference is not None else None
    numbers = _numbers_of(analyses)

    # Columns: every OTU found in at least one analysis (all of the reference's with `include_all`).
    columns: dict[str, dict[str, Any]] = {}
    for analysis in analyses:
        for number in numbers[analysis.pk]:
            columns.setdefault(
                number["id"], {"id": number["id"], "name": number["name"], "abbreviation": number["abbreviation"]}
            )
    if request.include_all and reference is not None:
        for otu_id, name, abbreviation in otu_list(reference_id=reference.pk).values_list("id", "name", "abbreviation"):
            columns.setdefault(otu_id, {"id": otu_id, "name": name, "abbreviation": abbreviation})
    order = list(columns)

    rows: list[dict[str, Any]] = []
    detected = dict.fromkeys(order, 0)
    found = dict.fromkeys(order, 0)
    for analysis in analyses:
        by_id = {number["id"]: number for number in numbers[analysis.pk]}
        control: dict[str, Any] | None = None
        control_failed = False
        if control_id:
            control_number = by_id.get(control_id)
            control_cell = (
                _cell(control_number, rules, control_failed=False, is_control=True) if control_number else ZERO
            )
            control = {"detected": control_cell["call"] == DETECTED}
            control_failed = not control["detected"]
        zero = ZERO_CONTROL_FAILED if control_failed else ZERO
        cells: dict[str, dict[str, Any]] = {}
        for otu_id, number in by_id.items():
            cell = _cell(number, rules, control_failed=control_failed, is_control=otu_id == control_id)
            cells[otu_id] = cell
            found[otu_id] += 1
            if cell["call"] == DETECTED:
                detected[otu_id] += 1
        sample = analysis.sample
        rows.append(
            {
                "sample_id": sample.pk,
                "sample_name": sample.name,
                "labels": [{"id": label.pk, "name": label.name, "color": label.color} for label in sample.labels.all()],
                "analysis_id": analysis.pk,
                "created_at": analysis.created_at,
                "reference": {"id": analysis.reference_id, "name": analysis.reference_name},
                "index_version": analysis.index_version,
                "subtractions": [{"id": s.pk, "name": s.name} for s in analysis.subtractions.all()],
                "internal_control": control,
                "_cells": cells,
                "_zero": zero,
            }
        )
    # Columns with the most detections first, then the most found, then by name.
    order.sort(key=lambda otu_id: (-detected[otu_id], -found[otu_id], columns[otu_id]["name"].lower(), otu_id))
    otu_index = {otu_id: position for position, otu_id in enumerate(order)}
    for row in rows:
        cells, zero = row.pop("_cells"), row.pop("_zero")
        row["cells"] = [cells.get(otu_id, zero) for otu_id in order]
    key, descending = _sort_key(request.sort, otu_index)
    rows.sort(key=key, reverse=descending)
    control_document = None
    if control_id:
        control_name: str | None = columns[control_id]["name"] if control_id in columns else otu_name(otu_id=control_id)
        control_document = {"id": control_id, "name": control_name}
    return {
        "reference": {"id": reference.pk, "name": reference.name} if reference is not None else None,
        "call_rules": rules.as_dict(),
        "internal_control": control_document,
        "otus": [{**columns[otu_id], "detected": detected[otu_id], "found": found[otu_id]} for otu_id in order],
        "samples": rows,
        "missing": missing,
        "sort": request.sort,
    }


# --- Rendering ---------------------------------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    from django.core.serializers.json import DjangoJSONEncoder

    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def matrix_json(matrix: dict[str, Any]) -> str:
    """The matrix document as JSON, written faster than a generic encoder would: every zero cell is one of two
    shared objects (`ZERO`, `ZERO_CONTROL_FAILED`) whose text is written once; a matrix of 500 samples by 1,500
    OTUs is mostly zeros."""
    zero, zero_failed = _dumps(ZERO), _dumps(ZERO_CONTROL_FAILED)
    rows = []
    for row in matrix["samples"]:
        cells = ",".join(
            zero if cell is ZERO else zero_failed if cell is ZERO_CONTROL_FAILED else _dumps(cell)
            for cell in row["cells"]
        )
        head = _dumps({key: value for key, value in row.items() if key != "cells"})
        rows.append(f'{head[:-1]},"cells":[{cells}]}}')
    head = _dumps({key: value for key, value in matrix.items() if key != "samples"})
    return f'{head[:-1]},"samples":[{",".join(rows)}]}}'


# --- Exports ---------------------------------------------------------------------------------------------------


def matrix_rows(matrix: dict[str, Any]) -> Iterator[list[Any]]:
    """The long form: one row per sample by OTU (every cell, zeros too), in the matrix's order."""
    otus = matrix["otus"]
    for row in matrix["samples"]:
        head = [
            row["sample_id"],
            row["sample_name"],
            row["analysis_id"],
            row["reference"]["name"],
            row["index_version"],
        ]
        for otu, cell in zip(otus, row["cells"], strict=True):
            reasons = cell.get("reasons")
            if reasons is None:
                reasons = (
                    ["internal control not detected", "no reads"] if cell["call"] == INDETERMINATE else ["no reads"]
                )
            yield [
                *head,
                otu["id"],
                otu["name"],
                cell["call"],
                cell["reads"],
                cell["coverage"],
                cell["depth"],
                cell["weight"],
                "; ".join(reasons),
            ]


def matrix_csv(matrix: dict[str, Any]) -> str:
    """The CSV export (long form, `CSV_COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(matrix_rows(matrix))
    return buffer.getvalue()


def matrix_xlsx(matrix: dict[str, Any]) -> bytes:
    """The XLSX export: sheet `Cells` with the CSV's rows, and sheet `Reads` (samples by OTUs, the reads of each
    cell, a person's view of the same numbers)."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    bold = workbook.add_format({"bold": True})
    cells = workbook.add_worksheet("Cells")
    cells.write_row(0, 0, CSV_COLUMNS, bold)
    for number, values in enumerate(matrix_rows(matrix), start=1):
        cells.write_row(number, 0, values)
    reads = workbook.add_worksheet("Reads")
    reads.write_row(0, 0, ["Sample", *(otu["name"] for otu in matrix["otus"])], bold)
    for number, row in enumerate(matrix["samples"], start=1):
        reads.write_row(number, 0, [row["sample_name"], *(cell["reads"] for cell in row["cells"])])
    workbook.close()
    return buffer.getvalue()
