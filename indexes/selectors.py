"""Reads for indexes, and the reference documents that builds and exports are made from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, QuerySet

from core.errors import NotFound
from files.storage import FileDocument, files_present
from indexes.constants import INDEX_FILES
from indexes.models import Index, IndexOTU
from otus.documents import Document
from otus.selectors import history_list, otu_at_version, otu_walk_back, otus_joined
from references.formats import export_otu
from references.models import Reference
from references.selectors import references_path

if TYPE_CHECKING:
    from otus.models import OTU, Change


class UnbuiltStats(TypedDict):
    """What the index lists report beside their pages, as Virtool does: OTUs in all, unbuilt changes, the OTUs
    those changes touch. The client reads them to offer (or refuse) a rebuild."""

    total_otu_count: int
    change_count: int
    modified_otu_count: int


def unbuilt_stats(*, reference_id: str | None = None) -> UnbuiltStats:
    """Unbuilt-change counts of one reference, or of every reference."""
    from otus.models import OTU

    otus = OTU.objects.all() if reference_id is None else OTU.objects.filter(reference_id=reference_id)
    unbuilt = history_list(reference_id=reference_id, unbuilt=True).order_by()
    return {
        "total_otu_count": otus.count(),
        "change_count": unbuilt.count(),
        "modified_otu_count": unbuilt.values("otu_id").distinct().count(),
    }


class IndexOTUSummary(TypedDict):
    """An OTU changed in a build: its id, its name in those changes, and how many there were."""

    id: str
    name: str | None
    change_count: int


def index_path(index: Index) -> Path:
    """`<data_path>/references/<ref>/<index>`."""
    return references_path(index.reference_id) / index.pk


def index_queryset() -> QuerySet[Index]:
    """Indexes with their change counts."""
    return Index.objects.select_related("reference", "user", "job__user").annotate(
        change_count=Count("changes", distinct=True),
        modified_otu_count=Count("changes__otu_id", distinct=True),
    )


def index_list(*, reference_id: str | None = None, ready: bool | None = None) -> QuerySet[Index]:
    """Indexes, newest version first."""
    queryset = index_queryset()
    if reference_id is not None:
        queryset = queryset.filter(reference_id=reference_id)
    if ready is not None:
        queryset = queryset.filter(ready=ready)
    return queryset.order_by("-created_at", "-version")


def index_get(*, index_id: str) -> Index:
    """One index or 404."""
    index = index_queryset().filter(pk=index_id).first()
    if index is None:
        raise NotFound("Index does not exist")
    return index


def index_current(*, reference_id: str) -> Index | None:
    """The newest ready index of a reference (what analyses use)."""
    return Index.objects.filter(reference_id=reference_id, ready=True).order_by("-version").first()


def index_files(*, index: Index) -> list[FileDocument]:
    """The files of a build present on disk: [{name, type, size, download_url}]."""
    return files_present(index_path(index), INDEX_FILES, f"/indexes/{index.pk}/files")


def index_otus(*, index: Index) -> list[IndexOTUSummary]:
    """The OTUs changed in this build: [{id, name, change_count}]."""
    rows = index.changes.order_by().values("otu_id").annotate(change_count=Count("pk")).order_by("otu_id")
    names = dict(index.changes.order_by("pk").values_list("otu_id", "otu_name"))
    return [
        {"id": row["otu_id"], "name": names.get(row["otu_id"]), "change_count": row["change_count"]} for row in rows
    ]


def manifest_otus(*, manifest: dict[str, int]) -> Iterator[Document | None]:
    """Joined OTUs at their manifest versions (patched back when they changed since), by name; None for an OTU
    that history cannot take back to its version."""
    for current in otus_joined(otu_ids=list(manifest)):
        version = manifest[current["_id"]]
        yield (
            current
            if current["version"] == version
            else otu_at_version(otu_id=current["_id"], version=version, current=current)
        )


def index_otus_frozen(*, index_id: str, otu_ids: Iterable[str]) -> dict[str, Document]:
    """The joined documents of these OTUs as built into an index, for those stored so far (`index_otus_freeze`)."""
    rows = IndexOTU.objects.filter(index_id=index_id, otu_id__in=list(otu_ids)).values_list("otu_id", "document")
    return dict(rows)


def reference_document(*, reference: Reference, scope: str = "unbuilt") -> Document:
    """The reference in Virtool's file format.

    Scopes as Virtool's export: `built` (each OTU at its last indexed version; never-built OTUs left out),
    `unbuilt` (each OTU at its newest verified version), `remote` (like built, with the ids of the file the
    OTUs came from).
    """
    otus: list[Document] = []
    for current in otus_joined(reference_id=reference.pk):
        document: Document | None = None
        if scope in ("built", "remote"):
            if current["last_indexed_version"] is not None:
                document = otu_at_version(
                    otu_id=current["_id"], version=current["last_indexed_version"], current=current
                )
        else:
            document = next(
                (doc for _, doc in otu_walk_back(otu_id=current["_id"], current=current) if doc and doc["verified"]),
                None,
            )
        if document is not None:
            otus.append(export_otu(document, remote=scope == "remote"))
    return {
        "name": reference.name,
        "created_at": reference.created_at.isoformat(),
        "data_type": reference.data_type,
        "organism": reference.organism,
        "targets": reference.targets,
        "otus": otus,
    }


def unbuilt_changes(*, reference_id: str) -> QuerySet[Change]:
    """Changes of a reference not yet in any index."""
    from otus.models import Change

    return Change.objects.filter(reference_id=reference_id, index__isnull=True)


def unverified_otus(*, reference_id: str) -> QuerySet[OTU]:
    """OTUs of a reference that cannot be built."""
    from otus.models import OTU

    return OTU.objects.filter(reference_id=reference_id, verified=False)
