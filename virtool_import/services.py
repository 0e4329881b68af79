"""Import a running Virtool's data: its MongoDB dump (`mongodump` folder) and its data folder.

Two phases. The plan reads every collection and checks every document (its fields, what it points to, its files
on disk); a document with a problem is left out, with everything that depends on it, and the problem is reported
with the collection, the document id and the reason. The write phase (skipped by a check) writes each planned
document in its own transaction, keeping Virtool's ids. Every document imported is remembered with a digest of
its content (`ImportedDocument`), so a second import of the same dump writes nothing and a changed document
updates its row. Both the 2019 and the 36.x document shapes are read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import arrow
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from analyses.models import Analysis, AnalysisFile
from analyses.selectors import analysis_path
from core.errors import ApplicationError
from core.ids import new_id
from core.selectors import settings_get
from hmm.models import HMM
from hmm.services import hmm_install_path
from indexes.constants import BOWTIE2_FILES as INDEX_BOWTIE2_FILES
from indexes.constants import INDEX_FILES
from indexes.models import Index
from indexes.selectors import index_path
from otus.models import OTU, Change, Sequence
from references.models import Reference, ReferenceMember
from samples.constants import LEGACY_READS_NAMES, LibraryType
from samples.models import Label, Sample
from samples.selectors import samples_path
from samples.services import sample_legacy_detect, sample_legacy_mark, sample_update_job_start
from subtractions.constants import BOWTIE2_FILES as SUBTRACTION_BOWTIE2_FILES
from subtractions.models import Subtraction
from subtractions.selectors import subtractions_path
from users.constants import PERMISSIONS, AdministratorRole
from users.hashers import VirtoolSHA512PasswordHasher
from users.models import User
from virtool_import.dump import Collection, Document, collection_read, digest, dump_folder
from virtool_import.models import ImportedDocument, ImportReport

# Collections in the order they are imported: each one only points at collections before it.
COLLECTIONS = (
    "groups",
    "users",
    "settings",
    "labels",
    "subtraction",
    "references",
    "otus",
    "sequences",
    "indexes",
    "history",
    "samples",
    "analyses",
    "hmm",
)
# Collections whose rows have integer keys here: their Virtool ids are kept only in ImportedDocument.
INTEGER_KEYED = {"groups", "users", "labels"}
MODELS: dict[str, type[models.Model]] = {
    "subtraction": Subtraction,
    "references": Reference,
    "otus": OTU,
    "sequences": Sequence,
    "indexes": Index,
    "samples": Sample,
    "analyses": Analysis,
}
VIRTOOL_ID = re.compile(r"^[a-z0-9]{1,8}$")
SETTINGS_KEYS = (
    "default_source_types",
    "enable_api",
    "enable_sentry",
    "hmm_slug",
    "minimum_password_length",
    "sample_all_read",
    "sample_all_write",
    "sample_group",
    "sample_group_read",
    "sample_group_write",
    "sample_unique_names",
)
RIGHTS = ("build", "modify", "modify_otu", "remove")
# Django keeps password hashes in 128 characters.
PASSWORD_MAX_LENGTH = 128
MOLECULES = {"ssRNA+", "ssRNA-", "ssRNA", "dsRNA", "ssDNA", "dsDNA", None, ""}

Progress = Callable[[str, int, int], None]


class Skip(Exception):
    """A document that cannot be imported, and why."""


@dataclass
class Problem:
    """Something wrong in the dump: `skipped` problems kept the document out, the others are notes."""

    collection: str
    id: str
    reason: str
    skipped: bool = True


@dataclass
class Tally:
    """What happened to one collection's documents."""

    collection: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


@dataclass
class Plan:
    """The documents that will be written, by collection, with the local id each one gets."""

    documents: dict[str, list[tuple[Document, str]]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    tallies: dict[str, Tally] = field(default_factory=dict)
    shapes: set[str] = field(default_factory=set)
    legacy: dict[str, list[str]] = field(default_factory=dict)


def _vid(document: Document) -> str:
    """A document's Virtool id as text."""
    return str(document.get("_id", "?"))


def _ref_id(value: Any) -> str | None:
    """The id of a Virtool link, `{id: ...}` or a bare id (both shapes occur)."""
    if isinstance(value, dict):
        value = value.get("id")
    if value in (None, "", "none", "unbuilt"):
        return None
    return str(value)


def _when(value: Any) -> Any:
    """A Virtool timestamp (naive UTC) as an aware datetime; now when there is none."""
    if not value:
        return timezone.now()
    try:
        return arrow.get(value).datetime
    except (arrow.parser.ParserError, TypeError, ValueError):
        return timezone.now()


def _place(source: Path, target: Path) -> None:
    """Put `source` at `target`: a hard link when both are on one disk (no copy of large reads), else a copy.
    A target that is already the same file, or the same size, is left alone."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        if os.path.samefile(source, target) or target.stat().st_size == source.stat().st_size:
            return
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _password(document: Document) -> str:
    """The stored password of a Virtool user in Django's form: bcrypt kept as it is (Virtool hashes the raw
    password), the 2019 sha512+salt one for `users.hashers.VirtoolSHA512PasswordHasher`."""
    password = document.get("password")
    if not isinstance(password, str) or not password:
        raise Skip("The user has no password hash")
    if document.get("salt"):
        if not re.fullmatch(r"[0-9a-f]{128}", password):
            raise Skip("The legacy password is not a SHA-512 hex digest")
        encoded = f"virtool_sha512${document['salt']}${VirtoolSHA512PasswordHasher.pack(bytes.fromhex(password))}"
        if len(encoded) > PASSWORD_MAX_LENGTH:
            raise Skip("The legacy password's salt is too long to keep")
        return encoded
    if re.fullmatch(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}", password):
        return f"bcrypt${password}"
    raise Skip("The password hash is neither bcrypt nor Virtool 2019's sha512+salt")


def _remap(value: Any, mapping: dict[str, str]) -> Any:
    """`value` with every string equal to an old id replaced by its new id (ids that did not fit here)."""
    if not mapping:
        return value
    if isinstance(value, dict):
        return {key: _remap(item, mapping) for key, item in value.items()}
    if isinstance(value, list):
        return [_remap(item, mapping) for item in value]
    if isinstance(value, str):
        return mapping.get(value, value)
    return value


class Importer:
    """One import (or check) of a dump and data folder."""

    def __init__(self, *, dump: Path, data: Path, progress: Progress | None = None) -> None:
        self.dump = dump
        self.data = data
        self.progress = progress or (lambda collection, done, total: None)
        self.plan = Plan()
        self.collections: dict[str, Collection] = {}
        # Every Virtool id known (imported earlier or planned now) → its local id, by collection.
        self.ids: dict[str, dict[str, str]] = {name: {} for name in COLLECTIONS}
        self.known: dict[tuple[str, str], ImportedDocument] = {}
        # Ids that changed (they did not fit here), for the documents that name them (history diffs, results).
        self.renamed: dict[str, str] = {}
        # OTUs present in the dump (planned or not): history of an OTU absent from the dump was of a removed one.
        self.dumped_otus: set[str] = set()
        self.otu_isolates: dict[str, set[str]] = {}
        self.sample_files: dict[str, list[Path]] = {}
        self.legacy_checks: dict[str, Any] = {}
        self.legacy_written: list[str] = []

    # --- Plan --------------------------------------------------------------------------------------------------

    def problem(self, collection: str, vid: str, reason: str, *, skipped: bool = True) -> None:
        """Record a problem (and count the skip)."""
        self.plan.problems.append(Problem(collection, vid, reason, skipped))
        if skipped:
            self.plan.tallies[collection].skipped += 1

    def make_plan(self) -> Plan:
        """Read and check every collection; nothing is written."""
        for row in ImportedDocument.objects.all():
            self.ids[row.collection][row.virtool_id] = row.local_id
            self.known[row.collection, row.virtool_id] = row
        folder = dump_folder(self.dump)
        for name in COLLECTIONS:
            self.plan.tallies[name] = Tally(name)
            collection = collection_read(folder, name)
            if collection is None:
                continue
            self.collections[name] = collection
            if collection.error:
                self.problem(name, f"#{len(collection.documents) + 1}", collection.error)
            self.plan.tallies[name].read = len(collection.documents) + (1 if collection.error else 0)
            if name == "otus":
                self.dumped_otus = {_vid(document) for document in collection.documents}
            documents = collection.documents
            if name == "history":
                documents = sorted(documents, key=self._history_order)
            planned = self.plan.documents.setdefault(name, [])
            checker = getattr(self, f"check_{name}")
            for document in documents:
                vid = _vid(document)
                try:
                    local = checker(document)
                except Skip as skip:
                    self.problem(name, vid, str(skip))
                    continue
                self.ids[name][vid] = local
                planned.append((document, local))
        return self.plan

    def _local_id(self, collection: str, vid: str) -> str:
        """The id a document gets here: the one it got before, else Virtool's when it fits and is free."""
        if vid in self.ids[collection]:
            return self.ids[collection][vid]
        model = MODELS[collection]
        if VIRTOOL_ID.match(vid) and not model._default_manager.filter(pk=vid).exists():
            return vid
        local = new_id()
        self.renamed[vid] = local
        return local

    def _shape(self, shape: str) -> None:
        self.plan.shapes.add(shape)

    def check_groups(self, document: Document) -> str:
        name = document.get("name") or document.get("_id")
        if not isinstance(name, str | int) or not str(name).strip():
            raise Skip("The group has no name")
        self._shape("36.x" if "name" in document else "2019")
        permissions = document.get("permissions") or {}
        if not isinstance(permissions, dict):
            raise Skip("The group's permissions are not a {name: bool} map")
        return self.ids["groups"].get(_vid(document), f"new:{_vid(document)}")

    def check_users(self, document: Document) -> str:
        handle = document.get("handle") or document.get("_id")
        if not isinstance(handle, str) or not handle.strip():
            raise Skip("The user has no handle")
        _password(document)
        role = document.get("administrator_role")
        if role is not None and role not in AdministratorRole.values:
            raise Skip(f"Unknown administrator role {role!r}")
        self._shape("36.x" if "administrator_role" in document or "handle" in document else "2019")
        for group in document.get("groups") or []:
            if self._group(group) is None:
                self.problem("users", _vid(document), f"Group {group} is not in the dump: left out", skipped=False)
        return self.ids["users"].get(_vid(document), f"new:{_vid(document)}")

    def check_settings(self, document: Document) -> str:
        if _vid(document) != "settings":
            raise Skip("Not the settings document (its id must be 'settings')")
        return "1"

    def check_labels(self, document: Document) -> str:
        if not str(document.get("name") or "").strip():
            raise Skip("The label has no name")
        return self.ids["labels"].get(_vid(document), f"new:{_vid(document)}")

    def check_subtraction(self, document: Document) -> str:
        vid = _vid(document)
        if document.get("deleted"):
            raise Skip("The subtraction was deleted in Virtool")
        if not (document.get("name") or vid):
            raise Skip("The subtraction has no name")
        if document.get("ready", True) and not self._subtraction_folder(vid):
            raise Skip(f"The subtraction's files are missing from {self.data / 'subtractions' / vid}")
        return self._local_id("subtraction", vid)

    def _subtraction_folder(self, vid: str) -> Path | None:
        """The subtraction's folder: its id (36.x), or the 2019 form of a user-given id (lowercase, underscores)."""
        for name in (vid, vid.lower().replace(" ", "_")):
            folder = self.data / "subtractions" / name
            if folder.is_dir() and any(folder.glob("*.bt2")):
                return folder
        return None

    def check_references(self, document: Document) -> str:
        if not str(document.get("name") or "").strip():
            raise Skip("The reference has no name")
        if document.get("data_type", "genome") not in ("genome", "barcode"):
            raise Skip(f"Unknown data type {document.get('data_type')!r}")
        return self._local_id("references", _vid(document))

    def check_otus(self, document: Document) -> str:
        vid = _vid(document)
        reference = _ref_id(document.get("reference"))
        if reference is None or reference not in self.ids["references"]:
            raise Skip(f"Its reference {reference} is not imported")
        if not str(document.get("name") or "").strip():
            raise Skip("The OTU has no name")
        isolates = document.get("isolates")
        if not isolates:
            raise Skip("The OTU has no isolates")
        ids = [isolate.get("id") for isolate in isolates if isinstance(isolate, dict)]
        if len(ids) != len(isolates) or None in ids or len(set(ids)) != len(ids):
            raise Skip("The OTU's isolates lack ids or repeat one")
        for segment in document.get("schema") or []:
            if not isinstance(segment, dict) or segment.get("molecule") not in MOLECULES:
                raise Skip(f"Bad schema segment {segment!r}")
        self.otu_isolates[vid] = {str(isolate_id) for isolate_id in ids}
        return self._local_id("otus", vid)

    def check_sequences(self, document: Document) -> str:
        otu = str(document.get("otu_id") or "")
        if otu not in self.ids["otus"]:
            raise Skip(f"Its OTU {otu} is not imported")
        if otu in self.otu_isolates and str(document.get("isolate_id")) not in self.otu_isolates[otu]:
            raise Skip(f"Its isolate {document.get('isolate_id')} is not an isolate of OTU {otu}")
        if not isinstance(document.get("sequence"), str) or not document["sequence"]:
            raise Skip("The sequence has no nucleotides")
        return self._local_id("sequences", _vid(document))

    def check_indexes(self, document: Document) -> str:
        reference = _ref_id(document.get("reference"))
        if reference is None or reference not in self.ids["references"]:
            raise Skip(f"Its reference {reference} is not imported")
        if not isinstance(document.get("version"), int):
            raise Skip("The index has no version number")
        manifest = document.get("manifest") or {}
        if not isinstance(manifest, dict):
            raise Skip("The manifest is not an {otu_id: version} map")
        left_out = sorted(otu for otu in manifest if otu in self.dumped_otus and otu not in self.ids["otus"])
        if left_out:
            raise Skip(f"Its manifest names OTUs that are left out: {', '.join(left_out)}")
        return self._local_id("indexes", _vid(document))

    @staticmethod
    def _history_order(document: Document) -> tuple[str, int]:
        version = (document.get("otu") or {}).get("version")
        return (str((document.get("otu") or {}).get("id")), version if isinstance(version, int) else 1 << 30)

    def check_history(self, document: Document) -> str:
        otu = _ref_id(document.get("otu"))
        reference = _ref_id(document.get("reference"))
        if reference is None or reference not in self.ids["references"]:
            raise Skip(f"Its reference {reference} is not imported")
        if otu is None or (otu in self.dumped_otus and otu not in self.ids["otus"]):
            raise Skip(f"Its OTU {otu} is left out")
        if not document.get("method_name"):
            raise Skip("The change has no method_name")
        index = _ref_id(document.get("index"))
        if index is not None and index not in self.ids["indexes"]:
            raise Skip(f"Its index {index} is not imported")
        if document.get("diff") == "file" and self._diff_file(_vid(document)) is None:
            raise Skip(f"Its diff is stored in a file that is missing from {self.data / 'history'}")
        return _vid(document)

    def _diff_file(self, vid: str) -> Path | None:
        for name in (f"{vid}.json", f"{vid}.json.gz"):
            path = self.data / "history" / name
            if path.is_file():
                return path
        return None

    def _group(self, value: Any) -> str | None:
        """The local id of a group named by Virtool id or name, when it is (being) imported."""
        key = _ref_id(value)
        return self.ids["groups"].get(key) if key is not None else None

    def check_samples(self, document: Document) -> str:
        vid = _vid(document)
        if not str(document.get("name") or "").strip():
            raise Skip("The sample has no name")
        self._shape("2019" if "srna" in document or "subtraction" in document else "36.x")
        folder = self.data / "samples" / vid
        found = []
        for names in LEGACY_READS_NAMES:
            path = next((folder / name for name in names if (folder / name).is_file()), None)
            if path is not None:
                found.append(path)
        expected = 2 if document.get("paired") else 1
        if len(found) < expected:
            raise Skip(f"Its reads are missing: {expected} read file(s) expected in {folder}, found {len(found)}")
        listed = document.get("files") or []
        raw = bool(listed) and all(isinstance(entry, dict) and entry.get("raw") for entry in listed)
        shaped = {
            **{key: value for key, value in document.items() if key not in ("files", "reads")},
            "files": [{"name": path.name, "size": path.stat().st_size, "raw": raw} for path in found],
        }
        try:
            check = sample_legacy_detect(document=shaped, folder=folder)
        except ApplicationError as error:
            raise Skip(str(error)) from error
        if check.is_legacy:
            self.plan.legacy[vid] = list(check.reasons)
        self.legacy_checks[vid] = check
        self.sample_files[vid] = found
        for label in document.get("labels") or []:
            if str(label) not in self.ids["labels"]:
                self.problem("samples", vid, f"Label {label} is not in the dump: left out", skipped=False)
        return self._local_id("samples", vid)

    def _analysis_results(self, document: Document) -> Any:
        """The results of an analysis in today's `{read_count, subtracted_count, hits}` form."""
        results = document.get("results")
        if results == "file":
            folder = self.data / "samples" / str(_ref_id(document.get("sample"))) / "analysis" / _vid(document)
            path = folder / "results.json"
            if not path.is_file():
                raise Skip(f"Its results are stored in a file that is missing: {path}")
            try:
                results = json.loads(path.read_text())
            except ValueError as error:
                raise Skip(f"Its results file is not JSON: {error}") from error
        if isinstance(results, list):  # 2019: the hits, with the counts beside them in the document
            results = {
                "hits": results,
                **{key: document[key] for key in ("read_count", "subtracted_count") if key in document},
            }
        if results is not None and not isinstance(results, dict):
            raise Skip("Its results are neither a document, a list of hits nor 'file'")
        return results

    def check_analyses(self, document: Document) -> str:
        sample = _ref_id(document.get("sample"))
        if sample is None or sample not in self.ids["samples"]:
            raise Skip(f"Its sample {sample} is not imported")
        workflow = document.get("workflow") or document.get("algorithm")
        if not workflow:
            raise Skip("The analysis has no workflow")
        self._shape("2019" if "algorithm" in document else "36.x")
        results = self._analysis_results(document)
        if document.get("ready") and workflow in ("pathoscope_bowtie", "pathoscope") and results is not None:
            for hit in results.get("hits") or []:
                if not isinstance(hit, dict) or not isinstance(hit.get("otu"), dict) or "id" not in hit:
                    raise Skip("A PathoScope hit lacks its sequence id or OTU")
        reference = _ref_id(document.get("reference"))
        if reference is not None and reference not in self.ids["references"]:
            self.problem("analyses", _vid(document), f"Reference {reference} is not imported", skipped=False)
        return self._local_id("analyses", _vid(document))

    def check_hmm(self, document: Document) -> str:
        if not isinstance(document.get("cluster"), int):
            raise Skip("The HMM has no cluster number")
        if not (self.data / "hmm" / "profiles.hmm").is_file():
            raise Skip(f"The HMM profiles are missing: {self.data / 'hmm' / 'profiles.hmm'}")
        return _vid(document)

    # --- Write -------------------------------------------------------------------------------------------------

    def local(self, collection: str, value: Any) -> str | None:
        """The local id of a Virtool link, when that document is imported."""
        key = _ref_id(value)
        if key is None:
            return None
        local = self.ids[collection].get(key)
        return None if local is None or local.startswith("new:") else local

    def required(self, collection: str, value: Any) -> str:
        """The local id of a link the document cannot do without."""
        local = self.local(collection, value)
        if local is None:
            raise Skip(f"Its {collection} {_ref_id(value)} was not written")
        return local

    def _group_pk(self, value: Any) -> int | None:
        """The key of an imported group named by Virtool id or name."""
        local = self._group(value)
        return int(local) if local is not None and local.isdigit() else None

    def _subtractions(self, values: list[Any]) -> list[Subtraction]:
        """The imported subtractions of a list of Virtool links."""
        wanted = [pk for pk in (self.local("subtraction", value) for value in values) if pk]
        return list(Subtraction.objects.filter(pk__in=wanted))

    def write(self) -> None:
        """Write every planned document, each in its own transaction."""
        for name in COLLECTIONS:
            planned = self.plan.documents.get(name, [])
            if name == "hmm":
                self._write_hmms(planned)
                continue
            writer = getattr(self, f"write_{name}")
            for done, (document, local) in enumerate(planned, start=1):
                self._write_one(name, document, local, writer)
                self.progress(name, done, len(planned))
        for vid in self.legacy_written:
            self._start_update(vid)

    def _write_one(self, name: str, document: Document, local: str, writer: Callable[..., str]) -> None:
        vid = _vid(document)
        fingerprint = digest(document)
        previous = self.known.get((name, vid))
        tally = self.plan.tallies[name]
        if previous is not None and previous.digest == fingerprint:
            tally.unchanged += 1
            return
        try:
            with transaction.atomic():
                local = writer(document, local, previous)
                ImportedDocument.objects.update_or_create(
                    collection=name,
                    virtool_id=vid,
                    defaults={
                        "local_id": local,
                        "digest": fingerprint,
                        "imported_at": timezone.now(),
                        "extra": self._extra(name, document),
                    },
                )
        except (
            Skip,
            ApplicationError,
            ValidationError,
            DatabaseError,
            ValueError,
            KeyError,
            TypeError,
            OSError,
        ) as error:
            self.problem(name, vid, f"Could not be written: {error}")
            self.ids[name].pop(vid, None)
            return
        self.ids[name][vid] = local
        if previous is None:
            tally.created += 1
        else:
            tally.updated += 1

    @staticmethod
    def _extra(name: str, document: Document) -> dict[str, Any]:
        if name == "users":
            return {"password": hashlib.sha256(_password(document).encode()).hexdigest()}
        return {}

    def write_groups(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        name = str(document.get("name") or document["_id"])
        group = Group.objects.filter(pk=local).first() if previous else Group.objects.filter(name=name).first()
        group = group or Group(name=name)
        group.name = name
        group.save()
        wanted = [key for key, allowed in (document.get("permissions") or {}).items() if allowed and key in PERMISSIONS]
        group.permissions.set(Permission.objects.filter(content_type__app_label="users", codename__in=wanted))
        # Virtool 2019 names groups by their id; 36.x samples name them by id too: both find the group.
        self.ids["groups"][name] = str(group.pk)
        return str(group.pk)

    def write_users(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        handle = str(document.get("handle") or document["_id"])
        user = User.objects.filter(pk=local).first() if previous else User.objects.filter(handle__iexact=handle).first()
        fresh = user is None
        user = user or User(handle=handle)
        user.handle = handle
        password = _password(document)
        if fresh or previous is None or previous.extra.get("password") != self._extra("users", document)["password"]:
            user.password = password
        role = document.get("administrator_role")
        if role is None and document.get("administrator"):
            role = AdministratorRole.FULL
        user.administrator_role = role
        user.is_active = bool(document.get("active", True))
        user.force_reset = bool(document.get("force_reset", False))
        user.email = str(document.get("email") or "")
        user.last_password_change = _when(document.get("last_password_change"))
        if isinstance(document.get("settings"), dict):
            user.settings = {**user.settings, **document["settings"]}
        user.primary_group_id = self._group_pk(document.get("primary_group"))
        user.save()
        groups = [self._group_pk(value) for value in document.get("groups") or []]
        user.groups.set(Group.objects.filter(pk__in=[pk for pk in groups if pk is not None]))
        return str(user.pk)

    def write_settings(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        instance = settings_get()
        for key in SETTINGS_KEYS:
            if key in document:
                value = document[key]
                if key == "sample_group" and value == "none":
                    value = None
                setattr(instance, key, value)
        instance.full_clean()
        instance.save()
        return str(instance.pk)

    def write_labels(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        name = str(document["name"])
        label = Label.objects.filter(pk=local).first() if previous else Label.objects.filter(name__iexact=name).first()
        label = label or Label(name=name)
        label.name = name
        label.color = str(document.get("color") or label.color)
        label.description = str(document.get("description") or "")
        label.full_clean()
        label.save()
        return str(label.pk)

    def write_subtraction(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        vid = _vid(document)
        subtraction = Subtraction.objects.filter(pk=local).first() or Subtraction(id=local)
        subtraction.name = str(document.get("name") or vid)
        subtraction.nickname = str(document.get("nickname") or "")
        subtraction.ready = bool(document.get("ready", True))
        subtraction.count = document.get("count")
        subtraction.gc = document.get("gc")
        subtraction.file = document.get("file")
        subtraction.user_id = self.local("users", document.get("user"))
        subtraction.created_at = _when(document.get("created_at"))
        subtraction.save()
        folder = self._subtraction_folder(vid)
        if folder is not None:
            target = subtractions_path(local)
            for path in folder.iterdir():
                name = path.name
                if name.startswith("reference.") and name.endswith(".bt2"):  # 2019's name for the index
                    name = "subtraction." + name.removeprefix("reference.")
                if path.is_file() and (name in SUBTRACTION_BOWTIE2_FILES or name == "subtraction.fa.gz"):
                    _place(path, target / name)
        return local

    def write_references(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        reference = Reference.objects.filter(pk=local).first() or Reference(id=local)
        reference.name = str(document["name"])
        reference.description = str(document.get("description") or "")
        reference.data_type = document.get("data_type") or "genome"
        reference.organism = str(document.get("organism") or "")
        control = _ref_id(document.get("internal_control"))
        reference.internal_control = self.renamed.get(control, control) if control else None
        reference.restrict_source_types = bool(document.get("restrict_source_types", False))
        reference.source_types = list(document.get("source_types") or [])
        reference.targets = document.get("targets")
        reference.created_at = _when(document.get("created_at"))
        reference.user_id = self.local("users", document.get("user"))
        for key in ("cloned_from", "imported_from", "remotes_from", "release", "installed"):
            setattr(reference, key, document.get(key))
        reference.updates = list(document.get("updates") or [])
        reference.ready = True
        reference.save()
        reference.members.all().delete()
        for kind in ("users", "groups"):
            for member in document.get(kind) or []:
                target = self.local(kind, member.get("id"))
                if target is None:
                    continue
                ReferenceMember.objects.create(
                    reference=reference,
                    user_id=int(target) if kind == "users" else None,
                    group_id=int(target) if kind == "groups" else None,
                    created_at=_when(member.get("created_at")),
                    **{right: bool(member.get(right)) for right in RIGHTS},
                )
        return local

    def write_otus(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        otu = OTU.objects.filter(pk=local).first() or OTU(id=local)
        otu.reference_id = self.required("references", document.get("reference"))
        otu.name = str(document["name"])
        otu.abbreviation = str(document.get("abbreviation") or "")
        otu.schema = list(document.get("schema") or [])
        otu.isolates = [
            {
                "id": str(isolate["id"]),
                "default": bool(isolate.get("default")),
                "source_type": str(isolate.get("source_type") or ""),
                "source_name": str(isolate.get("source_name") or ""),
            }
            for isolate in document["isolates"]
        ]
        otu.verified = bool(document.get("verified"))
        otu.version = int(document.get("version") or 0)
        otu.last_indexed_version = document.get("last_indexed_version")
        otu.created_at = _when(document.get("created_at"))
        # Imported OTUs carry Virtool's created_at/imported/remote/user in their documents, as history diffs do.
        otu.imported = True
        otu.remote_id = _ref_id(document.get("remote"))
        otu.user_id = self.local("users", document.get("user"))
        otu.save()
        return local

    def write_sequences(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        otu_id = self.local("otus", document.get("otu_id"))
        if otu_id is None:
            raise Skip("Its OTU was not written")
        sequence = Sequence.objects.filter(pk=local).first()
        if sequence is None:
            last = Sequence.objects.filter(otu_id=otu_id).aggregate(models.Max("position"))["position__max"]
            sequence = Sequence(id=local, position=0 if last is None else last + 1)
        sequence.otu_id = otu_id
        sequence.isolate_id = str(document["isolate_id"])
        sequence.reference_id = OTU.objects.values_list("reference_id", flat=True).get(pk=otu_id)
        sequence.accession = str(document.get("accession") or "")
        sequence.definition = str(document.get("definition") or "")
        sequence.host = str(document.get("host") or "")
        sequence.segment = document.get("segment")
        sequence.sequence = str(document["sequence"])
        sequence.target = document.get("target")
        sequence.remote_id = _ref_id(document.get("remote"))
        sequence.save()
        return local

    def write_indexes(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        index = Index.objects.filter(pk=local).first() or Index(id=local)
        index.reference_id = self.required("references", document.get("reference"))
        index.version = int(document["version"])
        index.created_at = _when(document.get("created_at"))
        index.manifest = {
            self.renamed.get(otu, otu): version for otu, version in (document.get("manifest") or {}).items()
        }
        index.ready = bool(document.get("ready", True))
        index.has_json = bool(document.get("has_json", False))
        index.user_id = self.local("users", document.get("user"))
        source = self.data / "references" / str(_ref_id(document.get("reference"))) / _vid(document)
        index.save()
        target = index_path(index)
        names = {name for name, _ in INDEX_FILES}
        if source.is_dir():
            for path in source.iterdir():
                if path.is_file() and path.name in names:
                    _place(path, target / path.name)
            plain_fasta = source / "ref.fa" if (source / "ref.fa").is_file() else source / "reference.fa"
            if plain_fasta.is_file() and not (target / "reference.fa.gz").exists():  # 2019 wrote it uncompressed
                target.mkdir(parents=True, exist_ok=True)
                with plain_fasta.open("rb") as raw, gzip.open(target / "reference.fa.gz", "wb") as packed:
                    shutil.copyfileobj(raw, packed)
        index.has_files = all((target / name).is_file() for name in INDEX_BOWTIE2_FILES)
        index.save(update_fields=["has_files"])
        return local

    def write_history(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        otu_vid = _ref_id(document.get("otu")) or ""
        otu_id = self.renamed.get(otu_vid, otu_vid)
        version = (document.get("otu") or {}).get("version")
        change_id = f"{otu_id}.{version if isinstance(version, int) else 'removed'}"
        diff = document.get("diff")
        if diff == "file":
            path = self._diff_file(_vid(document))
            if path is None:
                raise Skip("Its diff file is missing")
            text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
            diff = json.loads(text)
        change = Change.objects.filter(change_id=change_id).first() or Change(change_id=change_id)
        change.reference_id = self.required("references", document.get("reference"))
        change.otu_id = otu_id
        change.otu_name = str((document.get("otu") or {}).get("name") or "")
        change.otu_version = version if isinstance(version, int) else None
        change.method_name = str(document["method_name"])
        change.description = str(document.get("description") or "")
        change.index_id = self.local("indexes", document.get("index"))
        change.user_id = self.local("users", document.get("user"))
        change.created_at = _when(document.get("created_at"))
        change.diff = _remap(diff, self.renamed)
        change.save()
        return change_id

    def write_samples(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        vid = _vid(document)
        sample = Sample.objects.filter(pk=local).first() or Sample(id=local)
        sample.name = str(document["name"])
        for key in ("host", "isolate", "locale", "notes"):
            setattr(sample, key, str(document.get(key) or ""))
        library_type = document.get("library_type")
        if library_type not in LibraryType.values:
            library_type = LibraryType.SRNA if document.get("srna") else LibraryType.NORMAL
        sample.library_type = library_type
        sample.paired = bool(document.get("paired"))
        sample.group_id = self._group_pk(document.get("group"))
        for key in ("group_read", "group_write", "all_read", "all_write"):
            setattr(sample, key, bool(document.get(key, getattr(sample, key))))
        sample.user_id = self.local("users", document.get("user"))
        sample.created_at = _when(document.get("created_at"))
        sample.ready = bool(document.get("ready", document.get("imported") is False))
        sample.quality = document.get("quality")
        sample.save()
        folder = samples_path(local)
        for path in self.sample_files[vid]:
            _place(path, folder / path.name)
        labels = [self.local("labels", label) for label in document.get("labels") or []]
        sample.labels.set([int(label) for label in labels if label])
        subtractions = document.get("subtractions")
        if subtractions is None:  # 2019: one subtraction
            subtractions = [document["subtraction"]] if document.get("subtraction") else []
        sample.subtractions.set(self._subtractions(subtractions))
        check = self.legacy_checks[vid]
        sample_legacy_mark(sample=sample, check=check)
        if check.is_legacy:
            self.legacy_written.append(vid)
        return local

    def write_analyses(self, document: Document, local: str, previous: ImportedDocument | None) -> str:
        sample_id = self.local("samples", document.get("sample"))
        if sample_id is None:
            raise Skip("Its sample was not written")
        analysis = Analysis.objects.filter(pk=local).first() or Analysis(id=local)
        workflow = str(document.get("workflow") or document.get("algorithm"))
        analysis.workflow = "pathoscope_bowtie" if workflow == "pathoscope" else workflow
        analysis.sample_id = sample_id
        analysis.reference_id = self.local("references", document.get("reference"))
        analysis.reference_name = str((document.get("reference") or {}).get("name") or "")
        analysis.index_id = self.local("indexes", document.get("index"))
        analysis.index_version = (document.get("index") or {}).get("version")
        analysis.user_id = self.local("users", document.get("user"))
        analysis.ready = bool(document.get("ready"))
        analysis.created_at = _when(document.get("created_at"))
        analysis.updated_at = _when(document.get("updated_at") or document.get("created_at"))
        analysis.results = _remap(self._analysis_results(document), self.renamed)
        # What was derived from the old results is derived again on the first read.
        analysis.coverage_lines = analysis.otu_numbers = analysis.summary = analysis.headline = None
        analysis.headline_key = ""
        analysis.save()
        subtractions = document.get("subtractions")
        if subtractions is None:
            subtractions = [document["subtraction"]] if document.get("subtraction") else []
        analysis.subtractions.set(self._subtractions(subtractions))
        source = self.data / "samples" / str(_ref_id(document.get("sample"))) / "analysis" / _vid(document)
        target = analysis_path(analysis)
        if source.is_dir():
            for path in source.iterdir():
                if path.is_file():
                    _place(path, target / path.name)
        for entry in document.get("files") or []:
            on_disk = str(entry.get("name_on_disk") or entry.get("name") or "")
            if not on_disk or not (target / on_disk).is_file():
                self.problem("analyses", _vid(document), f"Its file {on_disk} is missing", skipped=False)
                continue
            file_format = entry.get("format") if entry.get("format") in AnalysisFile.Format.values else "unknown"
            AnalysisFile.objects.update_or_create(
                analysis=analysis,
                name=str(entry.get("name") or on_disk),
                defaults={
                    "name_on_disk": on_disk,
                    "format": file_format,
                    "size": (target / on_disk).stat().st_size,
                    "uploaded_at": _when(entry.get("uploaded_at")),
                    "description": str(entry.get("description") or ""),
                },
            )
        return local

    def _write_hmms(self, planned: list[tuple[Document, str]]) -> None:
        """The HMM annotations and profiles, installed together as one unit (the profiles are pressed again)."""
        if not planned:
            return
        profiles = self.data / "hmm" / "profiles.hmm"
        annotations = [{**document, "id": document["_id"]} for document, _ in planned]
        fingerprint = digest({"annotations": annotations, "profiles_size": profiles.stat().st_size})
        previous = self.known.get(("hmm", "profiles"))
        tally = self.plan.tallies["hmm"]
        if previous is not None and previous.digest == fingerprint and HMM.objects.exists():
            tally.unchanged += len(planned)
            return
        # Staged in our data folder (never Virtool's, which is only read), on the disk the profiles are linked to.
        with tempfile.TemporaryDirectory(dir=settings.DATA_PATH) as staging:
            folder = Path(staging)
            _place(profiles, folder / "profiles.hmm")
            with gzip.open(folder / "annotations.json.gz", "wt") as handle:
                json.dump(annotations, handle)
            try:
                hmm_install_path(path=folder, user=None)
            except (ApplicationError, ValueError, OSError) as error:
                for document, _ in planned:
                    self.problem("hmm", _vid(document), f"Could not be installed: {error}")
                return
        ImportedDocument.objects.update_or_create(
            collection="hmm", virtool_id="profiles", defaults={"local_id": "installed", "digest": fingerprint}
        )
        if previous is None:
            tally.created += len(planned)
        else:
            tally.updated += len(planned)
        self.progress("hmm", len(planned), len(planned))

    def _start_update(self, vid: str) -> None:
        """Queue the update_sample job of a legacy sample just imported."""
        local = self.local("samples", vid)
        sample = Sample.objects.filter(pk=local).first()
        if sample is None:
            return
        try:
            sample_update_job_start(sample=sample, user=None)
        except ApplicationError as error:
            self.problem("samples", vid, f"Its update_sample job was not started: {error}", skipped=False)

    # --- Report ------------------------------------------------------------------------------------------------

    def report(self, *, check_only: bool, started: Any) -> ImportReport:
        """Keep this run's report (the administration page shows the last one)."""
        shapes = self.plan.shapes
        legacy = []
        for vid, reasons in self.plan.legacy.items():
            sample = Sample.objects.filter(pk=self.local("samples", vid)).select_related("job").first()
            job = sample.job_id if sample is not None and not check_only else None
            legacy.append({"id": vid, "name": sample.name if sample else vid, "reasons": reasons, "job": job})
        return ImportReport.objects.create(
            created_at=started,
            finished_at=timezone.now(),
            check_only=check_only,
            dump=str(self.dump),
            data=str(self.data),
            shape="mixed" if len(shapes) > 1 else next(iter(shapes), ""),
            collections=[asdict(tally) for tally in self.plan.tallies.values() if tally.read or tally.skipped],
            problems=[asdict(problem) for problem in self.plan.problems],
            legacy_samples=legacy,
        )


def virtool_import_check(*, dump: Path, data: Path, progress: Progress | None = None) -> ImportReport:
    """Check a Virtool dump and data folder: every problem is listed, nothing but the report is written."""
    started = timezone.now()
    importer = Importer(dump=dump, data=data, progress=progress)
    importer.make_plan()
    return importer.report(check_only=True, started=started)


def virtool_import(*, dump: Path, data: Path, progress: Progress | None = None) -> ImportReport:
    """Import a Virtool dump and data folder (again: unchanged documents are left alone, changed ones updated)."""
    started = timezone.now()
    importer = Importer(dump=dump, data=data, progress=progress)
    importer.make_plan()
    importer.write()
    return importer.report(check_only=False, started=started)
