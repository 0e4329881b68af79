"""Reads for OTUs, sequences and history: joined documents, search, patching to earlier versions, FASTA."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypedDict

from django.db.models import Count, Q, QuerySet

from core.errors import NotFound
from otus import documents
from otus.documents import Document
from otus.models import OTU, Change, Sequence


class Contributor(TypedDict):
    """Someone who made changes, and how many (`id` is None for changes whose user was deleted)."""

    id: int | None
    handle: str
    count: int


def otu_get(*, otu_id: str) -> OTU:
    """One OTU or 404."""
    otu = OTU.objects.select_related("reference").filter(pk=otu_id).first()
    if otu is None:
        raise NotFound("OTU does not exist")
    return otu


def otu_name(*, otu_id: str) -> str | None:
    """The name of an OTU (None when there is none with this id)."""
    return OTU.objects.filter(pk=otu_id).values_list("name", flat=True).first()


def otu_joined(*, otu_id: str) -> Document | None:
    """The current joined OTU, or None when there is no such OTU."""
    otu = OTU.objects.filter(pk=otu_id).first()
    return documents.join(otu) if otu else None


def otus_joined(*, otu_ids: list[str] | None = None, reference_id: str | None = None) -> Iterator[Document]:
    """Joined OTUs in bulk (two queries per chunk), ordered by name."""
    queryset = OTU.objects.all()
    if reference_id is not None:
        queryset = queryset.filter(reference_id=reference_id)
    if otu_ids is not None:
        queryset = queryset.filter(pk__in=otu_ids)
    ids = list(queryset.order_by("name", "id").values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        otus = {otu.pk: otu for otu in OTU.objects.filter(pk__in=chunk)}
        sequences: dict[str, list[Sequence]] = {pk: [] for pk in chunk}
        for sequence in Sequence.objects.filter(otu_id__in=chunk).order_by("position", "id"):
            sequences[sequence.otu_id].append(sequence)
        for pk in chunk:
            yield documents.join(otus[pk], sequences[pk])


def otu_list(*, reference_id: str, find: str = "", verified: bool | None = None) -> QuerySet[OTU]:
    """OTUs of a reference matching a name or abbreviation fragment, by name."""
    queryset = OTU.objects.filter(reference_id=reference_id)
    if find:
        queryset = queryset.filter(Q(name__icontains=find) | Q(abbreviation__icontains=find))
    if verified is not None:
        queryset = queryset.filter(verified=verified)
    return queryset.order_by("name", "id")


def otu_walk_back(*, otu_id: str, current: Document | None = None) -> Iterator[tuple[int | None, Document | None]]:
    """Yield (version, document) going back through the OTU's history, starting with the current state.

    Each step undoes one change (newest first); the last document yielded is the state before the OTU existed.
    """
    patched = current if current is not None else otu_joined(otu_id=otu_id)
    yield (patched["version"] if patched else None), patched
    for change in Change.objects.filter(otu_id=otu_id).order_by("-pk").iterator():
        patched = documents.unpatch(patched, change.method_name, change.diff)
        yield (patched["version"] if patched else None), patched


def otu_at_version(*, otu_id: str, version: int, current: Document | None = None) -> Document | None:
    """The joined OTU as it was at `version` (None when it did not exist then), by patching backwards."""
    for step, (at, document) in enumerate(otu_walk_back(otu_id=otu_id, current=current)):
        if document is None:
            if step == 0:
                continue  # removed now: walk back through the removal
            return None
        if at is not None and at <= version:
            return document if at == version else None
    return None


def sequence_get(*, otu_id: str, isolate_id: str, sequence_id: str) -> Sequence:
    """One sequence of an isolate, or 404."""
    sequence = Sequence.objects.filter(pk=sequence_id, otu_id=otu_id, isolate_id=isolate_id).first()
    if sequence is None:
        raise NotFound("Sequence does not exist")
    return sequence


def isolate_get(*, otu: OTU, isolate_id: str) -> Document:
    """One isolate of an OTU, or 404."""
    isolate: Document | None = next((i for i in otu.isolates if i["id"] == isolate_id), None)
    if isolate is None:
        raise NotFound("Isolate does not exist")
    return isolate


def fasta_entry(otu_name: str, isolate: Document, sequence_id: str, sequence: str) -> str:
    """One FASTA record: `>Otu name|Isolate name|sequence_id|length` (Virtool's download format)."""
    header = "|".join((otu_name, documents.isolate_name(isolate), sequence_id, str(len(sequence))))
    return f">{header}\n{sequence}"


def fasta_filename(*parts: str) -> str:
    """A safe file name from OTU, isolate and sequence names."""
    cleaned = ["".join(c if c.isalnum() or c in "-_." else "_" for c in part.lower()).strip("_") for part in parts]
    return ".".join(cleaned) + ".fa"


def history_list(
    *,
    reference_id: str | None = None,
    otu_id: str | None = None,
    index_id: str | None = None,
    unbuilt: bool | None = None,
) -> QuerySet[Change]:
    """History changes, newest first."""
    queryset = Change.objects.select_related("user", "index", "reference")
    if reference_id is not None:
        queryset = queryset.filter(reference_id=reference_id)
    if otu_id is not None:
        queryset = queryset.filter(otu_id=otu_id)
    if index_id is not None:
        queryset = queryset.filter(index_id=index_id)
    if unbuilt is not None:
        queryset = queryset.filter(index__isnull=unbuilt)
    return queryset.order_by("-created_at", "-pk")


def change_get(*, change_id: str) -> Change:
    """One change or 404."""
    change = Change.objects.select_related("user", "index", "reference").filter(change_id=change_id).first()
    if change is None:
        raise NotFound("Change does not exist")
    return change


def contributors(*, queryset: QuerySet[Change]) -> list[Contributor]:
    """Who made the changes of a queryset: [{id, handle, count}], most active first."""
    rows = queryset.order_by().values("user_id", "user__handle").annotate(count=Count("pk")).order_by("-count")
    return [
        {"id": row["user_id"], "handle": row["user__handle"] or "Unknown User", "count": row["count"]} for row in rows
    ]


# --- Remote references: what a release would change ----------------------------------------------------------

# History methods that bring an OTU in line with the remote reference (anything else since is a local edit).
REMOTE_METHODS = ("remote", "update")


def release_form(otu: Document, *, source: bool) -> Document:
    """What a release decides of an OTU, in one comparable form: a joined OTU (`source=False`, sequences known by
    their remote ids) or an OTU of a release file (`source=True`, sequences by their `_id`)."""
    isolates = otu.get("isolates") or []
    has_default = any(isolate.get("default") for isolate in isolates)
    return {
        "name": (otu.get("name") or "").strip(),
        "abbreviation": (otu.get("abbreviation") or "").strip(),
        "schema": otu.get("schema") or [],
        "isolates": [
            {
                "id": isolate.get("id"),
                "default": bool(isolate.get("default")) if has_default else position == 0,
                "source_type": isolate.get("source_type") or "",
                "source_name": isolate.get("source_name") or "",
                "sequences": [
                    {
                        "remote": sequence.get("_id") if source else (sequence.get("remote") or {}).get("id"),
                        "accession": sequence.get("accession") or "",
                        "definition": sequence.get("definition") or "",
                        "host": sequence.get("host") or "",
                        "segment": sequence.get("segment") or None,
                        "sequence": "".join((sequence.get("sequence") or "").split()).upper(),
                        "target": sequence.get("target") or None,
                    }
                    for sequence in isolate.get("sequences") or []
                ],
            }
            for position, isolate in enumerate(isolates)
        ],
    }


class PlannedOTU(TypedDict):
    """An OTU of the reference that a release changes: its id and name here, and whether it was edited here since
    it last came from the remote reference (an update replaces such edits; history keeps them)."""

    id: str
    name: str
    local_changes: bool


class ReleasePlan(TypedDict):
    """What installing a release's OTUs would do to a remote reference (Virtool's update, matched by remote id)."""

    updated: list[PlannedOTU]
    created: list[Document]  # OTUs of the release (file shape) that the reference lacks
    removed: list[PlannedOTU]
    unchanged: int
    kept: list[PlannedOTU]  # OTUs made here (no remote id): an update leaves them as they are


def release_plan(*, reference_id: str, otus: list[Document]) -> ReleasePlan:
    """Compare a release's OTUs with the reference's, by remote id."""
    by_remote = {source["_id"]: source for source in otus}
    local = {otu.pk: otu for otu in OTU.objects.filter(reference_id=reference_id)}
    last_methods: dict[str, str] = {}
    for otu_id, method_name in (
        Change.objects.filter(reference_id=reference_id).order_by("otu_id", "pk").values_list("otu_id", "method_name")
    ):
        last_methods[otu_id] = method_name  # the last one wins: each OTU's newest change
    plan: ReleasePlan = {"updated": [], "created": [], "removed": [], "unchanged": 0, "kept": []}
    joined = {document["_id"]: document for document in otus_joined(reference_id=reference_id)}
    matched: set[str] = set()
    for otu_id, otu in sorted(local.items(), key=lambda item: (item[1].name.lower(), item[0])):
        entry: PlannedOTU = {
            "id": otu_id,
            "name": otu.name,
            "local_changes": last_methods.get(otu_id) not in REMOTE_METHODS,
        }
        if not otu.remote_id:
            plan["kept"].append({**entry, "local_changes": True})
            continue
        source = by_remote.get(otu.remote_id)
        if source is None:
            plan["removed"].append(entry)
            continue
        matched.add(otu.remote_id)
        if release_form(joined[otu_id], source=False) == release_form(source, source=True):
            plan["unchanged"] += 1
        else:
            plan["updated"].append(entry)
    plan["created"] = [source for remote_id, source in by_remote.items() if remote_id not in matched]
    return plan
