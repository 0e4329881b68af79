"""Print the PathoScope EM arrays of one SAM file, as Virtool's `pathoscope-core em` does."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from analyses.pathoscope.em import P_SCORE_CUTOFF, em
from analyses.pathoscope.sam import SamError, read_sam


class Command(BaseCommand):
    """`manage.py pathoscope_em ALIGNMENT.sam [--p-score-cutoff 0.01]`."""

    help = (
        "Reassign the reads of a SAM file (plain or gzip) with PathoScope's EM and print Virtool's arrays as JSON: "
        "refs, read_count, init_pi, pi, best/level hits (initial and final) and coverage."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("alignment", help="SAM file of isolate alignments (bowtie2 output), plain or gzip")
        parser.add_argument(
            "--p-score-cutoff",
            type=float,
            default=P_SCORE_CUTOFF,
            help="skip alignments with a score (AS + read length) at or below this (default %(default)s)",
        )

    def handle(self, *args, alignment: str, p_score_cutoff: float, **options) -> None:
        try:
            result = em(read_sam(alignment), p_score_cutoff=p_score_cutoff)
        except SamError as error:
            raise CommandError(f"{alignment}: {error}") from None
        except OSError as error:
            raise CommandError(f"cannot read {alignment}: {error.strerror or error}") from None
        self.stdout.write(json.dumps(result))
