"""Writes for indexes: start a build (manifest + stamped changes + job), finish it or undo it; keep built OTUs."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max

from core import events
from core.errors import Conflict
from indexes.models import Index, IndexOTU
from indexes.selectors import index_otus_frozen, index_path, unbuilt_changes, unverified_otus
from jobs.constants import ACTIVE_STATES
from jobs.services import job_attach
from otus.documents import Document
from otus.models import OTU
from otus.selectors import otu_at_version
from references.models import Reference

if TYPE_CHECKING:
    from users.models import User


@transaction.atomic
def index_create(*, reference: Reference, user: User) -> Index:
    """Start building the next index of a reference (right `build`).

    Refused (409) while another build runs, while any OTU is unverified, or when nothing changed since the
    last build. Records the manifest `{otu_id: version}`, stamps the unbuilt changes with the new index and
    queues the `build_index` job.
    """
    Reference.objects.select_for_update().filter(pk=reference.pk).first()  # one build start at a time
    if not reference.ready:
        raise Conflict("The reference is still being filled")
    if Index.objects.filter(reference=reference, ready=False, job__state__in=ACTIVE_STATES).exists():
        raise Conflict("Index build already in progress")
    unverified = list(unverified_otus(reference_id=reference.pk).values_list("name", flat=True)[:10])
    if unverified:
        raise Conflict(f"There are unverified OTUs: {', '.join(unverified)}")
    changes = unbuilt_changes(reference_id=reference.pk)
    if not changes.exists():
        raise Conflict("There are no unbuilt changes")
    last = Index.objects.filter(reference=reference).aggregate(version=Max("version"))["version"]
    manifest = dict(OTU.objects.filter(reference=reference).values_list("id", "version"))
    index = Index.objects.create(
        reference=reference, version=0 if last is None else last + 1, manifest=manifest, user=user
    )
    changes.update(index=index)
    job_attach(
        instance=index,
        workflow="build_index",
        args={
            "ref_id": reference.pk,
            "index_id": index.pk,
            "index_version": index.version,
            "user_id": user.pk,
        },
        user=user,
    )
    events.dispatch(interface="history", operation="update", ids=list(index.changes.values_list("pk", flat=True)))
    events.dispatch(interface="references", operation="update", ids=[reference.pk])
    return index


@transaction.atomic
def index_finish(*, index_id: str) -> None:
    """A build succeeded: the index is ready and its OTUs' `last_indexed_version` follow the manifest."""
    index = Index.objects.select_for_update().get(pk=index_id)
    index.ready = True
    index.has_json = True
    index.save(update_fields=["ready", "has_json"])
    by_version: dict[int, list[str]] = {}
    for otu_id, version in index.manifest.items():
        by_version.setdefault(version, []).append(otu_id)
    for version, otu_ids in by_version.items():
        OTU.objects.filter(pk__in=otu_ids, reference_id=index.reference_id).update(last_indexed_version=version)
    events.dispatch(interface="otus", operation="update", ids=list(index.manifest))
    events.dispatch(interface="references", operation="update", ids=[index.reference_id])


def index_discard(*, index_id: str) -> None:
    """A build failed or was cancelled: remove its files and row; its changes return to unbuilt."""
    with transaction.atomic():
        index = Index.objects.filter(pk=index_id).first()
        if index is None:
            return
        folder = index_path(index)
        change_ids = list(index.changes.values_list("pk", flat=True))
        reference_id = index.reference_id
        index.delete()  # history.index is SET_NULL: the changes are unbuilt again
        events.dispatch(interface="history", operation="update", ids=change_ids)
        events.dispatch(interface="references", operation="update", ids=[reference_id])
    shutil.rmtree(folder, ignore_errors=True)


@transaction.atomic
def index_otus_freeze(*, index: Index, otu_ids: Iterable[str]) -> dict[str, Document]:
    """Store these OTUs as built into the index (joined, at their manifest versions) once; return their documents.

    The documents are computed as reads computed them before they were stored: by patching back through history
    (OTUs removed since included). OTUs not in the manifest, or not found in history, are left out. Safe to run
    twice at once: a row stored meanwhile by another process wins, and is the same document.
    """
    wanted = [otu_id for otu_id in dict.fromkeys(otu_ids) if otu_id in index.manifest]
    documents = index_otus_frozen(index_id=index.pk, otu_ids=wanted)
    rows = []
    for otu_id in wanted:
        if otu_id in documents:
            continue
        version = index.manifest[otu_id]
        document = otu_at_version(otu_id=otu_id, version=version)
        if document is not None:
            documents[otu_id] = document
            rows.append(IndexOTU(index=index, otu_id=otu_id, version=version, document=document))
    IndexOTU.objects.bulk_create(rows, ignore_conflicts=True)
    return documents
