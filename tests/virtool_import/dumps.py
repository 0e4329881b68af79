"""Small Virtool dumps written by hand after virtool-api.md §2, in the 2019 and the 36.x document shapes, and a data
folder holding the real reads of shared/data/samples (2019's pair uncompressed, as 2019 Virtool stored it)."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import bcrypt
import bson

from tests.conftest import SHARED

SAMPLES = SHARED / "data" / "samples"
HMM_DATA = SHARED / "data" / "hmm"
WHEN = datetime.datetime(2019, 9, 6, 12, 0, 0)  # naive UTC, as Virtool stores it

SALT = "s4lts4lts4lts4lts4lts4lt"
OLD_PASSWORD = "virtool2019pass"
NEW_PASSWORD = "virtool36pass!"

RNA1 = "ATGGCTAGCTAGGATCCGATCGATCGTAGCTAGCTAGCTGATCGATCGTAGCTAGCTAGCTAGCTGATCG"
RNA2 = "TTGACCGATCGGATCGATCGTAGGCTAGCTTAGCGATCGATGCTAGCTAGCTAGGATCGATCGATCGAT"


def write_dump(folder: Path, collections: dict[str, list[dict[str, Any]]]) -> Path:
    """One `<collection>.bson` per collection, as mongodump writes them (`dump/virtool/`)."""
    database = folder / "virtool"
    database.mkdir(parents=True, exist_ok=True)
    for name, documents in collections.items():
        (database / f"{name}.bson").write_bytes(b"".join(bson.encode(document) for document in documents))
    return folder


def _otu_joined(version_abbreviation: str, version: int) -> dict[str, Any]:
    """RpRSV as a joined Virtool OTU (sequences under the isolate), as history diffs hold it."""
    return {
        "_id": "rprsv001",
        "name": "Raspberry ringspot virus",
        "lower_name": "raspberry ringspot virus",
        "abbreviation": version_abbreviation,
        "reference": {"id": "ref00001"},
        "verified": True,
        "version": version,
        "last_indexed_version": 0,
        "created_at": WHEN.isoformat(),
        "imported": True,
        "remote": None,
        "user": {"id": "bob"},
        "schema": [
            {"name": "RNA1", "molecule": "ssRNA+", "required": True},
            {"name": "RNA2", "molecule": "ssRNA+", "required": True},
        ],
        "isolates": [
            {
                "id": "iso00001",
                "default": True,
                "source_type": "isolate",
                "source_name": "Scotland",
                "sequences": [_sequence("seq00001", "RNA1", RNA1), _sequence("seq00002", "RNA2", RNA2)],
            }
        ],
    }


def _sequence(sequence_id: str, segment: str, nucleotides: str) -> dict[str, Any]:
    return {
        "_id": sequence_id,
        "otu_id": "rprsv001",
        "isolate_id": "iso00001",
        "reference": {"id": "ref00001"},
        "accession": f"NC_00{sequence_id[-1]}",
        "definition": f"Raspberry ringspot virus {segment}, complete sequence",
        "host": "Rubus idaeus",
        "segment": segment,
        "sequence": nucleotides,
    }


def _reference_collections(*, shape: str) -> dict[str, list[dict[str, Any]]]:
    """The reference, RpRSV (version 1: its abbreviation changed after build 0), its history and build 0."""
    otu = {key: value for key, value in _otu_joined("RRSV", 1).items() if key != "isolates"}
    otu["isolates"] = [
        {key: value for key, value in _otu_joined("RRSV", 1)["isolates"][0].items() if key != "sequences"}
    ]
    otu["created_at"] = WHEN
    owner = {"id": "bob"} if shape == "2019" else {"id": "u0000001"}
    reference = {
        "_id": "ref00001",
        "name": "Plant viruses",
        "description": "Imported from Virtool",
        "data_type": "genome",
        "organism": "virus",
        "created_at": WHEN,
        "user": owner,
        "internal_control": None,
        "restrict_source_types": False,
        "source_types": ["isolate", "strain"],
        "groups": [],
        "users": [{"id": owner["id"], "build": True, "modify": True, "modify_otu": True, "remove": True}],
    }
    if shape == "2019":
        reference["process"] = {"id": "proc0001"}
    else:
        reference["task"] = {"id": 3}
    created = _otu_joined("RpRSV", 0)
    history = [
        {
            "_id": "rprsv001.0",
            "method_name": "create",
            "description": "Created Raspberry ringspot virus (RpRSV)",
            "created_at": WHEN,
            "otu": {"id": "rprsv001", "name": "Raspberry ringspot virus", "version": 0},
            "reference": {"id": "ref00001"},
            "index": {"id": "idx00001", "version": 0},
            "user": owner,
            "diff": created,
        },
        {
            "_id": "rprsv001.1",
            "method_name": "edit",
            "description": "Changed abbreviation to RRSV",
            "created_at": WHEN + datetime.timedelta(days=1),
            "otu": {"id": "rprsv001", "name": "Raspberry ringspot virus", "version": 1},
            "reference": {"id": "ref00001"},
            "index": {"id": "unbuilt", "version": "unbuilt"},
            "user": owner,
            "diff": [["change", "abbreviation", ["RpRSV", "RRSV"]], ["change", "version", [0, 1]]],
        },
    ]
    index = {
        "_id": "idx00001",
        "version": 0,
        "created_at": WHEN,
        "manifest": {"rprsv001": 0},
        "ready": True,
        "has_files": True,
        "reference": {"id": "ref00001"},
        "job": {"id": "job00001"},
        "user": owner,
    }
    if shape == "2019":
        index["sequence_otu_map"] = {"seq00001": "rprsv001", "seq00002": "rprsv001"}
    else:
        index["has_json"] = True
    sequences = [
        {**_sequence("seq00001", "RNA1", RNA1)},
        {**_sequence("seq00002", "RNA2", RNA2)},
    ]
    return {"references": [reference], "otus": [otu], "sequences": sequences, "history": history, "indexes": [index]}


def _hit(sequence_id: str, *, pi: float, reads: int, length: int) -> dict[str, Any]:
    """A PathoScope hit as Virtool stores it: depth per base, coverage, mean depth, final and initial numbers."""
    align = [3] * (length - 10) + [0] * 10
    numbers = {"pi": pi, "best": pi, "high": pi, "low": pi, "reads": reads}
    return {
        "id": sequence_id,
        "otu": {"id": "rprsv001", "version": 0},
        "align": align,
        "coverage": round((length - 10) / length, 3),
        "depth": round(sum(align) / length, 3),
        "final": numbers,
        "initial": {**numbers, "reads": reads + 2},
    }


HITS = [_hit("seq00001", pi=0.61, reads=610, length=len(RNA1)), _hit("seq00002", pi=0.39, reads=390, length=len(RNA2))]


def dump_2019() -> dict[str, list[dict[str, Any]]]:
    """A 2019 instance: users keyed by handle with sha512+salt passwords, groups keyed by name, one subtraction
    with a user-given id, a legacy sample (uncompressed reads_N.fastq, `srna`, single `subtraction`) and its
    PathoScope analysis (`algorithm`, hits as a list)."""
    return {
        "groups": [{"_id": "technicians", "permissions": {"create_sample": True, "upload_file": True}}],
        "users": [
            {
                "_id": "bob",
                "administrator": True,
                "identicon": "abc",
                "groups": ["technicians"],
                "primary_group": "technicians",
                "permissions": {"create_sample": True},
                "force_reset": False,
                "last_password_change": WHEN,
                "password": hashlib.sha512(SALT.encode() + OLD_PASSWORD.encode()).hexdigest(),
                "salt": SALT,
                "settings": {"quick_analyze_workflow": "pathoscope_bowtie", "skip_quick_analyze_dialog": True},
            }
        ],
        "settings": [
            {
                "_id": "settings",
                "sample_group": "users_primary_group",
                "sample_all_read": False,
                "sample_group_read": True,
                "minimum_password_length": 10,
                "software_channel": "stable",
                "proc": 8,
            }
        ],
        "subtraction": [
            {
                "_id": "arabidop",
                "is_host": True,
                "ready": True,
                "count": 7,
                "gc": {"a": 0.319, "c": 0.18, "g": 0.18, "t": 0.319, "n": 0.002},
                "file": {"id": "abc-arabidopsis.fa.gz", "name": "arabidopsis.fa.gz"},
                "user": {"id": "bob"},
                "created_at": WHEN,
            }
        ],
        **_reference_collections(shape="2019"),
        "samples": [
            {
                "_id": "smp2019a",
                "name": "Raspberry 2019",
                "host": "Rubus idaeus",
                "isolate": "",
                "locale": "Scotland",
                "srna": False,
                "subtraction": {"id": "arabidop"},
                "files": [{"id": "u1-rprsv_1.fastq", "name": "rprsv_1.fastq", "size": 1}],
                "paired": True,
                "group": "technicians",
                "group_read": True,
                "group_write": True,
                "all_read": False,
                "all_write": False,
                "user": {"id": "bob"},
                "created_at": WHEN,
                "imported": False,
                "analyzed": True,
                "archived": False,
                "format": "fastq",
                "quality": None,
                "nuvs": False,
                "pathoscope": True,
            }
        ],
        "analyses": [
            {
                "_id": "ana2019a",
                "algorithm": "pathoscope_bowtie",
                "ready": True,
                "created_at": WHEN,
                "sample": {"id": "smp2019a"},
                "reference": {"id": "ref00001", "name": "Plant viruses"},
                "index": {"id": "idx00001", "version": 0},
                "subtraction": {"id": "arabidop"},
                "user": {"id": "bob"},
                "job": {"id": "job00002"},
                "read_count": 1000,
                "subtracted_count": 12,
                "results": HITS,
            }
        ],
    }


def _hmm_documents() -> list[dict[str, Any]]:
    """The real annotations of shared/data/hmm as Virtool's `hmm` documents."""
    records = json.loads(gzip.decompress((HMM_DATA / "annotations.json.gz").read_bytes()))
    return [{"_id": f"hmm{record['cluster']:05d}", "hidden": False, **record} for record in records]


def dump_36(*, password_hash: bytes | None = None) -> dict[str, list[dict[str, Any]]]:
    """A 36.x instance: users with handles, roles and bcrypt hashes, groups with names, labels, a ready sample in
    today's form with its PathoScope and NuVs analyses (results documents, analysis files) and the HMMs."""
    hashed = password_hash or bcrypt.hashpw(NEW_PASSWORD.encode(), bcrypt.gensalt(4))
    hmms = _hmm_documents()
    return {
        "groups": [{"_id": "grp00001", "name": "Diagnostics", "permissions": {"create_ref": True}}],
        "users": [
            {
                "_id": "u0000001",
                "handle": "alice",
                "administrator_role": "full",
                "active": True,
                "force_reset": False,
                "email": "alice@example.org",
                "groups": ["grp00001"],
                "primary_group": {"id": "grp00001"},
                "password": hashed,
                "last_password_change": WHEN,
                "invalidate_sessions": False,
                "settings": {"show_ids": True, "show_versions": True, "skip_quick_analyze_dialog": True},
            }
        ],
        "labels": [{"_id": 1, "name": "Quarantine", "color": "#E0282E", "description": "Held at the border"}],
        **_reference_collections(shape="36"),
        "samples": [
            {
                "_id": "smp0036a",
                "name": "Raspberry 2025",
                "host": "Rubus idaeus",
                "isolate": "R-17",
                "locale": "Dundee",
                "notes": "Leaf tissue",
                "library_type": "normal",
                "labels": [1],
                "subtractions": [],
                "group": "grp00001",
                "group_read": True,
                "group_write": False,
                "all_read": True,
                "all_write": False,
                "user": {"id": "u0000001"},
                "created_at": WHEN,
                "format": "fastq",
                "paired": True,
                "hold": True,
                "is_legacy": False,
                "ready": True,
                "quality": {
                    "count": 2000,
                    "encoding": "Sanger / Illumina 1.9",
                    "gc": 45.0,
                    "length": [150, 150],
                    "bases": [[36, 37, 35, 38, 30, 39]],
                    "composition": [[25.0, 25.0, 25.0, 25.0]],
                    "sequences": [0] * 49 + [2000],
                },
                "job": {"id": "job00003"},
                "uploads": [{"id": 4}],
                "nuvs": True,
                "pathoscope": True,
                "workflows": {"aodp": "incompatible", "iimi": "none", "nuvs": "complete", "pathoscope": "complete"},
                "space": {"id": 0},
            }
        ],
        "analyses": [
            {
                "_id": "ana0036a",
                "workflow": "pathoscope_bowtie",
                "ready": True,
                "created_at": WHEN,
                "updated_at": WHEN,
                "sample": {"id": "smp0036a"},
                "reference": {"id": "ref00001"},
                "index": {"id": "idx00001", "version": 0},
                "subtractions": [],
                "job": {"id": "job00004"},
                "user": {"id": "u0000001"},
                "ml": None,
                "results": {"read_count": 1000, "subtracted_count": 12, "hits": HITS},
                "files": [],
                "space": {"id": 0},
            },
            {
                "_id": "nuv0036a",
                "workflow": "nuvs",
                "ready": True,
                "created_at": WHEN,
                "updated_at": WHEN,
                "sample": {"id": "smp0036a"},
                "reference": {"id": "ref00001"},
                "index": {"id": "idx00001", "version": 0},
                "subtractions": [],
                "user": {"id": "u0000001"},
                "results": "file",
                "files": [
                    {
                        "id": 7,
                        "name": "assembly.fa.gz",
                        "name_on_disk": "assembly.fa.gz",
                        "format": "fasta",
                        "size": 10,
                        "uploaded_at": WHEN,
                        "description": "Contigs assembled by SPAdes",
                    }
                ],
            },
        ],
        "hmm": hmms,
    }


NUVS_RESULTS = {
    "hits": [
        {
            "index": 0,
            "sequence": RNA1,
            "orfs": [
                {
                    "index": 0,
                    "pro": "MASS",
                    "nuc": RNA1[:12],
                    "frame": 1,
                    "strand": 1,
                    "pos": [0, 12],
                    "hits": [
                        {
                            "hit": "hmm00010",
                            "full_e": 1e-12,
                            "full_score": 50.1,
                            "full_bias": 0.1,
                            "best_e": 1e-11,
                            "best_bias": 0.1,
                            "best_score": 49.0,
                        }
                    ],
                }
            ],
        }
    ]
}


def data_folder(folder: Path, *, shape: str) -> Path:
    """Virtool's data folder for the dump of `shape`: real reads (2019's pair uncompressed, as `reads_N.fastq`),
    the index and subtraction files, analysis files and the HMM profiles."""
    if shape == "2019":
        sample = folder / "samples" / "smp2019a"
        sample.mkdir(parents=True)
        for mate in (1, 2):
            with (
                gzip.open(SAMPLES / f"rprsv_{mate}.fq.gz", "rb") as packed,
                (sample / f"reads_{mate}.fastq").open("wb") as raw,
            ):
                shutil.copyfileobj(packed, raw)
        subtraction = folder / "subtractions" / "arabidop"
        subtraction.mkdir(parents=True)
        for suffix in ("1", "2", "3", "4", "rev.1", "rev.2"):
            (subtraction / f"reference.{suffix}.bt2").write_bytes(f"bowtie2 {suffix}".encode())
    else:
        sample = folder / "samples" / "smp0036a"
        sample.mkdir(parents=True)
        for mate in (1, 2):
            shutil.copyfile(SAMPLES / f"rprsv_{mate}.fq.gz", sample / f"reads_{mate}.fq.gz")
        nuvs = sample / "analysis" / "nuv0036a"
        nuvs.mkdir(parents=True)
        (nuvs / "results.json").write_text(json.dumps(NUVS_RESULTS))
        (nuvs / "assembly.fa.gz").write_bytes(gzip.compress(f">0\n{RNA1}\n".encode()))
        hmm = folder / "hmm"
        hmm.mkdir()
        shutil.copyfile(HMM_DATA / "profiles.hmm", hmm / "profiles.hmm")
    index = folder / "references" / "ref00001" / "idx00001"
    index.mkdir(parents=True)
    (index / "reference.fa.gz").write_bytes(gzip.compress(f">seq00001\n{RNA1}\n>seq00002\n{RNA2}\n".encode()))
    for suffix in ("1", "2", "3", "4", "rev.1", "rev.2"):
        (index / f"reference.{suffix}.bt2").write_bytes(f"bowtie2 {suffix}".encode())
    return folder
