"""Subtraction constants."""

from __future__ import annotations

BOWTIE2_FILES = tuple(f"subtraction.{suffix}.bt2" for suffix in ("1", "2", "3", "4", "rev.1", "rev.2"))
SUBTRACTION_FILES = (("subtraction.fa.gz", "fasta"), *((name, "bowtie2") for name in BOWTIE2_FILES))
