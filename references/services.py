"""Writes for references: create (empty, import, clone), edit, delete, and their members' rights."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from core import events, github
from core.errors import BadGateway, BadRequest, Conflict, NotFound
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
    if data.get("remote_from"):
        return _remote(user=user, data=data)
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
        call_rules=source.call_rules,
        targets=source.targets,
        ready=False,
    )
    job_attach(
        instance=reference, workflow="clone_reference", args={"ref_id": reference.pk, "source_id": source.pk}, user=user
    )
    return reference


# --- Remote references (installed from GitHub releases) ---------------------------------------------------------

# What Virtool names the official reference when it installs it.
REMOTE_NAME = "Plant Viruses"
REMOTE_DESCRIPTION = "The official plant virus reference from the Virtool developers"
# Keys of a release that an install or update entry keeps (not the ETag, nor what the refresher computes).
_ENTRY_DROPS = ("etag", "newer", "retrieved_at")


def _entry(release: dict[str, Any], user: User | None) -> dict[str, Any]:
    """An entry of `updates` (and, once ready, `installed`): the release, who asked for it, when, and whether done."""
    return {
        **{key: value for key, value in release.items() if key not in _ENTRY_DROPS},
        "created_at": github.now_iso(),
        "ready": False,
        "user": {"id": user.pk} if user is not None else None,
    }


def _fetch_release(slug: str, release_id: int | str = "latest") -> dict[str, Any]:
    try:
        release = github.release_get(slug, release_id=release_id)
    except github.GitHubNotFound as error:
        raise BadRequest(f"Release {release_id} of {slug} does not exist") from error
    except github.GitHubError as error:
        raise BadGateway(str(error)) from error
    assert release is not None  # no ETag was sent: never a 304
    if not release["filename"].endswith((".json.gz", ".json")):
        raise BadGateway(f"Release {release['name']} of {slug} carries {release['filename']}, not a reference file")
    return release


def _remote(*, user: User, data: dict[str, Any]) -> Reference:
    """Install a reference from a GitHub release (`remote_reference` task): the release is looked up now, so that a
    release that does not exist or a GitHub that cannot be reached is an answer (400/502) and creates nothing."""
    slug = data["remote_from"]
    if Reference.objects.filter(remotes_from__slug=slug).exists():
        raise Conflict(f"The remote reference {slug} is already installed")
    release = _fetch_release(slug, data.get("release_id") or "latest")
    reference = reference_new(
        user=user,
        data={
            **data,
            "name": data.get("name") or REMOTE_NAME,
            "description": data.get("description") or REMOTE_DESCRIPTION,
            "organism": data.get("organism") or "virus",
            "data_type": "genome",
        },
        remotes_from={"slug": slug, "errors": []},
        release={**release, "newer": False, "retrieved_at": github.now_iso()},
        installed=None,
        updates=[_entry(release, user)],
        ready=False,
    )
    job_attach(
        instance=reference,
        workflow="remote_reference",
        args={"ref_id": reference.pk, "release": release, "name": release["name"]},
        user=user,
    )
    return reference


def release_file(*, reference_id: str, release: dict[str, Any], progress: Any = None) -> Path:
    """The release's reference file, downloaded once into the reference's folder (a preview and the update that
    follows it read the same file)."""
    target = references_path(reference_id) / "releases" / str(release["id"]) / "reference.json.gz"
    if not target.exists():
        try:
            github.asset_download(release["download_url"], target, progress=progress)
        except github.GitHubError as error:
            raise BadGateway(str(error)) from error
    return target


def release_read(*, reference_id: str, release: dict[str, Any], progress: Any = None) -> dict[str, Any]:
    """The checked content of a release's reference file (a file with problems is a 502: GitHub served it)."""
    path = release_file(reference_id=reference_id, release=release, progress=progress)
    try:
        content = formats.read_reference_file(path)
    except formats.ReferenceFileError as error:
        path.unlink(missing_ok=True)
        raise BadGateway(f"Release {release['name']} is not a readable reference file: {error.message}") from error
    problems = formats.validate(content)
    if problems:
        path.unlink(missing_ok=True)
        raise BadGateway(
            f"Release {release['name']} has {len(problems)} problem(s): "
            + "; ".join(problem["msg"] for problem in problems[:5])
        )
    return content


def reference_release_refresh(*, reference_id: str) -> dict[str, Any] | None:
    """Ask GitHub for the newest release of a remote reference (conditional on the stored ETag), store it with
    `newer` and `retrieved_at`, and keep what went wrong in `remotes_from.errors` instead of raising."""
    reference = Reference.objects.filter(pk=reference_id).first()
    if reference is None or not reference.remotes_from:
        return None
    stored = reference.release
    errors: list[str] = []
    release = stored
    try:
        fetched = github.release_get(reference.remotes_from["slug"], etag=(stored or {}).get("etag"))
        if fetched is not None:
            release = fetched
    except github.GitHubError as error:
        errors = [str(error)]
    with transaction.atomic():
        reference = Reference.objects.select_for_update().get(pk=reference_id)
        if release is not None:
            installed = (reference.installed or {}).get("name")
            release = {
                **release,
                "newer": github.is_newer(release["name"], installed),
                "retrieved_at": github.now_iso(),
            }
        reference.release = release
        reference.remotes_from = {**(reference.remotes_from or {}), "errors": errors}
        reference.save(update_fields=["release", "remotes_from"])
    events.dispatch(interface="references", operation="update", ids=[reference_id])
    return release


def references_releases_refresh() -> int:
    """Refresh the release of every remote reference (beat, every VIRTOOL_RELEASE_INTERVAL seconds)."""
    ids = list(Reference.objects.filter(remotes_from__isnull=False, ready=True).values_list("pk", flat=True))
    for reference_id in ids:
        reference_release_refresh(reference_id=reference_id)
    return len(ids)


@transaction.atomic
def reference_update_start(*, reference: Reference, user: User) -> dict[str, Any]:
    """Start installing the newest known release of a remote reference (`update_remote_reference` task); returns
    the new entry of `updates`."""
    reference = Reference.objects.select_for_update().get(pk=reference.pk)
    if not reference.remotes_from:
        raise BadRequest("Not a remote reference")
    if reference.job_id and reference.job is not None and reference.job.state in ACTIVE_STATES:
        raise Conflict("The reference is already being installed or updated")
    release = reference.release
    if not release:
        raise BadRequest("Target release does not exist")
    if reference.installed and reference.installed.get("id") == release["id"]:
        raise Conflict(f"Release {release['name']} is already installed")
    entry = _entry(release, user)
    reference.updates = [*reference.updates, entry]
    reference.save(update_fields=["updates"])
    job_attach(
        instance=reference,
        workflow="update_remote_reference",
        args={"ref_id": reference.pk, "release": release, "name": release["name"]},
        user=user,
    )
    return entry


def reference_finish_remote(*, reference_id: str, release_id: int) -> None:
    """A remote install or update finished: its entry is ready and becomes `installed`; the release is no longer
    newer than what is installed; the downloaded file goes."""
    with transaction.atomic():
        reference = Reference.objects.select_for_update().get(pk=reference_id)
        updates = [dict(entry) for entry in reference.updates]
        for entry in updates:
            if entry.get("id") == release_id and not entry.get("ready"):
                entry["ready"] = True
                reference.installed = entry
        reference.updates = updates
        if reference.release:
            name = (reference.installed or {}).get("name")
            reference.release = {**reference.release, "newer": github.is_newer(reference.release["name"], name)}
        reference.ready = True
        reference.save(update_fields=["updates", "installed", "release", "ready"])
    events.dispatch(interface="references", operation="update", ids=[reference_id])
    shutil.rmtree(references_path(reference_id) / "releases" / str(release_id), ignore_errors=True)


def reference_update_discard(*, reference_id: str, release_id: int) -> None:
    """An update failed or was cancelled (its OTU changes were all or nothing): its pending entry goes."""
    with transaction.atomic():
        reference = Reference.objects.select_for_update().filter(pk=reference_id).first()
        if reference is None:
            return
        reference.updates = [
            entry for entry in reference.updates if entry.get("id") != release_id or entry.get("ready")
        ]
        reference.save(update_fields=["updates"])
    events.dispatch(interface="references", operation="update", ids=[reference_id])


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
    """Edit name, description, organism, internal control, call rules, source-type restriction and targets (right
    `modify`)."""
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
    if "call_rules" in data:
        changes = data["call_rules"]
        # Only what is set is stored: a rule left at (or reset to) its default follows later changes of the default.
        rules = {} if changes is None else {**reference.call_rules, **changes}
        reference.call_rules = {key: value for key, value in rules.items() if value is not None}
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


def reference_release_preview(*, reference: Reference) -> dict[str, Any]:
    """What installing the newest known release would change, before it runs: the release's file is downloaded
    (and kept for the update) and compared with the reference's OTUs by remote id."""
    from otus.selectors import release_plan

    if not reference.remotes_from:
        raise BadRequest("Not a remote reference")
    release = reference.release
    if not release:
        raise BadRequest("Target release does not exist")
    content = release_read(reference_id=reference.pk, release=release)
    plan = release_plan(reference_id=reference.pk, otus=content["otus"])
    return {
        "release": release,
        "installed": reference.installed,
        "updated": plan["updated"],
        "created": [{"remote_id": otu["_id"], "name": otu["name"]} for otu in plan["created"]],
        "removed": plan["removed"],
        "kept": plan["kept"],
        "unchanged": plan["unchanged"],
    }
