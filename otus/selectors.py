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
