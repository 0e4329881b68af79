"""Index documents (Virtool's shape)."""

from __future__ import annotations

from typing import Any

from indexes.models import Index
from indexes.selectors import index_files, index_otus


def index_document(index: Index, *, detail: bool = True) -> dict[str, Any]:
    """An index with its change counts; the detail adds contributors, OTUs, files and the manifest."""
    from otus.selectors import contributors, history_list

    document: dict[str, Any] = {
        "id": index.pk,
        "version": index.version,
        "created_at": index.created_at,
        "ready": index.ready,
        "has_files": index.has_files,
        "has_json": index.has_json,
        "job": {"id": index.job_id, "state": index.job.state, "progress": index.job.progress} if index.job_id else None,
        "reference": {"id": index.reference_id, "name": index.reference.name, "data_type": index.reference.data_type},
        "user": {"id": index.user_id, "handle": index.user.handle} if index.user_id else None,
        "change_count": getattr(index, "change_count", None),
        "modified_otu_count": getattr(index, "modified_otu_count", None),
    }
    if detail:
        document["contributors"] = contributors(queryset=history_list(index_id=index.pk))
        document["otus"] = index_otus(index)
        document["files"] = index_files(index)
        document["manifest"] = index.manifest
    return document
