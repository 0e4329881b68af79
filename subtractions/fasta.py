"""Host genome FASTA files: checked and counted in one streaming pass (Virtool's `count` and `gc`)."""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Callable
from pathlib import Path

# Letters a genome FASTA may hold: IUPAC nucleotide codes, gaps and masking stars, either case.
_SEQUENCE_LINE = re.compile(rb"^[ACGTURYSWKMBDHVNacgturyswkmbdhvn\-*.]*$")


class FastaError(ValueError):
    """The file is not a FASTA genome; the message says where and why."""


def fasta_stats(
    path: Path, write_to: io.BufferedIOBase | None = None, on_progress: Callable[[int], None] | None = None
):
    """Check a FASTA file (plain or gzip) and return `(count, gc)`; optionally copy it to `write_to` as it reads.

    `count` is the number of records; `gc` the proportions of a, t, g, c and n (case-insensitive) among those five
    letters, rounded half-to-even to 3 decimals (Virtool's create_subtraction).
    """
    with path.open("rb") as raw:
        magic = raw.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    counts = dict.fromkeys(b"atgcn", 0)
    count = 0
    line_number = 0
    has_sequence = False
    read = 0
    try:
        with opener(path, "rb") as handle:
            for line in handle:
                line_number += 1
                read += len(line)
                if write_to is not None:
                    write_to.write(line)
                stripped = line.rstrip(b"\r\n")
                if stripped.startswith(b">"):
                    if count and not has_sequence:
                        raise FastaError(f"line {line_number}: the record before this one has no sequence")
                    count += 1
                    has_sequence = False
                    continue
                if not stripped.strip():
                    continue
                if count == 0:
                    raise FastaError(f"line {line_number}: a FASTA file must start with a '>' header line")
                if not _SEQUENCE_LINE.match(stripped):
                    bad = sorted({chr(c) for c in stripped if not _SEQUENCE_LINE.match(bytes([c]))})[:5]
                    raise FastaError(f"line {line_number}: characters that are not nucleotides ({' '.join(bad)!s})")
                has_sequence = True
                lower = stripped.lower()
                for letter in counts:
                    counts[letter] += lower.count(bytes([letter]))
                if on_progress and line_number % 20000 == 0:
                    on_progress(read)
    except (EOFError, gzip.BadGzipFile, OSError) as error:
        raise FastaError(f"the file is damaged or truncated: {error}") from None
    if count == 0:
        raise FastaError("the file holds no FASTA records")
    if not has_sequence:
        raise FastaError("the last record has no sequence")
    total = sum(counts.values())
    gc = {chr(letter): round(value / total, 3) if total else 0.0 for letter, value in counts.items()}
    return count, {key: gc[key] for key in ("a", "c", "g", "t", "n")}
