"""Writes for OTUs, isolates and sequences. Every change bumps the OTU's version and records its history.

Each service locks the OTU row, joins it before the change, applies the change, re-verifies, joins it after,
and stores the change with Virtool's diff: the full document for create and remove, the dictdiffer diff of
the joined OTU otherwise. References rights are checked by the caller (`modify_otu`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import arrow
from django.db import transaction

from core import events
from core.errors import BadRequest, Conflict, NotFound
from core.ids import new_id
from otus import documents
from otus.documents import Document
from otus.models import OTU, Change, Sequence
from references.models import Reference

if TYPE_CHECKING:
    from users.models import User

# IUPAC nucleotide letters (with U); whitespace is removed before checking.
SEQUENCE_PATTERN = re.compile(r"^[ACGTURYSWKMBDHVN]+$")


def _user_id(user: User | None) -> int | None:
    return None if user is None else user.id


def change_record(
    *, method_name: str, old: Document | None, new: Document | None, description: str, user: User | None
) -> Change:
    """Store one history change for the transition `old` → `new` of a joined OTU."""
    basis = new if new is not None else old
    assert basis is not None
    name = old["name"] if old is not None else basis["name"]
    version = new["version"] if new is not None else None
    if method_name == "remove":
        change_diff: Any = old
    elif old is None:
        change_diff = new
    else:
        assert new is not None  # only a removal leaves no document
        change_diff = documents.diff(old, new)
    return Change.objects.create(
        change_id=f"{basis['_id']}.{'removed' if version is None else version}",
        reference_id=basis["reference"]["id"],
        otu_id=basis["_id"],
        otu_name=name,
        otu_version=version,
        method_name=method_name,
        description=description,
        user_id=_user_id(user),
        diff=change_diff,
    )


def _dispatch_reference(reference_id: str) -> None:
    # otu_count, unbuilt_change_count and contributors change with every OTU edit.
    events.dispatch(interface="references", operation="update", ids=[reference_id])


def _locked(otu_id: str) -> OTU:
    otu = OTU.objects.select_for_update().filter(pk=otu_id).first()
    if otu is None:
        raise NotFound("OTU does not exist")
    return otu


def _commit(otu: OTU, old: Document, method_name: str, description: str, user: User | None) -> OTU:
    """Bump the version, re-verify, save, and record the change from `old`."""
    otu.version += 1
    new = documents.join(otu)
    otu.verified = documents.verify(new) is None
    new["verified"] = otu.verified
    otu.save()
    change_record(method_name=method_name, old=old, new=new, description=description, user=user)
    _dispatch_reference(otu.reference_id)
    return otu


def _check_unique(reference: Reference, name: str | None, abbreviation: str | None, exclude: str | None = None) -> None:
    queryset = OTU.objects.filter(reference=reference)
    if exclude:
        queryset = queryset.exclude(pk=exclude)
    name_taken = bool(name) and queryset.filter(name__iexact=name).exists()
    abbreviation_taken = bool(abbreviation) and queryset.filter(abbreviation=abbreviation).exists()
    if name_taken and abbreviation_taken:
        raise BadRequest("Name and abbreviation already exist")
    if name_taken:
        raise BadRequest("Name already exists")
    if abbreviation_taken:
        raise BadRequest("Abbreviation already exists")


@transaction.atomic
def otu_create(*, reference: Reference, data: dict[str, Any], user: User) -> OTU:
    """Create an OTU (no isolates yet, so unverified)."""
    name = data["name"].strip()
    abbreviation = data.get("abbreviation", "").strip()
    _check_unique(reference, name, abbreviation)
    otu = OTU.objects.create(
        reference=reference, name=name, abbreviation=abbreviation, schema=data.get("schema", []), user=user
    )
    new = documents.join(otu, [])
    change_record(
        method_name="create", old=None, new=new, description=documents.describe_create(name, abbreviation), user=user
    )
    _dispatch_reference(reference.pk)
    return otu


@transaction.atomic
def otu_update(*, otu_id: str, data: dict[str, Any], user: User) -> OTU:
    """Edit name, abbreviation or schema; sequences of segments dropped from the schema lose their segment."""
    otu = _locked(otu_id)
    name = data["name"].strip() if "name" in data else None
    abbreviation = data["abbreviation"].strip() if "abbreviation" in data else None
    schema = data.get("schema")
    if name == otu.name:
        name = None
    if abbreviation == otu.abbreviation:
        abbreviation = None
    if schema == otu.schema:
        schema = None
    if name is None and abbreviation is None and schema is None:
        return otu
    _check_unique(otu.reference, name, abbreviation, exclude=otu.pk)
    old = documents.join(otu)
    description = documents.describe_edit(name, abbreviation, otu.abbreviation, schema)
    if name is not None:
        otu.name = name
    if abbreviation is not None:
        otu.abbreviation = abbreviation
    if schema is not None:
        dropped = {s["name"] for s in otu.schema} - {s["name"] for s in schema}
        if dropped:
            Sequence.objects.filter(otu=otu, segment__in=dropped).update(segment=None)
        otu.schema = schema
    return _commit(otu, old, "edit", description or "", user)


@transaction.atomic
def otu_remove(*, otu_id: str, user: User) -> None:
    """Remove an OTU and its sequences; the change keeps the whole document so that it can be reverted."""
    otu = _locked(otu_id)
    old = documents.join(otu)
    reference_id = otu.reference_id
    Reference.objects.filter(pk=reference_id, internal_control=otu.pk).update(internal_control=None)
    otu.delete()
    change_record(
        method_name="remove",
        old=old,
        new=None,
        description=documents.describe_remove(old["name"], old["abbreviation"]),
        user=user,
    )
    _dispatch_reference(reference_id)


def _source_type(reference: Reference, source_type: str) -> str:
    source_type = source_type.strip().lower()
    if reference.restrict_source_types and source_type not in [s.lower() for s in reference.source_types]:
        raise BadRequest("Source type is not allowed")
    return source_type


@transaction.atomic
def isolate_add(*, otu_id: str, data: dict[str, Any], user: User) -> Document:
    """Add an isolate; the first isolate, or one asked to be, becomes the default."""
    otu = _locked(otu_id)
    old = documents.join(otu)
    isolates = [dict(isolate) for isolate in otu.isolates]
    will_be_default = not isolates or bool(data.get("default"))
    if will_be_default:
        for isolate in isolates:
            isolate["default"] = False
    existing = {isolate["id"] for isolate in isolates}
    isolate_id = new_id()
    while isolate_id in existing:
        isolate_id = new_id()
    isolate = {
        "id": isolate_id,
        "default": will_be_default,
        "source_type": _source_type(otu.reference, data.get("source_type", "")),
        "source_name": data.get("source_name", "").strip(),
    }
    otu.isolates = [*isolates, isolate]
    description = f"Added {documents.isolate_name(isolate)}" + (" as default" if will_be_default else "")
    _commit(otu, old, "add_isolate", description, user)
    return isolate


@transaction.atomic
def isolate_update(*, otu_id: str, isolate_id: str, data: dict[str, Any], user: User) -> Document:
    """Rename an isolate (source type and name)."""
    otu = _locked(otu_id)
    isolates = [dict(isolate) for isolate in otu.isolates]
    isolate = next((i for i in isolates if i["id"] == isolate_id), None)
    if isolate is None:
        raise NotFound("Isolate does not exist")
    old_name = documents.isolate_name(isolate)
    if "source_type" in data:
        isolate["source_type"] = _source_type(otu.reference, data["source_type"])
    if "source_name" in data:
        isolate["source_name"] = data["source_name"].strip()
    old = documents.join(otu)
    otu.isolates = isolates
    _commit(otu, old, "edit_isolate", f"Renamed {old_name} to {documents.isolate_name(isolate)}", user)
    return isolate


@transaction.atomic
def isolate_set_default(*, otu_id: str, isolate_id: str, user: User) -> Document:
    """Make an isolate the OTU's default (no change when it already is)."""
    otu = _locked(otu_id)
    isolate: Document | None = next((i for i in otu.isolates if i["id"] == isolate_id), None)
    if isolate is None:
        raise NotFound("Isolate does not exist")
    if isolate["default"]:
        return isolate
    old = documents.join(otu)
    otu.isolates = [{**i, "default": i["id"] == isolate_id} for i in otu.isolates]
    _commit(otu, old, "set_as_default", f"Set {documents.isolate_name(isolate)} as default", user)
    default: Document = next(i for i in otu.isolates if i["id"] == isolate_id)
    return default


@transaction.atomic
def isolate_remove(*, otu_id: str, isolate_id: str, user: User) -> None:
    """Remove an isolate and its sequences; when it was the default, the first remaining one takes over."""
    otu = _locked(otu_id)
    isolates = [dict(isolate) for isolate in otu.isolates]
    isolate = next((i for i in isolates if i["id"] == isolate_id), None)
    if isolate is None:
        raise NotFound("Isolate does not exist")
    old = documents.join(otu)
    isolates.remove(isolate)
    new_default: Document | None = None
    if isolate["default"] and isolates:
        new_default = isolates[0]
        new_default["default"] = True
    otu.isolates = isolates
    Sequence.objects.filter(otu=otu, isolate_id=isolate_id).delete()
    description = f"Removed {documents.isolate_name(isolate)}"
    if new_default:
        description += f" and set {documents.isolate_name(new_default)} as default"
    _commit(otu, old, "remove_isolate", description, user)


def clean_sequence(value: str) -> str:
    """Nucleotides without whitespace, upper case; 400 unless they are IUPAC nucleotide letters."""
    cleaned = re.sub(r"\s+", "", value).upper()
    if not SEQUENCE_PATTERN.match(cleaned):
        bad = sorted(set(cleaned) - set("ACGTURYSWKMBDHVN"))
        detail = f": {''.join(bad)}" if bad else ""
        raise BadRequest(f"Sequence may only contain IUPAC nucleotide letters (ACGTURYSWKMBDHVN){detail}")
    return cleaned


def _check_segment_target(otu: OTU, isolate_id: str, data: dict[str, Any], exclude: str | None = None) -> None:
    segment = data.get("segment")
    if segment and segment not in [s["name"] for s in otu.schema]:
        raise BadRequest("Segment does not exist")
    target = data.get("target")
    if target:
        targets = [t["name"] for t in otu.reference.targets or []]
        if target not in targets:
            raise BadRequest("Target does not exist")
        used = Sequence.objects.filter(otu=otu, isolate_id=isolate_id, target=target)
        if exclude:
            used = used.exclude(pk=exclude)
        if used.exists():
            raise BadRequest("Target is already used in isolate")


def _next_position(otu: OTU) -> int:
    last = Sequence.objects.filter(otu=otu).order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1


@transaction.atomic
def sequence_create(*, otu_id: str, isolate_id: str, data: dict[str, Any], user: User) -> Sequence:
    """Add a sequence to an isolate."""
    otu = _locked(otu_id)
    isolate: Document | None = next((i for i in otu.isolates if i["id"] == isolate_id), None)
    if isolate is None:
        raise NotFound("Isolate does not exist")
    _check_segment_target(otu, isolate_id, data)
    old = documents.join(otu)
    sequence_id = new_id()
    while Sequence.objects.filter(pk=sequence_id).exists():
        sequence_id = new_id()
    sequence = Sequence.objects.create(
        id=sequence_id,
        otu=otu,
        isolate_id=isolate_id,
        reference_id=otu.reference_id,
        accession=data["accession"].strip(),
        definition=data["definition"].strip(),
        host=data.get("host", "").strip(),
        segment=data.get("segment") or None,
        sequence=clean_sequence(data["sequence"]),
        target=data.get("target") or None,
        position=_next_position(otu),
    )
    description = f"Created new sequence {sequence.accession} in {documents.isolate_name(isolate)}"
    _commit(otu, old, "create_sequence", description, user)
    return sequence


@transaction.atomic
def sequence_update(*, otu_id: str, isolate_id: str, sequence_id: str, data: dict[str, Any], user: User) -> Sequence:
    """Edit a sequence's accession, definition, host, segment, target or nucleotides."""
    otu = _locked(otu_id)
    isolate: Document | None = next((i for i in otu.isolates if i["id"] == isolate_id), None)
    sequence = Sequence.objects.filter(pk=sequence_id, otu=otu, isolate_id=isolate_id).first()
    if isolate is None or sequence is None:
        raise NotFound("Sequence does not exist")
    _check_segment_target(otu, isolate_id, data, exclude=sequence_id)
    old = documents.join(otu)
    for field in ("accession", "definition", "host"):
        if field in data:
            setattr(sequence, field, data[field].strip())
    for field in ("segment", "target"):
        if field in data:
            setattr(sequence, field, data[field] or None)
    if "sequence" in data:
        sequence.sequence = clean_sequence(data["sequence"])
    sequence.save()
    _commit(otu, old, "edit_sequence", f"Edited sequence {sequence_id} in {documents.isolate_name(isolate)}", user)
    return sequence


@transaction.atomic
def sequence_remove(*, otu_id: str, isolate_id: str, sequence_id: str, user: User) -> None:
    """Remove a sequence."""
    otu = _locked(otu_id)
    isolate: Document | None = next((i for i in otu.isolates if i["id"] == isolate_id), None)
    if isolate is None or not Sequence.objects.filter(pk=sequence_id, otu=otu, isolate_id=isolate_id).exists():
        raise NotFound("Sequence does not exist")
    old = documents.join(otu)
    Sequence.objects.filter(pk=sequence_id).delete()
    _commit(otu, old, "remove_sequence", f"Removed sequence {sequence_id} from {documents.isolate_name(isolate)}", user)


def otu_restore(*, otu_id: str, document: Document | None) -> None:
    """Make the OTU (row and sequences) exactly `document`, or remove it when None (used by revert)."""
    Sequence.objects.filter(otu_id=otu_id).delete()
    if document is None:
        OTU.objects.filter(pk=otu_id).delete()
        return
    otu_fields, sequences = documents.split(document)
    otu = OTU.objects.filter(pk=otu_id).first() or OTU(id=otu_id)
    otu.reference_id = otu_fields["reference"]["id"]
    otu.name = otu_fields["name"]
    otu.abbreviation = otu_fields["abbreviation"]
    otu.schema = otu_fields["schema"]
    otu.isolates = otu_fields["isolates"]
    otu.verified = otu_fields["verified"]
    otu.version = otu_fields["version"]
    otu.last_indexed_version = otu_fields["last_indexed_version"]
    otu.imported = bool(otu_fields.get("imported"))
    if otu.imported:
        otu.created_at = arrow.get(otu_fields["created_at"]).datetime
        otu.remote_id = (otu_fields.get("remote") or {}).get("id")
        otu.user_id = (otu_fields.get("user") or {}).get("id")
    otu.save()
    Sequence.objects.bulk_create(
        [
            Sequence(
                id=s["_id"],
                otu_id=otu_id,
                isolate_id=s["isolate_id"],
                reference_id=s["reference"]["id"],
                accession=s["accession"],
                definition=s["definition"],
                host=s["host"],
                segment=s.get("segment"),
                sequence=s["sequence"],
                target=s.get("target"),
                remote_id=(s.get("remote") or {}).get("id"),
                position=position,
            )
            for position, s in enumerate(sequences)
        ]
    )


@transaction.atomic
def change_revert(*, change: Change) -> None:
    """Undo a change and every later change of its OTU (409 once the change is built into an index)."""
    if change.index_id is not None:
        raise Conflict("Change is already built")
    later = list(Change.objects.select_for_update().filter(otu_id=change.otu_id, pk__gte=change.pk).order_by("-pk"))
    OTU.objects.select_for_update().filter(pk=change.otu_id).first()
    if any(c.index_id is not None for c in later):
        raise Conflict("Change is already built")
    from otus.selectors import otu_joined

    patched = otu_joined(otu_id=change.otu_id)
    for undone in later:
        patched = documents.unpatch(patched, undone.method_name, undone.diff)
    otu_restore(otu_id=change.otu_id, document=patched)
    Change.objects.filter(pk__in=[c.pk for c in later]).delete()  # signals tell the browsers
    _dispatch_reference(change.reference_id)


def otus_import(
    *,
    reference_id: str,
    otus: list[Document],
    method_name: str,
    user: User | None,
    on_progress: Callable[[int, int], None] | None = None,
    chunk: int = 250,
) -> int:
    """Insert OTUs from a reference file (or a clone) in bulk, each with its `import`/`clone` history change.

    Ids from the file are kept when they are free in this instance; an id already in use (the same file
    imported twice, a clone) gets a new one and the original is kept as the remote id. Returns the count.
    """
    from django.utils import timezone

    wanted_otu_ids: set[str] = {otu["_id"] for otu in otus if otu.get("_id")}
    wanted_sequence_ids: set[str] = {
        s["_id"] for otu in otus for isolate in otu["isolates"] for s in isolate["sequences"] if s.get("_id")
    }
    taken_otus = _taken(OTU, wanted_otu_ids)
    taken_sequences = _taken(Sequence, wanted_sequence_ids)
    now = timezone.now()
    done = 0
    for start in range(0, len(otus), chunk):
        rows: list[OTU] = []
        sequence_rows: list[Sequence] = []
        changes: list[Change] = []
        for source in otus[start : start + chunk]:
            otu_id = source.get("_id")
            if not otu_id or otu_id in taken_otus:
                otu_id = _fresh(taken_otus)
            taken_otus.add(otu_id)
            isolates: list[Document] = []
            isolate_ids: set[str] = set()
            otu = OTU(
                id=otu_id,
                reference_id=reference_id,
                name=source["name"].strip(),
                abbreviation=(source.get("abbreviation") or "").strip(),
                schema=source.get("schema") or [],
                version=0,
                created_at=now,
                imported=True,
                remote_id=source.get("_id") or otu_id,
                user_id=_user_id(user),
            )
            otu_sequences: list[Sequence] = []
            has_default = any(isolate.get("default") for isolate in source["isolates"])
            for position, isolate in enumerate(source["isolates"]):
                isolate_id = isolate.get("id") or new_id()
                while isolate_id in isolate_ids:
                    isolate_id = new_id()
                isolate_ids.add(isolate_id)
                isolates.append(
                    {
                        "id": isolate_id,
                        "default": bool(isolate.get("default")) if has_default else position == 0,
                        "source_type": isolate.get("source_type") or "",
                        "source_name": isolate.get("source_name") or "",
                    }
                )
                for sequence in isolate["sequences"]:
                    sequence_id = sequence.get("_id")
                    if not sequence_id or sequence_id in taken_sequences:
                        sequence_id = _fresh(taken_sequences)
                    taken_sequences.add(sequence_id)
                    otu_sequences.append(
                        Sequence(
                            id=sequence_id,
                            otu_id=otu_id,
                            isolate_id=isolate_id,
                            reference_id=reference_id,
                            accession=sequence.get("accession") or "",
                            definition=sequence.get("definition") or "",
                            host=sequence.get("host"),
                            segment=sequence.get("segment"),
                            sequence=re.sub(r"\s+", "", sequence["sequence"]).upper(),
                            target=sequence.get("target") or None,
                            remote_id=sequence.get("_id") or sequence_id,
                            position=len(otu_sequences),
                        )
                    )
            otu.isolates = isolates
            joined = documents.join(otu, otu_sequences)
            otu.verified = documents.verify(joined) is None
            joined["verified"] = otu.verified
            rows.append(otu)
            sequence_rows.extend(otu_sequences)
            changes.append(
                Change(
                    change_id=f"{otu_id}.0",
                    reference_id=reference_id,
                    otu_id=otu_id,
                    otu_name=otu.name,
                    otu_version=0,
                    method_name=method_name,
                    description=documents.describe_method(method_name, otu.name, otu.abbreviation),
                    user_id=_user_id(user),
                    created_at=now,
                    diff=joined,
                )
            )
        with transaction.atomic():
            OTU.objects.bulk_create(rows)
            Sequence.objects.bulk_create(sequence_rows, batch_size=500)
            Change.objects.bulk_create(changes)
        done += len(rows)
        if on_progress:
            on_progress(done, len(otus))
    _dispatch_reference(reference_id)
    return done


def _taken(model: type[OTU] | type[Sequence], ids: set[str]) -> set[str]:
    found: set[str] = set()
    ids_list = list(ids)
    for start in range(0, len(ids_list), 500):
        found |= set(model.objects.filter(pk__in=ids_list[start : start + 500]).values_list("pk", flat=True))
    return found


def _fresh(taken: set[str]) -> str:
    candidate = new_id()
    while candidate in taken:
        candidate = new_id()
    return candidate


def _replace_from_release(otu: OTU, source: Document) -> None:
    """Make the OTU's content that of the release's OTU `source`: name, abbreviation, schema, isolates (the release's
    ids) and sequences (matched by remote id: kept rows are updated, new ones inserted, missing ones deleted)."""
    otu.name = source["name"].strip()
    otu.abbreviation = (source.get("abbreviation") or "").strip()
    otu.schema = source.get("schema") or []
    has_default = any(isolate.get("default") for isolate in source["isolates"])
    existing = {sequence.remote_id: sequence for sequence in otu.sequences.all() if sequence.remote_id}
    wanted_ids = {
        sequence["_id"]
        for isolate in source["isolates"]
        for sequence in isolate["sequences"]
        if sequence.get("_id") and sequence["_id"] not in existing
    }
    taken = _taken(Sequence, wanted_ids)
    isolates: list[Document] = []
    kept: set[str] = set()
    position = 0
    for index, isolate in enumerate(source["isolates"]):
        isolate_id = isolate.get("id") or new_id()
        isolates.append(
            {
                "id": isolate_id,
                "default": bool(isolate.get("default")) if has_default else index == 0,
                "source_type": isolate.get("source_type") or "",
                "source_name": isolate.get("source_name") or "",
            }
        )
        for item in isolate["sequences"]:
            remote_id = item.get("_id") or new_id()
            row = existing.get(remote_id)
            if row is None:
                sequence_id = remote_id if remote_id not in taken else _fresh(taken)
                taken.add(sequence_id)
                row = Sequence(id=sequence_id, otu=otu, reference_id=otu.reference_id, remote_id=remote_id)
            row.isolate_id = isolate_id
            row.accession = item.get("accession") or ""
            row.definition = item.get("definition") or ""
            row.host = item.get("host")
            row.segment = item.get("segment")
            row.sequence = re.sub(r"\s+", "", item["sequence"]).upper()
            row.target = item.get("target") or None
            row.position = position
            position += 1
            row.save()
            kept.add(row.pk)
    otu.isolates = isolates
    Sequence.objects.filter(otu=otu).exclude(pk__in=kept).delete()


@transaction.atomic
def otus_release_apply(
    *,
    reference_id: str,
    otus: list[Document],
    user: User | None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Bring a remote reference to a release's OTUs, all or nothing (Virtool's remote update): OTUs matched by remote
    id are updated where the release changes them (history `update`), the release's new OTUs are created (history
    `remote`), OTUs whose remote id the release no longer has are removed (history `remove`, revertable). OTUs made
    here, with no remote id, are left as they are. Returns how many of each."""
    from otus.selectors import release_plan

    plan = release_plan(reference_id=reference_id, otus=otus)
    by_remote = {source["_id"]: source for source in otus}
    remote_ids = dict(OTU.objects.filter(reference_id=reference_id).values_list("pk", "remote_id"))
    total = len(plan["updated"]) + len(plan["removed"]) + len(plan["created"])
    done = 0
    for entry in plan["updated"]:
        otu = _locked(entry["id"])
        old = documents.join(otu)
        _replace_from_release(otu, by_remote[remote_ids[entry["id"]]])
        _commit(otu, old, "update", documents.describe_method("update", otu.name, otu.abbreviation), user)
        done += 1
        if on_progress:
            on_progress(done, total)
    for entry in plan["removed"]:
        otu = _locked(entry["id"])
        old = documents.join(otu)
        Reference.objects.filter(pk=reference_id, internal_control=otu.pk).update(internal_control=None)
        otu.delete()
        change_record(
            method_name="remove",
            old=old,
            new=None,
            description=documents.describe_remove(old["name"], old["abbreviation"]),
            user=user,
        )
        done += 1
        if on_progress:
            on_progress(done, total)
    if plan["created"]:
        otus_import(
            reference_id=reference_id,
            otus=plan["created"],
            method_name="remote",
            user=user,
            on_progress=(lambda count, _: on_progress(done + count, total)) if on_progress else None,
        )
    _dispatch_reference(reference_id)
    return {"updated": len(plan["updated"]), "created": len(plan["created"]), "removed": len(plan["removed"])}
