"""Index constants."""

from __future__ import annotations

BOWTIE2_FILES = tuple(f"reference.{suffix}.bt2" for suffix in ("1", "2", "3", "4", "rev.1", "rev.2"))

# (name, type) of every file a build keeps, in Virtool's order.
INDEX_FILES = (
    ("reference.fa.gz", "fasta"),
    ("reference.json.gz", "json"),
    *((name, "bowtie2") for name in BOWTIE2_FILES),
)
