"""Virtool's OTU documents: the joined OTU, verification, history descriptions, and patching through history.

Pure functions over plain dicts (no database), so that services, index builds and exports share them.
"""

from __future__ import annotations

import copy
from typing import Any

import dictdiffer

from otus.models import OTU, Sequence

Document = dict[str, Any]


def isolate_name(isolate: Document) -> str:
    """A readable isolate name, e.g. "Isolate 8816-s2" (Virtool's `format_isolate_name`)."""
    if not isolate.get("source_type") or not isolate.get("source_name"):
        return "Unnamed Isolate"
    return " ".join((isolate["source_type"].capitalize(), isolate["source_name"]))


def sequence_document(sequence: Sequence) -> Document:
    """A sequence as Virtool stores it (the joined OTU nests these under their isolates)."""
    document: Document = {
        "_id": sequence.id,
        "accession": sequence.accession,
        "definition": sequence.definition,
        "host": sequence.host,
        "isolate_id": sequence.isolate_id,
        "otu_id": sequence.otu_id,
        "reference": {"id": sequence.reference_id},
        "segment": sequence.segment,
        "sequence": sequence.sequence,
        "target": sequence.target,
    }
    if sequence.remote_id:
        document["remote"] = {"id": sequence.remote_id}
    return document


def otu_document(otu: OTU) -> Document:
    """An OTU row as Virtool's document (isolates without sequences).

    OTUs created through the API carry exactly the keys Virtool's `create` writes; imported and cloned ones
    also carry what Virtool's import adds (`created_at`, `imported`, `remote`, `user`).
    """
    document: Document = {
        "_id": otu.id,
        "abbreviation": otu.abbreviation,
        "isolates": copy.deepcopy(otu.isolates),
        "last_indexed_version": otu.last_indexed_version,
        "lower_name": otu.name.lower(),
        "name": otu.name,
        "reference": {"id": otu.reference_id},
        "schema": copy.deepcopy(otu.schema),
        "verified": otu.verified,
        "version": otu.version,
    }
    if otu.imported:
        document["created_at"] = otu.created_at.isoformat()
        document["imported"] = True
        document["remote"] = {"id": otu.remote_id} if otu.remote_id else None
        document["user"] = {"id": otu.user_id}
    return document


def merge(document: Document, sequences: list[Document]) -> Document:
    """Nest sequence documents under their isolates (Virtool's `merge_otu`)."""
    merged = copy.deepcopy(document)
    for isolate in merged["isolates"]:
        isolate["sequences"] = [s for s in sequences if s["isolate_id"] == isolate["id"]]
    return merged


def join(otu: OTU, sequences: list[Sequence] | None = None) -> Document:
    """The joined OTU: the OTU document with its sequences (in insertion order) under each isolate."""
    if sequences is None:
        sequences = list(otu.sequences.order_by("position", "id"))
    return merge(otu_document(otu), [sequence_document(s) for s in sequences])


def split(joined: Document) -> tuple[Document, list[Document]]:
    """The OTU document and its sequence documents, from a joined OTU."""
    document = copy.deepcopy(joined)
    sequences: list[Document] = []
    for isolate in document["isolates"]:
        sequences.extend(isolate.pop("sequences", []))
    return document, sequences


def verify(joined: Document) -> Document | None:
    """Why an OTU cannot be built into an index, or None when it can (Virtool's `verify`)."""
    errors: Document = {
        "empty_otu": len(joined["isolates"]) == 0,
        "empty_isolate": [],
        "empty_sequence": [],
        "isolate_inconsistency": False,
    }
    counts = []
    for isolate in joined["isolates"]:
        sequences = isolate.get("sequences", [])
        if not sequences:
            errors["empty_isolate"].append(isolate["id"])
        counts.append(len(sequences))
        errors["empty_sequence"] += [s for s in sequences if len(s["sequence"]) == 0]
    errors["isolate_inconsistency"] = len(set(counts)) != 1 and not (errors["empty_otu"] or errors["empty_isolate"])
    if not any(errors.values()):
        return None
    return {key: value if value else False for key, value in errors.items()}


def diff(old: Document, new: Document) -> list:
    """The history diff of an edit, as JSON (tuples become lists, as in Virtool's stored changes)."""
    return _jsonable(list(dictdiffer.diff(old, new)))


def _jsonable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


def unpatch(document: Document | None, method_name: str, change_diff: Any) -> Document | None:
    """Undo one change: the OTU as it was before it (None before its creation)."""
    if method_name == "remove":
        return copy.deepcopy(change_diff)
    if method_name in ("create", "import", "clone", "remote"):
        return None
    return dictdiffer.patch(dictdiffer.swap(change_diff), document)


# --- History descriptions (Virtool's wording) ------------------------------------------------------------------


def describe_create(name: str, abbreviation: str) -> str:
    """ "Created Tobacco mosaic virus (TMV)"."""
    return f"Created {name} ({abbreviation})" if abbreviation else f"Created {name}"


def describe_remove(name: str, abbreviation: str) -> str:
    """ "Removed Tobacco mosaic virus (TMV)"."""
    return f"Removed {name} ({abbreviation})" if abbreviation else f"Removed {name}"


def describe_method(method_name: str, name: str, abbreviation: str) -> str:
    """ "Imported X (ABBR)", "Cloned X": Virtool's `compose_history_description`."""
    suffix = "" if method_name.endswith("e") else "e"
    description = f"{method_name.capitalize()}{suffix}d {name}"
    return f"{description} ({abbreviation})" if abbreviation else description


def describe_edit(name: str | None, abbreviation: str | None, old_abbreviation: str, schema: list | None) -> str | None:
    """The description of an OTU edit from what changed (None: that field did not change)."""
    description = f"Changed name to {name}" if name else None
    if abbreviation is not None:
        if abbreviation == "" and old_abbreviation:
            phrase = f"removed abbreviation {old_abbreviation}"
        elif abbreviation and not old_abbreviation:
            phrase = f"added abbreviation {abbreviation}"
        else:
            phrase = f"changed abbreviation to {abbreviation}"
        description = f"{description} and {phrase}" if description else phrase[:1].upper() + phrase[1:]
    if schema is not None:
        description = f"{description} and modified schema" if description else "Modified schema"
    return description
