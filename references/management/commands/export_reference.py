"""Export a reference as Virtool's reference.json.gz."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import NotFound
from references import formats


class Command(BaseCommand):
    """`manage.py export_reference ID FILE [--scope built|unbuilt|remote]`."""

    help = "Write a reference to FILE in Virtool's reference.json.gz format."

    def add_arguments(self, parser) -> None:
        parser.add_argument("reference_id")
        parser.add_argument("file", type=Path)
        parser.add_argument("--scope", choices=["built", "unbuilt", "remote"], default="unbuilt")

    def handle(self, *args, reference_id: str, file: Path, scope: str, **options) -> None:
        from indexes.selectors import reference_document
        from references.selectors import reference_get

        try:
            reference = reference_get(reference_id=reference_id)
        except NotFound as error:
            raise CommandError(error.message) from None
        document = reference_document(reference=reference, scope=scope)
        formats.write_reference_file(file, document)
        self.stdout.write(f"Wrote {len(document['otus'])} OTUs of {reference.name} ({scope}) to {file}")
