"""Virtool's reference file format (`reference.json.gz`) and plain multi-FASTA: read, validate, write.

A reference file is gzip-compressed JSON:
    {data_type, organism, targets, name?, created_at?, otus: [{_id, name, abbreviation, schema,
     isolates: [{id, source_type, source_name, default, sequences: [{_id, accession, definition, host,
     sequence, segment?, target?}]}]}]}
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from core import seqio
from core.errors import BadRequest, Problem
from references.constants import MIN_IMPORT_SEQUENCE_LENGTH, DataType

Document = dict[str, Any]

MAX_PROBLEMS = 200  # enough to fix a file in one go without an unreadable wall of text


class ReferenceFileError(BadRequest):
    """The file cannot become a reference; `errors` lists every problem found."""

    error_id = "invalid_input"


def read_reference_file(path: Path) -> Document:
    """Read a Virtool reference export or a multi-FASTA file (gzip or not) as a reference document."""
    try:
        with seqio.open_read(path) as handle:
            head = handle.read(1 << 16)
            first = head.lstrip()[:1]
            if first == b"{":
                data = json.loads((head + handle.read()).decode("utf-8", errors="replace"))
        if first == b">":
            return read_fasta(path)  # record by record, never the whole text
        if first != b"{":
            raise ReferenceFileError(
                "The file is neither a Virtool reference (reference.json.gz) nor a FASTA file",
                errors=[{"loc": [], "msg": "the file starts with neither '{' nor '>'"}],
            )
    except seqio.DECOMPRESSION_ERRORS as error:
        raise ReferenceFileError(f"The file cannot be read: {error}") from None
    except json.JSONDecodeError as error:
        raise ReferenceFileError(f"The file is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ReferenceFileError("The file is not a Virtool reference: expected a JSON object")
    return data


_ACCESSION = re.compile(r"^[A-Za-z]{1,6}_?\d+(\.\d+)?$")
_NAME_SUFFIX = re.compile(r",?\s*(complete|partial)\s+(genome|sequence|cds).*$", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def read_fasta(path: Path) -> Document:
    """One OTU per FASTA record: `>ACCESSION Name of the virus ...` (or `>Name`), one isolate, one sequence."""
    try:
        otus = [_fasta_otu(record) for record in seqio.read_fasta(path)]
    except seqio.SequenceFormatError as error:
        raise ReferenceFileError(
            f"The FASTA file cannot be read: {error}", errors=[{"loc": [], "msg": str(error)}]
        ) from None
    return {"data_type": DataType.GENOME, "organism": "", "targets": None, "otus": otus, "format": "fasta"}


def _fasta_otu(record: seqio.FastaRecord) -> Document:
    header = record.name.strip()
    words = header.split(None, 1)
    if words and _ACCESSION.match(words[0]) and len(words) == 2:
        accession, definition = words[0], words[1].strip()
    else:
        accession, definition = (words[0] if words else ""), header
    name = _NAME_SUFFIX.sub("", definition).strip()
    return {
        "_id": None,
        "name": name or definition,
        "abbreviation": "",
        "schema": [],
        "isolates": [
            {
                "id": None,
                "source_type": "unknown",
                "source_name": "",
                "default": True,
                "sequences": [
                    {
                        "_id": None,
                        "accession": accession,
                        "definition": definition,
                        "host": "",
                        "segment": None,
                        "sequence": _WHITESPACE.sub("", record.sequence).upper(),
                    }
                ],
            }
        ],
    }


_NUCLEOTIDES = re.compile(r"^[ACGTURYSWKMBDHVNacgturyswkmbdhvn]*$")


def validate(data: Document) -> list[Problem]:
    """Every problem that stops `data` from becoming a reference (Virtool's ReferenceSourceData checks)."""
    problems: list[Problem] = []

    def problem(loc: list[str | int], msg: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append({"loc": loc, "msg": msg})

    if data.get("data_type", "genome") not in DataType.values:
        problem(["data_type"], f"data_type must be one of {', '.join(DataType.values)}")
    otus = data.get("otus")
    if not isinstance(otus, list) or not otus:
        problem(["otus"], "the reference has no OTUs")
        return problems
    names: dict[str, int] = {}
    abbreviations: dict[str, int] = {}
    otu_ids: dict[str, int] = {}
    sequence_ids: dict[str, list[str | int]] = {}
    for index, otu in enumerate(otus):
        if not isinstance(otu, dict):
            problem(["otus", index], "an OTU must be an object")
            continue
        name = otu.get("name")
        label = f"OTU {name!r}" if name else f"OTU #{index + 1}"
        if not isinstance(name, str) or not name.strip():
            problem(["otus", index, "name"], f"{label} has no name")
        else:
            key = name.strip().lower()
            if key in names:
                problem(["otus", index, "name"], f"Duplicate OTU name {name!r} (also OTU #{names[key] + 1})")
            else:
                names[key] = index
        abbreviation = otu.get("abbreviation") or ""
        if abbreviation:
            if abbreviation in abbreviations:
                problem(
                    ["otus", index, "abbreviation"],
                    f"Duplicate abbreviation {abbreviation!r} in {label} (also OTU #{abbreviations[abbreviation] + 1})",
                )
            else:
                abbreviations[abbreviation] = index
        otu_id = otu.get("_id")
        if otu_id is not None:
            if otu_id in otu_ids:
                problem(["otus", index, "_id"], f"Duplicate OTU id {otu_id!r} in {label}")
            else:
                otu_ids[otu_id] = index
        isolates = otu.get("isolates")
        if not isinstance(isolates, list) or not isolates:
            problem(["otus", index, "isolates"], f"{label} has no isolates")
            continue
        isolate_ids: set[Any] = set()
        for isolate_index, isolate in enumerate(isolates):
            loc: list[str | int] = ["otus", index, "isolates", isolate_index]
            if not isinstance(isolate, dict):
                problem(loc, f"An isolate of {label} is not an object")
                continue
            isolate_id = isolate.get("id")
            if isolate_id is not None:
                if isolate_id in isolate_ids:
                    problem([*loc, "id"], f"Duplicate isolate id {isolate_id!r} in {label}")
                isolate_ids.add(isolate_id)
            sequences = isolate.get("sequences")
            if not isinstance(sequences, list) or not sequences:
                problem([*loc, "sequences"], f"Isolate {isolate_id or isolate_index + 1} of {label} has no sequences")
                continue
            for sequence_index, sequence in enumerate(sequences):
                sloc: list[str | int] = [*loc, "sequences", sequence_index]
                if not isinstance(sequence, dict):
                    problem(sloc, f"A sequence of {label} is not an object")
                    continue
                sequence_id = sequence.get("_id")
                accession = sequence.get("accession") or sequence_id or f"#{sequence_index + 1}"
                if sequence_id is not None:
                    if sequence_id in sequence_ids:
                        problem([*sloc, "_id"], f"Duplicate sequence id {sequence_id!r} in {label}")
                    else:
                        sequence_ids[sequence_id] = sloc
                nucleotides = sequence.get("sequence")
                if not isinstance(nucleotides, str):
                    problem([*sloc, "sequence"], f"Sequence {accession} of {label} has no nucleotides")
                    continue
                if len(nucleotides) < MIN_IMPORT_SEQUENCE_LENGTH:
                    problem(
                        [*sloc, "sequence"],
                        f"Sequence {accession} of {label} is {len(nucleotides)} nt long; "
                        f"at least {MIN_IMPORT_SEQUENCE_LENGTH} are needed",
                    )
                elif not _NUCLEOTIDES.match(nucleotides):
                    problem(
                        [*sloc, "sequence"], f"Sequence {accession} of {label} has characters that are not nucleotides"
                    )
                for field in ("accession", "definition"):
                    if not isinstance(sequence.get(field), str):
                        problem([*sloc, field], f"Sequence {accession} of {label} has no {field}")
    return problems


def write_reference_file(path: Path, document: Document) -> None:
    """Write a reference document as `reference.json.gz`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with seqio.open_gzip_write(path) as raw, io.TextIOWrapper(raw, encoding="utf-8") as handle:
        json.dump(document, handle)


def export_otu(joined: Document, remote: bool = False) -> Document:
    """A joined OTU cleaned to the file format's keys (remote ids instead of ours when `remote`)."""

    def ident(document: Document, key: str) -> Any:
        if remote and document.get("remote"):
            return document["remote"]["id"]
        return document[key]

    return {
        "_id": ident(joined, "_id"),
        "name": joined["name"],
        "abbreviation": joined["abbreviation"],
        "schema": joined["schema"],
        "isolates": [
            {
                "id": isolate["id"],
                "source_type": isolate["source_type"],
                "source_name": isolate["source_name"],
                "default": isolate["default"],
                "sequences": [
                    {
                        "_id": ident(sequence, "_id"),
                        "accession": sequence["accession"],
                        "definition": sequence["definition"],
                        "host": sequence["host"],
                        "sequence": sequence["sequence"],
                        "segment": sequence.get("segment"),
                        **({"target": sequence["target"]} if sequence.get("target") else {}),
                    }
                    for sequence in isolate["sequences"]
                ],
            }
            for isolate in joined["isolates"]
        ],
    }
