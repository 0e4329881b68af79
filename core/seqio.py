"""Sequence files in one place: FASTA and FASTQ reading, gzip detection, and gzip writing (dnaio, xopen, ISA-L).

Everything here streams: readers are generators over one record at a time, and `fasta_scan` checks and counts a
genome in blocks of a megabyte. Whether a file is gzip is decided by its first two bytes, never by its name, so a
`reads.fq` that is compressed and a `genome.fa.gz` that is not are both read correctly.

Errors are `SequenceFormatError`, whose message starts with where the problem is ("line 12: ...", "record 3
(line 9): ...") and then says what is wrong in words a scientist reading a job's error can act on.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

import dnaio
from dnaio import SequenceRecord
from isal import igzip, isal_zlib
from xopen import xopen

__all__ = [
    "DECOMPRESSION_ERRORS",
    "GZIP_LEVEL",
    "NUCLEOTIDES",
    "FastaRecord",
    "FastaScan",
    "SequenceFormatError",
    "SequenceRecord",
    "decompressed_start",
    "fasta_scan",
    "gzip_bytes",
    "gzip_copy",
    "is_gzip",
    "is_gzip_data",
    "open_gzip_write",
    "open_read",
    "read_fasta",
    "read_fastq",
    "write_fastq",
]

GZIP_MAGIC = b"\x1f\x8b"  # RFC 1952: every gzip member starts with these two bytes

# ISA-L level 1. xopen uses ISA-L only at levels 1 and 2 (above that it falls back to zlib), and on real reads
# and viral genomes ISA-L 1 and 2 give the same size: about 15-20 % larger files than zlib's level 6, written
# about 25 times faster (reads: 0.26 vs 0.22 of the input; 580 vs 22 MB/s on this machine). The files written
# here (a sample's reads, a host genome, index FASTA) are written once inside a job and read by bowtie2, so the
# job's time matters more than the disk they take.
GZIP_LEVEL = 1

# What a failing gzip stream raises: OSError (bad header), EOFError (truncated), the zlib and ISA-L errors
# (a damaged deflate block; ISA-L's is not an OSError).
DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zlib.error,
    isal_zlib.error,  # type: ignore[assignment]  # isal's stub declares `error` an instance; it is the class
)

# Letters a genome FASTA may hold: IUPAC nucleotide codes, gaps and masking stars, either case.
NUCLEOTIDES = b"ACGTURYSWKMBDHVNacgturyswkmbdhvn-*."

_BLOCK = 1 << 20  # a megabyte of decompressed text per step: large enough for C-speed passes, small in memory
_WHITESPACE = b" \t\r\n\x0b\x0c"
_CHARACTER_NAMES = {32: "space", 9: "tab", 13: "carriage return", 11: "vertical tab", 12: "form feed"}


class SequenceFormatError(ValueError):
    """A sequence file that cannot be read as what it should be; the message says where and why."""

    def __init__(self, reason: str, *, line: int | None = None, record: int | None = None) -> None:
        self.reason = reason
        self.line = line  # 1-based, as an editor shows it
        self.record = record  # 1-based
        super().__init__(f"{_where(line, record)}{reason}")


def _where(line: int | None, record: int | None) -> str:
    if record is not None and line is not None:
        return f"record {record} (line {line}): "
    if record is not None:
        return f"record {record}: "
    if line is not None:
        return f"line {line}: "
    return ""


def _show_byte(code: int) -> str:
    if code in _CHARACTER_NAMES:
        return _CHARACTER_NAMES[code]
    return chr(code) if 32 < code < 127 else f"byte {code:#04x}"


def _damaged(error: BaseException) -> SequenceFormatError:
    return SequenceFormatError(f"the file is damaged or truncated: {error}")


# --- gzip ------------------------------------------------------------------------------------------------------


def is_gzip_data(head: bytes) -> bool:
    """Whether bytes read from the start of a file or stream begin a gzip member."""
    return head[:2] == GZIP_MAGIC


def is_gzip(path: str | Path) -> bool:
    """Whether the file at `path` is gzip-compressed, judged by its first bytes (not its name)."""
    with open(path, "rb") as handle:
        return is_gzip_data(handle.read(2))


def decompressed_start(head: bytes, size: int = 4096) -> bytes:
    """Up to `size` bytes of content from the first bytes of a file that may be gzip (e.g. an upload's head).

    A gzip head too short to yield anything gives b""; a head that is not valid gzip raises SequenceFormatError.
    """
    if not is_gzip_data(head):
        return head[:size]
    try:
        # A decompressor object, not gzip.decompress: the head is usually a cut-off piece of a larger stream.
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, size)
    except zlib.error as error:
        raise SequenceFormatError(f"the data is not valid gzip ({error})") from None


def open_read(path: str | Path, *, threads: int = 1) -> BinaryIO:
    """Open a file for reading as bytes, decompressing it if its first bytes say gzip.

    `threads=1` decompresses on another core (ISA-L through xopen) while the caller parses; use 0 for a short
    read such as a file's first kilobytes, where starting a thread costs more than it saves.
    """
    if is_gzip(path):
        return xopen(path, "rb", threads=threads, format="gz")
    # Not xopen: it would trust a ".gz" name and try to decompress a plain file.
    return open(path, "rb")


def open_gzip_write(path: str | Path, *, threads: int = 1) -> BinaryIO:
    """Open `path` for writing gzip (ISA-L, `GZIP_LEVEL`) whatever its name; `threads=1` compresses on another core."""
    return xopen(path, "wb", compresslevel=GZIP_LEVEL, threads=threads, format="gz")


def gzip_copy(source: str | Path, target: str | Path, *, on_chunk: Callable[[int], None] | None = None) -> None:
    """Compress the file `source` into `target`; `on_chunk` receives the bytes copied so far after each megabyte."""
    done = 0
    with open(source, "rb") as src, open_gzip_write(target) as dst:
        while chunk := src.read(_BLOCK):
            dst.write(chunk)
            done += len(chunk)
            if on_chunk is not None:
                on_chunk(done)


def gzip_bytes(data: bytes) -> bytes:
    """`data` as one gzip member (ISA-L, level `GZIP_LEVEL`), for a response built in memory."""
    return igzip.compress(data, compresslevel=GZIP_LEVEL)


# --- FASTA and FASTQ records -----------------------------------------------------------------------------------


class FastaRecord(NamedTuple):
    """One FASTA record: the header line without '>' and the sequence with its line breaks removed."""

    name: str
    sequence: str
    qualities: None = None  # dnaio builds every record as (name, sequence, qualities)


def read_fasta(path: str | Path) -> Iterator[FastaRecord]:
    """The records of a FASTA file (plain or gzip), one at a time; blank lines and '#' comment lines are skipped.

    Each record is held whole while it is yielded: meant for sequences of viral size. For a genome, see
    `fasta_scan`.
    """
    records = 0
    try:
        # FastaRecord rather than dnaio's SequenceRecord, which refuses a header that is not ASCII (an en dash
        # in a virus name); what a sequence may hold is the caller's to check.
        with open_read(path) as handle, dnaio.FastaReader(handle, sequence_class=FastaRecord) as reader:
            for record in reader:
                records += 1
                yield record
    except dnaio.exceptions.FastaFormatError as error:
        line = None if error.line is None else error.line + 1
        if error.message.startswith("Expected '>'"):
            found = error.message.split("but got ", 1)[-1].rstrip(".")
            raise SequenceFormatError(f"a FASTA record must start with '>' (found {found})", line=line) from None
        raise SequenceFormatError(error.message, line=line, record=records + 1) from None
    except UnicodeDecodeError:
        # Decoding runs ahead of the records in chunks, so the error cannot say where: find the line again.
        line, byte = _undecodable_line(path)
        raise SequenceFormatError(
            f"the file is not text: byte {byte:#04x} is neither ASCII nor UTF-8", line=line
        ) from None
    except DECOMPRESSION_ERRORS as error:
        raise _damaged(error) from None


def _undecodable_line(path: str | Path) -> tuple[int | None, int]:
    """The number of the first line that is not UTF-8, and its first bad byte."""
    with open_read(path, threads=0) as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                return number, line[error.start]
    return None, 0


_FASTQ_REASONS = {
    "Length of sequence and qualities differ": "quality and sequence lengths differ",
    "Premature end of file encountered": "the file ends inside this record (is it truncated?)",
    "Non-ASCII characters found in record": "the record holds characters that are not ASCII",
}


def read_fastq(path: str | Path) -> Iterator[SequenceRecord]:
    """The records of a FASTQ file (plain or gzip, four lines a record), one at a time."""
    records = 0
    try:
        with open_read(path) as handle, dnaio.FastqReader(handle) as reader:
            for record in reader:
                records += 1
                yield record
    except dnaio.exceptions.FastqFormatError as error:
        reason = next((ours for theirs, ours in _FASTQ_REASONS.items() if error.message.startswith(theirs)), None)
        if reason is None and records == 0 and error.message.endswith("but found '>'"):
            reason = "this is FASTA, not FASTQ: a FASTQ record starts with '@'"
        if reason is None:
            reason = error.message.replace("Line expected to start", "the line should start").replace(
                ", but found", ", not"
            )
        line = None if error.line is None else error.line + 1
        raise SequenceFormatError(reason, line=line, record=records + 1) from None
    except DECOMPRESSION_ERRORS as error:
        raise _damaged(error) from None


def write_fastq(path: str | Path, records: Iterable[SequenceRecord], *, compress: bool = False) -> int:
    """Write `records` as FASTQ (gzip when `compress`, whatever the name; the '+' line bare); returns how many."""
    written = 0
    with open_gzip_write(path) if compress else open(path, "wb") as handle:
        writer = dnaio.FastqWriter(handle)
        for record in records:
            writer.write(record)
            written += 1
        writer.close()  # flushes; the handle itself is closed by the `with`
    return written


# --- Genome FASTA: check and count in blocks -------------------------------------------------------------------


@dataclass(frozen=True)
class FastaScan:
    """What one pass over a FASTA file found: the number of records and how often each counted letter occurs."""

    records: int
    counts: dict[str, int]


def fasta_scan(
    path: str | Path,
    *,
    count: str = "acgtn",
    alphabet: bytes = NUCLEOTIDES,
    copy_to: BinaryIO | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> FastaScan:
    """Check a FASTA file (plain or gzip) and count its records and the letters `count` (case-insensitive).

    Every record must have a sequence, and sequence lines may hold only `alphabet` (blank lines are allowed).
    `copy_to` receives the file's exact bytes (decompressed) as they are read; `on_progress` the number of those
    bytes read so far, after each megabyte.

    Not dnaio's FastaReader: it holds a record whole (a plant chromosome is hundreds of megabytes) and gives back
    its sequence rather than the file's bytes. This pass keeps memory to a megabyte plus the longest header line.
    """
    scanner = _FastaScanner(count=count.lower(), alphabet=alphabet)
    done = 0
    pending = bytearray()  # the start of a line that the last block cut
    try:
        with open_read(path) as handle:
            while chunk := handle.read(_BLOCK):
                done += len(chunk)
                if copy_to is not None:
                    copy_to.write(chunk)
                cut = chunk.rfind(b"\n") + 1
                if cut == 0:
                    pending += chunk
                    if len(pending) >= _BLOCK and scanner.feed_long_line(pending):
                        pending = bytearray()
                else:
                    pending += chunk[:cut]
                    scanner.feed(bytes(pending))
                    pending = bytearray(chunk[cut:])
                if on_progress is not None:
                    on_progress(done)
            if pending:
                scanner.feed(bytes(pending))
    except DECOMPRESSION_ERRORS as error:
        raise _damaged(error) from None
    return scanner.finish()


class _FastaScanner:
    """The state of `fasta_scan` between blocks, each block ending at a line end (or at the file's end)."""

    def __init__(self, *, count: str, alphabet: bytes) -> None:
        self.letters = [(letter, letter.encode()) for letter in count]
        self.counts = dict.fromkeys(count, 0)
        self.alphabet = alphabet
        self.fast_allowed = alphabet + b"\r\n"  # CRLF files take the fast path too
        self.records = 0
        self.has_sequence = False
        self.line = 1  # number of the first line of the next block
        self.continues_line = False  # the last block ended inside a long sequence line

    def feed(self, block: bytes) -> None:
        """Check and count one block of whole lines."""
        position = 0
        if self.continues_line:
            self.continues_line = False
            position = block.find(b"\n") + 1 or len(block)
            self._sequence(block, 0, position)
        while position < len(block):
            if block[position] == 0x3E:  # '>': a header line
                end = block.find(b"\n", position)
                end = len(block) if end == -1 else end + 1
                if self.records and not self.has_sequence:
                    raise SequenceFormatError(
                        "the record before this one has no sequence", line=self._line_at(block, position)
                    )
                self.records += 1
                self.has_sequence = False
            else:
                end = block.find(b"\n>", position)
                end = len(block) if end == -1 else end + 1
                self._sequence(block, position, end)
            position = end
        self.line += block.count(b"\n")

    def feed_long_line(self, part: bytearray) -> bool:
        """Take the start of a sequence line longer than a block (an unwrapped chromosome) if it is clean."""
        if self.continues_line or (bytes(part[:1]) not in (b">", b"") and self.records):
            if part.translate(None, self.fast_allowed):
                return False  # something to report precisely: keep it until its line is whole
            self._count(bytes(part))
            self.has_sequence = True
            self.continues_line = True
            return True
        return False

    def _sequence(self, block: bytes, start: int, end: int) -> None:
        segment = block[start:end]
        if not segment.translate(None, _WHITESPACE):
            return  # blank lines
        if self.records == 0:
            first = start + len(segment) - len(segment.lstrip(_WHITESPACE))
            raise SequenceFormatError(
                "a FASTA file must start with a '>' header line", line=self._line_at(block, first)
            )
        if segment.translate(None, self.fast_allowed):
            self._check_lines(block, start, segment)
        self.has_sequence = True
        self._count(segment)

    def _check_lines(self, block: bytes, start: int, segment: bytes) -> None:
        line = self._line_at(block, start)
        for number, text in enumerate(segment.split(b"\n"), start=line):
            stripped = text.rstrip(b"\r")
            if not stripped.translate(None, _WHITESPACE):
                continue
            bad = stripped.translate(None, self.alphabet)
            if bad:
                shown = " ".join(sorted({_show_byte(c) for c in bad})[:5])
                raise SequenceFormatError(f"characters that are not nucleotides ({shown})", line=number)

    def _count(self, segment: bytes) -> None:
        lower = segment.lower()
        for letter, code in self.letters:
            self.counts[letter] += lower.count(code)

    def _line_at(self, block: bytes, position: int) -> int:
        return self.line + block.count(b"\n", 0, position)

    def finish(self) -> FastaScan:
        """The result, once the whole file was fed."""
        if self.records == 0:
            raise SequenceFormatError("the file holds no FASTA records")
        if not self.has_sequence:
            raise SequenceFormatError("the last record has no sequence")
        return FastaScan(records=self.records, counts=dict(self.counts))
