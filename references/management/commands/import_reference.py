"""Import a Virtool reference file (or a multi-FASTA) as a new reference, with a progress bar."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from references import formats


class Command(BaseCommand):
    """`manage.py import_reference FILE [--name NAME] [--user HANDLE]`."""

    help = "Import reference.json.gz (Virtool's format) or a multi-FASTA file as a new reference."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--name", help="reference name (default: the name in the file, or the file name)")
        parser.add_argument("--user", help="handle of the user the reference and its history belong to")

    def handle(self, *args, file: Path, name: str | None, user: str | None, **options) -> None:
        from otus.services import otus_import
        from references.services import reference_finish_fill, reference_new

        if not file.exists():
            raise CommandError(f"{file} does not exist")
        User = get_user_model()
        owner = None
        if user:
            owner = User.objects.filter(handle=user).first()
            if owner is None:
                raise CommandError(f"no user with handle {user!r}")
        else:
            owner = User.objects.filter(administrator_role="full").order_by("pk").first()
        try:
            content = formats.read_reference_file(file)
        except formats.ReferenceFileError as error:
            raise CommandError(error.message) from None
        problems = formats.validate(content)
        if problems:
            for problem in problems:
                self.stderr.write(f"  {'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}")
            raise CommandError(f"{len(problems)} problem(s) in {file}; nothing was imported")
        with transaction.atomic():
            reference = reference_new(
                user=owner,
                data={
                    "name": name or "",
                    "data_type": content.get("data_type") or "genome",
                    "organism": content.get("organism") or "",
                },
                default_name=content.get("name") or file.name,
                targets=content.get("targets"),
                imported_from={"name": file.name},
                ready=False,
            )
        started = time.monotonic()
        try:
            otus_import(
                reference_id=reference.pk, otus=content["otus"], method_name="import", user=owner, on_progress=self._bar
            )
        except BaseException:
            reference.delete()
            raise
        reference_finish_fill(reference_id=reference.pk)
        sys.stderr.write("\n")
        self.stdout.write(
            f"Imported {len(content['otus'])} OTUs into reference {reference.pk} ({reference.name}) "
            f"in {time.monotonic() - started:.1f} s"
        )

    def _bar(self, done: int, total: int) -> None:
        width = 40
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} OTUs")
        sys.stderr.flush()
