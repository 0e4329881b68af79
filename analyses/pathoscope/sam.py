"""Reading bowtie2's SAM output into flat arrays (`Alignments`) for PathoScope (`workflows.md` §1.2).

Reads are streamed: `read_sam` reads blocks of 1 MB into one buffer and the compiled kernel (`_kernel.pyx`,
Cython) parses the lines into five int32 columns; read names go into one buffer with a hash index
(`_kernel.NameTable`), about 30 bytes a read: a SAM of millions of records costs ~25 bytes per record, never a
Python object per record, field or read. Header lines and any line the kernel does not take (CRLF, a malformed
field) are read by the Python line parser, the authoritative one, which names the bad line.

Refs/reads are indexed in `Alignments` by the @SQ list (then first appearance) / first appearance. Records
without an AS:i tag are not kept (bowtie2 always writes AS:i on mapped records); a record whose CIGAR and SEQ
lengths disagree is an error, as htslib makes it in Virtool. Pure computation: no Django, no database.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from analyses.pathoscope import _kernel
from core import seqio


class SamError(ValueError):
    """A SAM file that cannot be read; the message names the line and what is wrong with it."""


@dataclass
class Alignments:
    """The mapped records of a SAM file that carry an `AS:i` tag, as flat arrays in file order.

    `ref` indexes `ref_names`, which lists the `@SQ` references in header order followed by any RNAME missing
    from the header (in order of first appearance; those have no length and so no coverage). `read` indexes
    `read_names`, in order of first appearance. `em` renumbers both by first appearance among the alignments that
    pass its cut-off, as Virtool's matrix does.
    """

    read: np.ndarray  # int32, index into read_names
    ref: np.ndarray  # int32, index into ref_names
    pos: np.ndarray  # int32 (any integer type accepted), 0-based leftmost position
    length: np.ndarray  # int32, len(SEQ), 0 for "*"
    score: np.ndarray  # int32 from read_sam (AS:i + len(SEQ)); float64 accepted
    # A list, or read_sam's compact `_kernel.NameTable` (a sequence of str equal to the list of the same names).
    read_names: Sequence[str] = field(default_factory=list)
    ref_names: list[str] = field(default_factory=list)
    ref_lengths: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.read)


def _open_sam(source: str | os.PathLike | BinaryIO) -> tuple[BinaryIO, bool]:
    """A binary line stream over `source`, gunzipped if it starts with the gzip magic; and whether to close it."""
    if isinstance(source, str | os.PathLike):
        stream: BinaryIO = open(source, "rb")  # noqa: SIM115 - closed by the caller (returned with close=True)
        close = True
    else:
        stream = source
        close = False
    peek = getattr(stream, "peek", None)
    head = peek(4)[:4] if peek is not None else b""
    if seqio.is_gzip_data(head):
        # BufferedReader over GzipFile: its readline is several times faster than GzipFile's own.
        stream = io.BufferedReader(gzip.GzipFile(fileobj=stream), buffer_size=1 << 20)
        head = stream.peek(4)[:4]
    if head == b"BAM\x01":
        if close:
            stream.close()
        raise SamError("line 1: this is a BAM file; give SAM text (samtools view -h FILE.bam)")
    return stream, close


def _parse_sq(line: bytes, lineno: int) -> tuple[bytes, int]:
    name = length = None
    for tag in line.rstrip(b"\r\n").split(b"\t")[1:]:
        if tag.startswith(b"SN:"):
            name = tag[3:]
        elif tag.startswith(b"LN:"):
            try:
                length = int(tag[3:])
            except ValueError:
                raise SamError(f"line {lineno}: @SQ length LN must be an integer, found {tag[3:]!r}") from None
    if name is None or length is None or length < 0:
        raise SamError(f"line {lineno}: @SQ header needs a name (SN:) and a length (LN:)")
    return name, length


_CIGAR = re.compile(rb"(?:[0-9]+[MIDNSHP=X])+")
_CIGAR_OP = re.compile(rb"([0-9]+)([MIDNSHP=X])")


def _cigar_query_length(cigar: bytes, lineno: int) -> int:
    """Bases of the read a CIGAR string consumes (M, I, S, =, X); -1 for "*"."""
    if cigar == b"*":
        return -1
    if not _CIGAR.fullmatch(cigar):
        raise SamError(f"line {lineno}: CIGAR is not valid: {cigar[:40]!r}")
    return sum(int(n) for n, op in _CIGAR_OP.findall(cigar) if op in b"MIS=X")


class _SamParser:
    """Accumulates the records of one SAM file: the compiled `_kernel.SamParser` reads the lines, and hands back the
    header lines and any line it does not take (CRLF, a bad field, anything unusual) to `line`, the authoritative
    line parser, which raises `SamError` naming the line or accepts what the kernel was too strict for.
    Memory: five int32 columns (20 bytes a record) and the read names (about 30 bytes a read)."""

    def __init__(self) -> None:
        self.kernel = _kernel.SamParser()
        self.ref_lengths: dict[bytes, int] = {}
        self.cigars: dict[bytes, int] = {}

    def header(self, line: bytes, lineno: int) -> None:
        if line.startswith(b"@SQ\t"):
            name, length = _parse_sq(line, lineno)
            self.kernel.refs.add(name)
            self.ref_lengths[name] = length

    def query_length(self, cigar: bytes, lineno: int) -> int:
        # Few distinct CIGARs occur in a file, so each is parsed once.
        query_len = self.cigars.get(cigar)
        if query_len is None:
            query_len = self.cigars[cigar] = _cigar_query_length(cigar, lineno)
        return query_len

    def line(self, line: bytes, lineno: int) -> None:
        """One record line, checked field by field: the behaviour the kernel follows, and the one that names errors."""
        fields = line.split(b"\t", 11)
        if len(fields) < 11:
            if not line.strip():
                return  # blank line (e.g. a trailing one)
            raise SamError(f"line {lineno}: expected at least 11 tab-separated fields, found {len(fields)}")
        try:
            flag = int(fields[1])
        except ValueError:
            raise SamError(f"line {lineno}: FLAG must be an integer, found {fields[1][:40]!r}") from None
        rname = fields[2]
        if flag & 4 or rname == b"*" or len(fields) < 12:
            return
        tags = fields[11]
        if tags.startswith(b"AS:i:"):
            start = 5
        else:
            start = tags.find(b"\tAS:i:")
            if start < 0:
                return
            start += 6
        end = tags.find(b"\t", start)
        value = tags[start:end] if end >= 0 else tags[start:]
        try:
            aln_score = int(value)
        except ValueError:
            raise SamError(f"line {lineno}: AS:i tag must be an integer, found {value.strip()[:40]!r}") from None
        try:
            pos = int(fields[3]) - 1
        except ValueError:
            raise SamError(f"line {lineno}: POS must be an integer, found {fields[3][:40]!r}") from None
        if pos >= 1 << 31:
            raise SamError(f"line {lineno}: POS {pos + 1} is beyond the SAM limit (2^31 - 1)")
        if abs(aln_score) > 1 << 30:
            raise SamError(f"line {lineno}: AS:i {aln_score} is out of range")
        seq = fields[9].rstrip(b"\r")
        seq_len = 0 if seq == b"*" else len(seq)
        # htslib (Virtool) refuses a record whose CIGAR and SEQ disagree in length, e.g. a truncated SEQ.
        query_len = self.query_length(fields[5], lineno)
        if seq_len and query_len >= 0 and query_len != seq_len:
            raise SamError(
                f"line {lineno}: the CIGAR {fields[5][:40].decode('ascii', 'replace')} covers {query_len} bases "
                f"but SEQ has {seq_len} (truncated record?)"
            )
        self.kernel.append(fields[0], rname, max(pos, 0), seq_len, aln_score + seq_len)

    def block(self, buffer: bytearray, size: int) -> None:
        """Parse the whole lines in buffer[:size] (ending with a newline)."""
        kernel = self.kernel
        offset = 0
        while offset < size:
            offset, status = kernel.parse(buffer, offset, size)
            if status == _kernel.DONE:
                break
            end = buffer.index(b"\n", offset, size)
            line = bytes(buffer[offset:end])
            if status == _kernel.HEADER:
                self.header(line, kernel.lineno)
            else:
                self.line(line, kernel.lineno)
            kernel.lineno += 1
            offset = end + 1


BLOCK_SIZE = 1 << 20


def read_sam(source: str | os.PathLike | BinaryIO, *, tee: BinaryIO | None = None) -> Alignments:
    """Parse a SAM file (path, plain or gzip, or a binary stream such as bowtie2's stdout) into `Alignments`.

    Unmapped records (flag 0x4), records with RNAME "*" and records without an `AS:i` tag are skipped; secondary
    alignments (0x100, every alignment after a read's first with bowtie2 -k) are kept. Raises `SamError` naming
    the line for a malformed header or record. Streams: reads blocks of 1 MB into one reused buffer, parsed by the
    compiled kernel; `tee`, if given, receives every byte read (e.g. `samtools view`'s stdin, to keep a BAM for
    later without reading the SAM twice).
    """
    stream, close = _open_sam(source)
    parser = _SamParser()
    buffer = bytearray(BLOCK_SIZE)
    filled = 0
    readinto = getattr(stream, "readinto", None)
    try:
        while True:
            if filled == len(buffer):
                buffer.extend(bytes(len(buffer)))  # a line longer than the buffer
            if readinto is not None:
                with memoryview(buffer) as view:
                    count = readinto(view[filled:])
            else:
                data = stream.read(len(buffer) - filled)
                count = len(data)
                buffer[filled : filled + count] = data
            if not count:
                if filled:
                    if buffer[filled - 1] != 10:
                        if filled == len(buffer):
                            buffer.append(10)
                        else:
                            buffer[filled] = 10
                        filled += 1
                    parser.block(buffer, filled)
                break
            if tee is not None:
                tee.write(buffer[filled : filled + count])
            filled += count
            cut = buffer.rfind(b"\n", 0, filled) + 1
            if cut == 0:
                continue
            parser.block(buffer, cut)
            buffer[: filled - cut] = buffer[cut:filled]
            filled -= cut
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise SamError(f"line {parser.kernel.lineno}: cannot read the file: {error}") from None
    finally:
        if close:
            stream.close()

    kernel = parser.kernel
    reads = kernel.reads
    reads.drop_index()
    return Alignments(
        read=kernel.read.array(np.int32),
        ref=kernel.ref.array(np.int32),
        pos=kernel.pos.array(np.int32),
        length=kernel.length.array(np.int32),
        score=kernel.score.array(np.int32),
        read_names=reads,
        ref_names=list(kernel.refs),
        ref_lengths={name.decode("utf-8", "replace"): length for name, length in parser.ref_lengths.items()},
    )
