"""Print the ORFs of every sequence of a FASTA file, as Virtool's ORF finder finds them."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analyses.nuvs.orfs import InvalidNucleotideError, find_orfs
from core.seqio import SequenceFormatError, read_fasta


class Command(BaseCommand):
    """`manage.py find_orfs SEQUENCES.fa[.gz]`."""

    help = (
        "Find the ORFs of each sequence of a FASTA file (plain or gzip) with NuVs's ORF finder (Virtool's: "
        "stop-to-stop, at least 100 residues, only in sequences longer than 300 nt) and print them as JSON: "
        '{"<record id>": [{"pro", "nuc", "frame", "strand", "pos"}, ...]}, in Virtool\'s order.'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("fasta", help="FASTA file of nucleotide sequences (IUPAC codes), plain or gzip")

    def handle(self, *args, fasta: str, **options) -> None:
        try:
            # Here, not in read_fasta: it would call a missing file damaged.
            with open(fasta, "rb"):
                pass
        except OSError as error:
            raise CommandError(f"cannot read {fasta}: {error.strerror or error}") from None
        found: dict[str, list[dict[str, Any]]] = {}
        number = 0
        try:
            for number, record in enumerate(read_fasta(fasta), start=1):
                record_id = record.name.split(maxsplit=1)[0] if record.name.strip() else ""
                if not record_id:
                    raise CommandError(f"{fasta}: record {number} has no id (its header line is empty)")
                if record_id in found:
                    raise CommandError(f"{fasta}: record {number}: the id {record_id!r} is used by an earlier record")
                try:
                    found[record_id] = find_orfs(record.sequence)
                except InvalidNucleotideError as error:
                    raise CommandError(f"{fasta}: record {number} ({record_id}): {error}") from None
        except SequenceFormatError as error:
            raise CommandError(f"{fasta}: {error}") from None
        if number == 0:
            raise CommandError(f"{fasta}: the file holds no FASTA records")
        self.stdout.write(json.dumps(found))
