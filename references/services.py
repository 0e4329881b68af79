"""Writes for references: create (empty, import, clone), edit, delete, and their members' rights."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from core import events
from core.errors import BadRequest, Conflict, NotFound
from files.models import Upload
from files.services import uploads_claim, uploads_release
from files.storage import upload_path
from jobs.constants import ACTIVE_STATES
from jobs.services import job_attach, job_refuse_delete
from references import formats
from references.constants import RIGHTS, MemberKind
from references.models import Reference, ReferenceMember
from references.selectors import references_path

if TYPE_CHECKING:
    from users.models import User


def reference_new(
    *, user: User | None, data: dict[str, Any], default_name: str = "Unnamed reference", **fields: Any
) -> Reference:
    """A reference row; its creator becomes a member with every right, as in Virtool."""
    reference = Reference.objects.create(
        name=data.get("name", "").strip() or default_name,
        description=data.get("description", ""),
        data_type=data.get("data_type", "genome"),
        organism=data.get("organism", ""),
        user=user,
        **fields,
    )
    if user is not None:
        ReferenceMember.objects.create(reference=reference, user=user, **dict.fromkeys(RIGHTS, True))
    return reference


@transaction.atomic
def reference_create(*, user: User, data: dict[str, Any]) -> Reference:
    """Create a reference: empty, or filled by an `import_reference` or `clone_reference` job."""
    if data.get("clone_from"):
        return _clone(user=user, data=data)
    if data.get("import_from"):
        return _import(user=user, data=data)
    if not data.get("name", "").strip():
        raise BadRequest("Name is required")
    return reference_new(user=user, data=data)


def _import(*, user: User, data: dict[str, Any]) -> Reference:
    """Validate the uploaded file now (so a bad file creates nothing), then import it in a job."""
    # Claimed first, under its row lock: a second import of the same file waits, then gets 409.
    [upload] = uploads_claim(keys=[str(data["import_from"])], upload_type="reference", purpose="be imported")
    content = formats.read_reference_file(upload_path(upload.name_on_disk))
    problems = formats.validate(content)
    if problems:
        count = len(problems)
        raise formats.ReferenceFileError(
            f"The reference file has {count} problem{'s' if count != 1 else ''}; nothing was imported", errors=problems
        )
    reference = reference_new(
        user=user,
        data={
            **data,
            "data_type": content.get("data_type") or "genome",
            "organism": data.get("organism") or content.get("organism") or "",
        },
        default_name=content.get("name") or upload.name,
        imported_from={"id": upload.pk, "name": upload.name, "user": {"id": upload.user_id}},
        targets=content.get("targets"),
        ready=False,
    )
    job_attach(
        instance=reference,
        workflow="import_reference",
        args={"ref_id": reference.pk, "upload_id": upload.pk, "name": upload.name, "count": len(content["otus"])},
        user=user,
    )
    return reference


def _clone(*, user: User, data: dict[str, Any]) -> Reference:
    source = Reference.objects.filter(pk=data["clone_from"]).first()
    if source is None:
        raise BadRequest("Source reference does not exist")
    if not source.ready:
        raise Conflict("The source reference is still being filled")
    reference = reference_new(
        user=user,
        data={
            **data,
            "data_type": source.data_type,
            "organism": data.get("organism") or source.organism,
            "description": data.get("description", source.description),
        },
        default_name=f"Clone of {source.name}",
        cloned_from={"id": source.pk, "name": source.name},
        restrict_source_types=source.restrict_source_types,
        source_types=source.source_types,
        targets=source.targets,
        ready=False,
    )
    job_attach(
        instance=reference, workflow="clone_reference", args={"ref_id": reference.pk, "source_id": source.pk}, user=user
    )
    return reference


def reference_finish_fill(*, reference_id: str, upload_id: int | None = None) -> None:
    """An import or clone finished: the reference is ready; an imported upload is used up."""
    from files.services import uploads_mark_removed

    Reference.objects.filter(pk=reference_id).update(ready=True)
    events.dispatch(interface="references", operation="update", ids=[reference_id])
    if upload_id is not None:
        uploads_mark_removed(upload_ids=[upload_id], delete_files=True)


def reference_discard(*, reference_id: str, upload_id: int | None = None) -> None:
    """An import or clone failed or was cancelled: remove the half-filled reference, give the upload back."""
    with transaction.atomic():
        reference = Reference.objects.filter(pk=reference_id).first()
        if reference is not None:
            reference.delete()
        if upload_id is not None and Upload.objects.filter(pk=upload_id, removed=False).exists():
            uploads_release(upload_ids=[upload_id])
    shutil.rmtree(references_path(reference_id), ignore_errors=True)


@transaction.atomic
def reference_update(*, reference: Reference, data: dict[str, Any]) -> Reference:
    """Edit name, description, organism, internal control, source-type restriction and targets (right `modify`)."""
    for field in ("name", "description", "organism", "restrict_source_types"):
        if field in data:
            setattr(reference, field, data[field].strip() if field == "name" else data[field])
    if "source_types" in data:
        reference.source_types = [s.strip().lower() for s in data["source_types"] if s.strip()]
    if "targets" in data:
        if reference.data_type != "barcode":
            raise BadRequest("Only barcode references have targets")
        names = [t["name"] for t in data["targets"]]
        if len(set(names)) != len(names):
            raise BadRequest("The targets contain duplicate names")
        reference.targets = data["targets"]
    if "internal_control" in data:
        otu_id = data["internal_control"]
        if otu_id and not reference.otus.filter(pk=otu_id).exists():
            raise BadRequest("Internal control does not exist")
        reference.internal_control = otu_id or None
    if not reference.name:
        raise BadRequest("Name is required")
    reference.save()
    return reference


def reference_delete(*, reference: Reference) -> None:
    """Delete a reference with its OTUs, history and indexes (refused while a job fills or builds it)."""
    from indexes.models import Index

    if Index.objects.filter(reference=reference, ready=False, job__state__in=ACTIVE_STATES).exists():
        raise Conflict("An index of this reference is being built")
    job_refuse_delete(
        instance=reference,
        busy="The reference is still being filled",
        arg="ref_id",
        used="The reference is in use by running jobs: wait for them to finish or cancel them",
    )
    reference_id = reference.pk
    reference.delete()
    shutil.rmtree(references_path(reference_id), ignore_errors=True)


@transaction.atomic
def member_add(*, reference: Reference, kind: MemberKind, member_id: int, rights: dict[str, bool]) -> ReferenceMember:
    """Add a user or group member with rights (right `modify`)."""
    if kind == "user":
        user = get_user_model().objects.filter(pk=member_id).first()
        if user is None:
            raise BadRequest("User does not exist")
        exists = ReferenceMember.objects.filter(reference=reference, user=user).exists()
        fields: dict[str, Any] = {"user": user}
    else:
        group = Group.objects.filter(pk=member_id).first()
        if group is None:
            raise BadRequest("Group does not exist")
        exists = ReferenceMember.objects.filter(reference=reference, group=group).exists()
        fields = {"group": group}
    if exists:
        raise BadRequest(f"{kind.capitalize()} already exists")
    member = ReferenceMember.objects.create(reference=reference, **fields, **{r: bool(rights.get(r)) for r in RIGHTS})
    events.dispatch_instance(reference)
    return member


def _member(reference: Reference, kind: MemberKind, member_id: int) -> ReferenceMember:
    member = ReferenceMember.objects.filter(reference=reference, **{f"{kind}_id": member_id}).first()
    if member is None:
        raise NotFound(f"{kind.capitalize()} does not exist")
    return member


@transaction.atomic
def member_update(
    *, reference: Reference, kind: MemberKind, member_id: int, rights: dict[str, bool]
) -> ReferenceMember:
    """Change a member's rights."""
    member = _member(reference, kind, member_id)
    for right in RIGHTS:
        if right in rights:
            setattr(member, right, bool(rights[right]))
    member.save()
    events.dispatch_instance(reference)
    return member


@transaction.atomic
def member_remove(*, reference: Reference, kind: MemberKind, member_id: int) -> None:
    """Remove a member."""
    _member(reference, kind, member_id).delete()
    events.dispatch_instance(reference)
