"""Reading a mongodump folder: one `<collection>.bson` (or `.bson.gz`) per collection, no MongoDB server needed."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bson
from bson.errors import InvalidBSON

Document = dict[str, Any]


@dataclass
class Collection:
    """The documents read from one collection's file, and where reading it stopped if the file is damaged."""

    name: str
    documents: list[Document] = field(default_factory=list)
    error: str | None = None


def plain(value: Any) -> Any:
    """A BSON value as JSON: datetimes as ISO 8601 UTC, ObjectIds and UUIDs as strings, bytes as text."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        return aware.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, bson.ObjectId | uuid.UUID | bson.Decimal128 | bson.Int64):
        return str(value) if not isinstance(value, bson.Int64) else int(value)
    return value


def digest(document: Document) -> str:
    """A stable fingerprint of a (plain) document, to tell a changed document from one already imported."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def dump_folder(path: Path) -> Path:
    """The folder holding the .bson files: `path` itself, or its one database folder (mongodump writes
    `dump/<database>/<collection>.bson`)."""
    if any(path.glob("*.bson")) or any(path.glob("*.bson.gz")):
        return path
    folders = [child for child in path.iterdir() if child.is_dir() and any(child.glob("*.bson*"))]
    if len(folders) == 1:
        return folders[0]
    return path


def collection_read(folder: Path, name: str) -> Collection | None:
    """Every document of `name` up to any damage (a truncated or corrupt document ends the reading, reported in
    `error`); None when the dump has no such collection."""
    path = folder / f"{name}.bson"
    gz = folder / f"{name}.bson.gz"
    if not path.is_file() and not gz.is_file():
        return None
    data = gzip.decompress(gz.read_bytes()) if not path.is_file() else path.read_bytes()
    collection = Collection(name=name)
    stream = io.BytesIO(data)
    try:
        for document in bson.decode_file_iter(stream):
            collection.documents.append(plain(document))
    except (InvalidBSON, ValueError, EOFError) as error:
        collection.error = (
            f"The file is damaged after document {len(collection.documents)} (byte {stream.tell()} of {len(data)}): "
            f"{error or 'truncated'}"
        )
    return collection
