"""Print the quality report of one or two FASTQ files, as Virtool stores it.

`manage.py quality` itself runs `samples.quality.main` before Django starts (manage.py hands it over); this command
is the same thing for `call_command` and `django-admin`.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from samples.quality import QualityError, quality


class Command(BaseCommand):
    """`manage.py quality READS_1 [READS_2]`."""

    help = "Print the quality JSON (FastQC's numbers) of one FASTQ file or of a pair."

    def add_arguments(self, parser) -> None:
        parser.add_argument("reads", nargs="+", help="one or two FASTQ files (plain or gzip)")

    def handle(self, *args, reads: list[str], **options) -> None:
        if len(reads) > 2:
            raise CommandError("give one file, or the two files of a pair")
        try:
            document = quality(reads)
        except (QualityError, FileNotFoundError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(document))
