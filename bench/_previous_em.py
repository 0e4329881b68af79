"""The previous PathoScope implementation (numpy only), kept for `bench/pathoscope_em.py`'s before/after table.

Verbatim from `analyses/pathoscope/sam.py` and `em.py` before the compiled kernels (commit 1623910): the numpy
block parser (`read_sam`) and the vectorised EM (`em`), float64 scores and int64 positions. Not used by the
application.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import re
from array import array
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

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
    pos: np.ndarray  # int64, 0-based leftmost position
    length: np.ndarray  # int32, len(SEQ), 0 for "*"
    score: np.ndarray  # float64, AS:i + len(SEQ)
    read_names: list[str] = field(default_factory=list)
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
    """Accumulates the records of one SAM file, block by block.

    Each block of whole lines goes through `block` (numpy over the block's bytes: per-read and per-reference work
    in Python only once per run of records of one read, per distinct reference name and per distinct CIGAR). If
    anything in the block looks wrong, or unusual, the block is parsed again by `lines`, the line-by-line parser,
    which is the authoritative one: it raises `SamError` naming the first bad line, or accepts what the fast path
    was too strict for. Memory: the typed arrays (~32 bytes per record) plus one block.
    """

    def __init__(self) -> None:
        self.reads: dict[bytes, int] = {}
        self.refs: dict[bytes, int] = {}
        self.ref_lengths: dict[bytes, int] = {}
        self.cigars: dict[bytes, int] = {}
        self.read = array("i")
        self.ref = array("i")
        self.pos = array("q")
        self.length = array("i")
        self.score = array("d")

    def header(self, line: bytes, lineno: int) -> None:
        if line.startswith(b"@SQ\t"):
            name, length = _parse_sq(line, lineno)
            if name not in self.refs:
                self.refs[name] = len(self.refs)
            self.ref_lengths[name] = length

    def query_length(self, cigar: bytes, lineno: int) -> int:
        # Few distinct CIGARs occur in a file, so each is parsed once.
        query_len = self.cigars.get(cigar)
        if query_len is None:
            query_len = self.cigars[cigar] = _cigar_query_length(cigar, lineno)
        return query_len

    def lines(self, lines, first_lineno: int) -> None:
        """Line-by-line fallback of `block`: the authoritative behaviour, and the one that names what is wrong."""
        reads, refs = self.reads, self.refs
        # Bound methods: this loop runs once per record, attribute lookups are a measurable share of it.
        add_read, add_ref, add_pos, add_len, add_score = (
            self.read.append,
            self.ref.append,
            self.pos.append,
            self.length.append,
            self.score.append,
        )
        reads_setdefault = reads.setdefault
        for lineno, line in enumerate(lines, first_lineno):
            if line[:1] == b"@":
                self.header(line, lineno)
                continue
            fields = line.split(b"\t", 11)
            if len(fields) < 11:
                if not line.strip():
                    continue  # blank line (e.g. a trailing one)
                raise SamError(f"line {lineno}: expected at least 11 tab-separated fields, found {len(fields)}")
            try:
                flag = int(fields[1])
            except ValueError:
                raise SamError(f"line {lineno}: FLAG must be an integer, found {fields[1][:40]!r}") from None
            rname = fields[2]
            if flag & 4 or rname == b"*" or len(fields) < 12:
                continue
            tags = fields[11]
            if tags.startswith(b"AS:i:"):
                start = 5
            else:
                start = tags.find(b"\tAS:i:")
                if start < 0:
                    continue
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
            seq = fields[9]
            seq_len = 0 if seq == b"*" else len(seq)
            # htslib (Virtool) refuses a record whose CIGAR and SEQ disagree in length, e.g. a truncated SEQ.
            query_len = self.query_length(fields[5], lineno)
            if seq_len and query_len >= 0 and query_len != seq_len:
                raise SamError(
                    f"line {lineno}: the CIGAR {fields[5][:40].decode('ascii', 'replace')} covers {query_len} bases "
                    f"but SEQ has {seq_len} (truncated record?)"
                )
            ref_index = refs.get(rname)
            if ref_index is None:
                ref_index = refs[rname] = len(refs)
            add_read(reads_setdefault(fields[0], len(reads)))
            add_ref(ref_index)
            add_pos(pos if pos > 0 else 0)
            add_len(seq_len)
            add_score(aln_score + seq_len)

    def block(self, data: bytes, size: int, first_lineno: int) -> int:
        """Parse the whole lines in data[:size] (ending with a newline); return how many lines there were.

        `data` has at least 8 more bytes after `size` (any content). Falls back to `lines` on anything unusual.
        """
        lines = self._block(data, size, first_lineno)
        if lines < 0:
            chunk = data[:size].split(b"\n")[:-1]
            self.lines(chunk, first_lineno)
            lines = len(chunk)
        return lines

    def _block(self, data: bytes, size: int, first_lineno: int) -> int:
        """The fast path: numpy over the block's bytes. Returns the number of lines, or -1 to use `lines`."""
        a = np.frombuffer(data, dtype=np.uint8, count=size)
        # One pass for both separators (tab 9, newline 10); other control bytes would be caught below.
        sep = np.flatnonzero(a <= 10)
        kind = a[sep]
        if (kind < 9).any():
            return -1  # other control bytes: the line parser decides
        newline = kind == 10
        ends = sep[newline]
        tabs = sep[~newline]
        n_lines = len(ends)
        if n_lines == 0:
            return 0
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        nonblank = ends > starts
        if (a[ends[nonblank] - 1] == 13).any():
            return -1  # CRLF line ends: leave to the line parser
        header = nonblank & (a[np.minimum(starts, size - 1)] == 64)
        for i in np.flatnonzero(header).tolist():
            self.header(data[starts[i] : ends[i]], first_lineno + i)
        if not nonblank.all():
            return -1  # blank lines: rare, the line parser skips them
        record = ~header
        first_tab = np.searchsorted(tabs, starts)
        count = np.searchsorted(tabs, ends) - first_tab
        rec = np.flatnonzero(record)
        if len(rec) == 0:
            return n_lines
        if (count[rec] < 10).any():
            return -1  # too few fields: the line parser says which line
        base = first_tab[rec]
        t0, t1, t2, t3, t4, t5, _, _, t8, t9 = (tabs[base + k] for k in range(10))
        flag, ok = _parse_uints(a, t0 + 1, t1)
        if not ok.all():
            return -1
        rname_star = (t2 - t1 == 2) & (a[t1 + 1] == 42)
        candidate = ((flag & 4) == 0) & ~rname_star & (count[rec] >= 11)
        # AS:i: the first tag field starting "AS:i:". bowtie2 writes it first: check the first tag of every record;
        # only if some candidate has it elsewhere, look at every tab of rank >= 10 (slower).
        t10 = tabs[np.minimum(base + 10, len(tabs) - 1)]
        first_is_as = (count[rec] >= 11) & _is_as(a, t10)
        if (first_is_as | ~candidate).all():
            p_line = rec[first_is_as]
            p = t10[first_is_as]
            p_tab = (base + 10)[first_is_as]
        else:
            t = tabs[tabs + 6 < size]
            hit = np.flatnonzero(_is_as(a, t))
            p = t[hit]
            p_line = np.searchsorted(ends, p)
            in_tags = hit - first_tab[p_line] >= 10
            p, p_line, hit = p[in_tags], p_line[in_tags], hit[in_tags]
            first_of_line = np.ones(len(p), dtype=bool)
            first_of_line[1:] = p_line[1:] != p_line[:-1]
            p, p_line, p_tab = p[first_of_line], p_line[first_of_line], hit[first_of_line]
        # The value runs to the next tab of the same line, or to the end of the line.
        following = np.minimum(p_tab + 1, len(tabs) - 1)
        value_end = np.where((p_tab + 1 < len(tabs)) & (tabs[following] < ends[p_line]), tabs[following], ends[p_line])
        values, ok = _parse_ints(a, p + 6, value_end)
        record_of_line = np.full(n_lines, -1, dtype=np.int64)
        record_of_line[rec] = np.arange(len(rec))
        as_record = record_of_line[p_line]
        as_value = np.zeros(len(rec), dtype=np.int64)
        has_as = np.zeros(len(rec), dtype=bool)
        bad_as = np.zeros(len(rec), dtype=bool)
        as_value[as_record] = values
        has_as[as_record] = True
        bad_as[as_record] = ~ok
        if (bad_as & candidate).any():
            return -1
        sel = np.flatnonzero(candidate & has_as)
        if len(sel) == 0:
            return n_lines
        line_start, t0, t1, t2, t3, t4, t5, t8, t9 = (x[sel] for x in (starts[rec], t0, t1, t2, t3, t4, t5, t8, t9))
        pos, ok = _parse_uints(a, t2 + 1, t3)
        if not ok.all():
            return -1
        seq_len = t9 - t8 - 1
        seq_len[(seq_len == 1) & (a[t8 + 1] == 42)] = 0
        words = _u64(data)
        # CIGAR: one check per distinct string.
        cigars, cigar_index = _distinct(data, words, t4 + 1, t5)
        if cigars is None:
            return -1
        query = np.array(
            [self.query_length(c, first_lineno) if c == b"*" or _CIGAR.fullmatch(c) else -2 for c in cigars],
            dtype=np.int64,
        )
        record_query = query[cigar_index]
        if (record_query == -2).any() or ((seq_len > 0) & (record_query >= 0) & (record_query != seq_len)).any():
            return -1
        # References: one dict lookup per distinct name.
        ref_names, ref_index = _distinct(data, words, t1 + 1, t2)
        if ref_names is None:
            return -1
        ref_ids = np.array([self.refs.setdefault(name, len(self.refs)) for name in ref_names], dtype=np.int32)
        # Reads: one dict lookup per run of consecutive records with the same QNAME.
        names = _words(words, line_start, t0)
        if names is None:
            return -1
        new = np.ones(len(sel), dtype=bool)
        new[1:] = (names[1:] != names[:-1]).any(axis=1)
        run_start = np.flatnonzero(new)
        setdefault = self.reads.setdefault
        read_ids = np.array(
            [
                setdefault(data[s:e], len(self.reads))
                for s, e in zip(line_start[run_start].tolist(), t0[run_start].tolist(), strict=True)
            ],
            dtype=np.int32,
        )
        run_length = np.diff(np.append(run_start, len(sel)))
        self.read.frombytes(np.repeat(read_ids, run_length).tobytes())
        self.ref.frombytes(ref_ids[ref_index].tobytes())
        self.pos.frombytes(np.maximum(pos - 1, 0).astype(np.int64).tobytes())
        self.length.frombytes(seq_len.astype(np.int32).tobytes())
        self.score.frombytes((as_value[sel] + seq_len).astype(np.float64).tobytes())
        return n_lines


# Longest QNAME / RNAME / CIGAR the fast path handles (SAM caps QNAME at 254); longer ones go to the line parser.
_MAX_FIELD = 256


def _parse_uints(a: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unsigned decimal integers in a[start:end] for each pair, and whether each was well formed (1-18 digits)."""
    length = end - start
    ok = (length > 0) & (length <= 18)
    value = np.zeros(len(start), dtype=np.int64)
    for d in range(int(length.max()) if len(length) else 0):
        inside = d < length
        digit = a[np.where(inside, start + d, 0)].astype(np.int64) - 48
        ok &= ~inside | ((digit >= 0) & (digit <= 9))
        value = np.where(inside, value * 10 + digit, value)
    return value, ok


def _parse_ints(a: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed decimal integers ("-" allowed) in a[start:end]."""
    negative = (end > start) & (a[np.minimum(start, len(a) - 1)] == 45)
    value, ok = _parse_uints(a, start + negative, end)
    return np.where(negative, -value, value), ok


def _is_as(a: np.ndarray, tab: np.ndarray) -> np.ndarray:
    """Whether each tab position is followed by "AS:i:" (the caller guarantees 6 readable bytes)."""
    return (a[tab + 1] == 65) & (a[tab + 2] == 83) & (a[tab + 3] == 58) & (a[tab + 4] == 105) & (a[tab + 5] == 58)


def _u64(data: bytes) -> np.ndarray:
    """A little-endian uint64 read at every byte offset of `data` (an overlapping, unaligned view: no copy)."""
    return np.ndarray(shape=(max(len(data) - 7, 0),), dtype="<u8", buffer=data, offset=0, strides=(1,))


_LOW_BYTES = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _words(words: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray | None:
    """The byte strings data[start:end] as rows of 8-byte words, zero past each end (None if one is too long).

    Two strings are equal when their rows are (SAM names and CIGARs contain no NUL byte). Reads words through
    `_u64`: one gather per 8 bytes of the longest string, however many records.
    """
    length = end - start
    longest = int(length.max()) if len(length) else 0
    if longest > _MAX_FIELD or longest < 1:
        return None
    count = (longest + 7) // 8
    rows = np.empty((len(start), count + 1), dtype=np.uint64)
    for j in range(count):
        rows[:, j] = words[np.minimum(start + 8 * j, len(words) - 1)] & _LOW_BYTES[np.clip(length - 8 * j, 0, 8)]
    rows[:, count] = length  # guards against a string that is a prefix of another followed by NULs
    return rows


def _distinct(
    data: bytes, words: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[list[bytes] | None, np.ndarray]:
    """Distinct byte strings among data[start:end] and the index of each record's one (None if too long)."""
    rows = _words(words, start, end)
    if rows is None:
        return None, start
    # Sort one 64-bit hash per string rather than the strings, then check that equal hashes are equal strings.
    key = rows[:, 0].copy()
    for column in range(1, rows.shape[1]):
        key = key * np.uint64(0x100000001B3) ^ rows[:, column]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if not (rows[first][inverse] == rows).all():
        return None, start  # a hash collision: astronomically rare, the line parser handles the block
    return [data[s:e] for s, e in zip(start[first].tolist(), end[first].tolist(), strict=True)], inverse


BLOCK_SIZE = 8 << 20


def read_sam(source: str | os.PathLike | BinaryIO) -> Alignments:
    """Parse a SAM file (path, plain or gzip, or a binary stream such as bowtie2's stdout) into `Alignments`.

    Unmapped records (flag 0x4), records with RNAME "*" and records without an `AS:i` tag are skipped; secondary
    alignments (0x100, every alignment after a read's first with bowtie2 -k) are kept. Raises `SamError` naming
    the line for a malformed header or record. Streams: reads blocks of about 8 MB of whole lines, parsed with
    numpy; a block with anything unusual in it (CRLF, blank lines, very long names, a bad field) is read again
    line by line, which accepts what the fast path is too strict for and names the first bad line.
    """
    stream, close = _open_sam(source)
    parser = _SamParser()
    lineno = 1
    rest = b""
    # Blocks carry 16 spare bytes after their data, so that 8-byte reads near the end stay inside the buffer.
    slack = bytes(16)
    try:
        while True:
            data = stream.read(BLOCK_SIZE)
            if not data:
                if rest:
                    lineno += parser.block(rest + b"\n" + slack, len(rest) + 1, lineno)
                break
            data = rest + data + slack
            cut = data.rfind(b"\n", 0, len(data) - len(slack)) + 1
            if cut == 0:
                rest = data[: len(data) - len(slack)]
                continue
            lineno += parser.block(data, cut, lineno)
            rest = data[cut : len(data) - len(slack)]
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise SamError(f"line {lineno}: cannot read the file: {error}") from None
    finally:
        if close:
            stream.close()

    def as_numpy(values: array, dtype) -> np.ndarray:
        return np.frombuffer(values, dtype=dtype) if len(values) else np.zeros(0, dtype)

    return Alignments(
        read=as_numpy(parser.read, np.int32),
        ref=as_numpy(parser.ref, np.int32),
        pos=as_numpy(parser.pos, np.int64),
        length=as_numpy(parser.length, np.int32),
        score=as_numpy(parser.score, np.float64),
        read_names=[name.decode("utf-8", "replace") for name in parser.reads],
        ref_names=[name.decode("utf-8", "replace") for name in parser.refs],
        ref_lengths={name.decode("utf-8", "replace"): length for name, length in parser.ref_lengths.items()},
    )


#: Virtool's P_SCORE_CUTOFF: alignment-score cut-off of the matrix and posterior cut-off of coverage.
P_SCORE_CUTOFF = 0.01

# compute_best_hit's thresholds are literals in Virtool, not the p-score cut-off.
LEVEL_1 = 0.5
LEVEL_2 = 0.01


def host_scores(source: str | os.PathLike | BinaryIO) -> dict[str, float]:
    """Read name -> score (AS + len(SEQ)) of its alignment in a subtraction (host) mapping SAM.

    Stored as float32, as Virtool does (the comparison with isolate scores is in f32); the last record of a read
    wins (bowtie2 without -k reports one alignment per read).
    """
    alignments = read_sam(source)
    scores = alignments.score.astype(np.float32).tolist()  # float32 values, exactly representable as float
    names = alignments.read_names
    return {names[read]: score for read, score in zip(alignments.read.tolist(), scores, strict=True)}


def eliminate(alignments: Alignments, host: dict[str, float]) -> tuple[np.ndarray, set[str]]:
    """Per-alignment subtraction elimination: a keep-mask over `alignments` and the names of subtracted reads.

    A record is eliminated when its read maps to the host with a score >= its isolate score, both compared as
    float32 (ties eliminate). Other records of the same read with higher isolate scores are kept; the read still
    counts as subtracted (and leaves the reads carried to the next subtraction).
    """
    # One lookup per distinct read, not per record; reads absent from the host get NaN, which never compares >=.
    per_read = np.array([host.get(name, np.nan) for name in alignments.read_names], dtype=np.float32)
    host_of_record = per_read[alignments.read] if len(per_read) else np.zeros(0, np.float32)
    eliminated = host_of_record >= alignments.score.astype(np.float32)
    names = alignments.read_names
    subtracted = {names[read] for read in np.unique(alignments.read[eliminated]).tolist()}
    return ~eliminated, subtracted


def _first_appearance(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber `values` (indices < size) by order of first appearance: (old index of each new one, new values)."""
    n = len(values)
    first = np.full(size, n, dtype=np.int64)
    np.minimum.at(first, values, np.arange(n))
    present = np.flatnonzero(first < n)
    order = present[np.argsort(first[present], kind="stable")]
    mapping = np.full(size, -1, dtype=np.int64)
    mapping[order] = np.arange(len(order))
    return order, mapping[values]


def _best_hit(
    unique_ref: np.ndarray,
    multi_ref: np.ndarray,
    multi_read: np.ndarray,
    starts: np.ndarray,
    x: np.ndarray,
    ref_count: int,
    read_count: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """compute_best_hit (§1.5, HEAD rule): best-hit reads, best hit, level 1 and level 2 shares per reference.

    A multi-mapping read gives 1/n to each of its n best references (x equal to its maximum). Level 1 (x >= 0.5)
    and level 2 (0.01 <= x < 0.5) count EVERY alignment of a multi-mapping read, whether or not it is the read's
    best (HEAD `em.rs`; PathoScope 2 and the old Python counted only the best). Unique reads count 1 in both
    best hits and level 1.
    """
    best_reads = np.bincount(unique_ref, minlength=ref_count).astype(np.float64)
    level_1 = best_reads.copy()
    level_2 = np.zeros(ref_count)
    if len(x):
        best = np.maximum.reduceat(x, starts)
        is_best = x == best[multi_read]
        n_best = np.bincount(multi_read, weights=is_best, minlength=len(starts))
        best_reads += np.bincount(multi_ref, weights=is_best / n_best[multi_read], minlength=ref_count)
        level_1 += np.bincount(multi_ref, weights=x >= LEVEL_1, minlength=ref_count)
        level_2 += np.bincount(multi_ref, weights=(x < LEVEL_1) & (x >= LEVEL_2), minlength=ref_count)
    if read_count:
        return best_reads, best_reads / read_count, level_1 / read_count, level_2 / read_count
    return best_reads, best_reads.copy(), level_1, level_2


def em(
    alignments: Alignments,
    *,
    p_score_cutoff: float = P_SCORE_CUTOFF,
    max_iter: int = 50,
    epsilon: float = 1e-7,
    keep: np.ndarray | None = None,
    assignment: bool = False,
) -> dict:
    """PathoScope reassignment of `alignments` (vectorised): the arrays Virtool's `pathoscope-core em` prints.

    Returns `{refs, read_count, init_pi, pi, best_hit_initial, best_hit_initial_reads, level_1_initial,
    level_2_initial, best_hit_final, best_hit_final_reads, level_1_final, level_2_final, coverage}`: per-reference
    lists in the order of `refs` (first appearance among the alignments passing the cut-off), `read_count` the
    number of distinct reads among them, and `coverage` {ref: [depth per position]} for every `@SQ` reference.
    `keep` (a mask over `alignments`, from `eliminate`) drops records as if they were not in the file.

    Best/high/low use the HEAD rule (level 1/2 over every alignment of a multi-mapping read, see `_best_hit`).

    With `assignment`, the result also has `best_records`: a boolean mask over `alignments`, true for the records
    of each read's final best hit(s), the pairs `compute_best_hit` gives the read to (its one reference for a unique
    read; every reference whose final x equals the read's maximum for a multi-mapping read). Only records that
    pass the cut-off and `keep` are marked; every such record of a best pair is (a read may have two on one
    reference).
    """
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    # §1.3 matrix: alignments with score > cutoff, reads and references renumbered by first appearance.
    passing = alignments.score > p_score_cutoff
    if keep is not None:
        passing &= keep
    idx = np.flatnonzero(passing)
    score = alignments.score[idx]
    ref_order, ref_new = _first_appearance(alignments.ref[idx], len(alignments.ref_names))
    read_order, read_new = _first_appearance(alignments.read[idx], len(alignments.read_names))
    ref_count = len(ref_order)
    read_count = len(read_order)
    refs = [alignments.ref_names[i] for i in ref_order.tolist()]

    # Virtool tracks the max from 0.0 and the min from +inf over passing alignments. numpy scalars: a zero max
    # divides to inf (as in Rust) instead of raising.
    max_score = np.float64(max(0.0, float(score.max())) if len(score) else 0.0)
    min_score = np.float64(score.min() if len(score) else math.inf)

    # One entry per (read, ref) pair, from the pair's first alignment in the file (later ones are ignored even if
    # higher). A stable sort by key finds the pairs; entries are then ordered read by read (first appearance) and
    # in file order within a read, as the loop formulation iterates, so that every bincount adds in its order.
    # `entry_of` maps every passing record to its pair's entry (for coverage).
    n_passing = len(score)
    width = max(ref_count, 1)
    key = read_new * width + ref_new
    by_key = np.argsort(key, kind="stable")
    sorted_key = key[by_key]
    new_pair = np.ones(n_passing, dtype=bool)
    new_pair[1:] = sorted_key[1:] != sorted_key[:-1]
    pair_keys = sorted_key[new_pair]  # sorted: used to look up records under the cut-off
    pair_of = np.empty(n_passing, dtype=np.int64)
    pair_of[by_key] = np.cumsum(new_pair) - 1
    is_first = np.zeros(n_passing, dtype=bool)
    is_first[by_key[new_pair]] = True
    # Records in (read, file position) order: read_new is nearly sorted already, timsort makes this cheap.
    by_read = np.argsort(read_new, kind="stable")
    entry_records = by_read[is_first[by_read]]
    pair_to_entry = np.empty(len(pair_keys), dtype=np.int64)
    pair_to_entry[pair_of[entry_records]] = np.arange(len(entry_records))
    entry_of = pair_to_entry[pair_of]
    entry_read = read_new[entry_records]
    entry_ref = ref_new[entry_records]
    entry_score = score[entry_records]
    del key, by_key, sorted_key, new_pair, is_first, by_read  # record-sized temporaries: lower the peak

    # Rescaling (rescale_samscore): exp(s * 100 / max), or shifted by min when min < 0 (never with bowtie2 local).
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if min_score < 0:
            weight = np.exp((entry_score - min_score) * (np.float64(100.0) / (max_score - min_score)))
        else:
            weight = np.exp(entry_score * (np.float64(100.0) / max_score))

    refs_per_read = np.bincount(entry_read, minlength=read_count)
    entry_unique = refs_per_read[entry_read] == 1
    unique_ref = entry_ref[entry_unique]
    unique_weight = weight[entry_unique]
    multi = ~entry_unique
    multi_ref = entry_ref[multi]
    s = weight[multi]
    # Multi-mapping reads numbered 0..M-1 (their entries are contiguous), and where each one's entries start.
    multi_read_raw = entry_read[multi]
    new_read = np.ones(len(s), dtype=bool)
    new_read[1:] = multi_read_raw[1:] != multi_read_raw[:-1]
    starts = np.flatnonzero(new_read)
    multi_read = np.cumsum(new_read) - 1
    multi_count = len(starts)
    w_max = np.maximum.reduceat(s, starts) if multi_count else np.zeros(0)
    x_initial = s / np.bincount(multi_read, weights=s, minlength=multi_count)[multi_read] if multi_count else s

    # §1.4 EM with pi_prior = theta_prior = 0 (Virtool calls em(matrix, 50, 1e-7, 0.0, 0.0)).
    pi_sum_0 = np.bincount(unique_ref, weights=unique_weight, minlength=ref_count)
    # Sequential sums (cumsum), in read order, as the loop adds them.
    u_total = float(np.cumsum(unique_weight)[-1]) if len(unique_weight) else 0.0
    nu_total = float(np.cumsum(w_max)[-1]) if len(w_max) else 0.0
    nu_length = multi_count or 1
    theta_divisor = nu_total if nu_total != 0 else 1.0
    pi = np.full(ref_count, 1.0 / ref_count) if ref_count else np.zeros(0)
    theta = pi.copy()
    init_pi = pi
    w_of_entry = w_max[multi_read]
    # Buffers reused by every iteration: no allocation (and page faults) of entry-sized arrays in the loop.
    x_tilde = np.empty(len(s))
    x = np.empty(len(s))
    buffer = np.empty(len(s))
    for iteration in range(max_iter):
        pi_old = pi
        # E step: x = pi*theta*s normalised per read (all 0 when the sum is 0); the x of the last E step are kept.
        if multi_count:
            np.take(pi * theta, multi_ref, out=x_tilde)
            np.multiply(x_tilde, s, out=x_tilde)
            x_sum = np.bincount(multi_read, weights=x_tilde, minlength=multi_count)
            x_sum[x_sum == 0] = 1.0  # x_tilde are all 0 there: x = 0
            np.take(x_sum, multi_read, out=buffer)
            np.divide(x_tilde, buffer, out=x)
            np.multiply(x, w_of_entry, out=buffer)
            # With weights bincount sums floats; numpy's stub types every bincount as integers.
            theta_sum: npt.NDArray[np.float64] = np.bincount(  # type: ignore[assignment]
                multi_ref, weights=buffer, minlength=ref_count
            )
        else:
            theta_sum = np.zeros(ref_count)
        # M step
        pi = (theta_sum + pi_sum_0) / (u_total + nu_total)
        theta = theta_sum / theta_divisor
        if iteration == 0:
            init_pi = pi
        # The stop rule includes lenNU == 1: with 0 or 1 multi-mapping reads the EM stops after one iteration.
        if float(np.abs(pi_old - pi).sum()) <= epsilon or nu_length == 1:
            break

    initial = _best_hit(unique_ref, multi_ref, multi_read, starts, x_initial, ref_count, read_count)
    final = _best_hit(unique_ref, multi_ref, multi_read, starts, x, ref_count, read_count)

    entry_x = np.zeros(len(entry_records))
    entry_x[multi] = x
    coverage = _coverage(
        alignments,
        keep=keep,
        passing=idx,
        entry_of=entry_of,
        ref_order=ref_order,
        read_order=read_order,
        pair_keys=pair_keys,
        pair_to_entry=pair_to_entry,
        entry_read=entry_read,
        entry_unique=entry_unique,
        entry_x=entry_x,
        cutoff=p_score_cutoff,
    )
    result = {
        "refs": refs,
        "read_count": read_count,
        "init_pi": init_pi.tolist(),
        "pi": pi.tolist(),
        "best_hit_initial": initial[1].tolist(),
        "best_hit_initial_reads": initial[0].tolist(),
        "level_1_initial": initial[2].tolist(),
        "level_2_initial": initial[3].tolist(),
        "best_hit_final": final[1].tolist(),
        "best_hit_final_reads": final[0].tolist(),
        "level_1_final": final[2].tolist(),
        "level_2_final": final[3].tolist(),
        "coverage": coverage,
    }
    if assignment:
        entry_best = np.ones(len(entry_records), dtype=bool)
        if multi_count:
            entry_best[multi] = x == np.maximum.reduceat(x, starts)[multi_read]
        best_records = np.zeros(len(alignments), dtype=bool)
        best_records[idx] = entry_best[entry_of]
        result["best_records"] = best_records
    return result


def _coverage(
    alignments: Alignments,
    *,
    keep: np.ndarray | None,
    passing: np.ndarray,
    entry_of: np.ndarray,
    ref_order: np.ndarray,
    read_order: np.ndarray,
    pair_keys: np.ndarray,
    pair_to_entry: np.ndarray,
    entry_read: np.ndarray,
    entry_unique: np.ndarray,
    entry_x: np.ndarray,
    cutoff: float,
) -> dict[str, list[int]]:
    """§1.6 coverage: a second pass over every record, as `coverage.rs::calculate_coverage_from_bam`.

    A record counts when its read and reference are in the matrix and either the read is unique and maps to that
    reference, or the read's final x for that reference is >= cutoff (x = 0 when the pair is not in the read's
    matrix entry, e.g. a record under the score cut-off). It covers [pos, min(pos + len(SEQ), LN)): SEQ length,
    not the CIGAR span; every record counts, so a read with two records on one reference adds two.
    Vectorised as one difference array over all @SQ references laid end to end, then one cumulative sum.
    """
    sq_names = list(alignments.ref_lengths)
    lengths = np.array([alignments.ref_lengths[name] for name in sq_names], dtype=np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    ref_count = len(ref_order)

    # Each record's entry: passing records know theirs; the others (under the cut-off; records not kept are
    # excluded below) are looked up among the sorted pair keys.
    entry = np.full(len(alignments), -1, dtype=np.int64)
    entry[passing] = entry_of
    read_map = np.full(len(alignments.read_names), -1, dtype=np.int64)
    read_map[read_order] = np.arange(len(read_order))
    ref_map = np.full(len(alignments.ref_names), -1, dtype=np.int64)
    ref_map[ref_order] = np.arange(ref_count)
    sq_index = {name: i for i, name in enumerate(sq_names)}
    sq_of_ref = np.array([sq_index.get(name, -1) for name in alignments.ref_names], dtype=np.int64)
    record_sq = sq_of_ref[alignments.ref] if len(sq_of_ref) else np.zeros(0, np.int64)

    others = np.flatnonzero(entry < 0)
    if len(others) and len(pair_keys):
        read = read_map[alignments.read[others]]
        ref = ref_map[alignments.ref[others]]
        known = (read >= 0) & (ref >= 0)
        others, read, ref = others[known], read[known], ref[known]
        key = read * ref_count + ref
        at = np.minimum(np.searchsorted(pair_keys, key), len(pair_keys) - 1)
        found = pair_keys[at] == key
        entry[others[found]] = pair_to_entry[at[found]]
        # A multi-mapping read's record on a matrix reference outside its own entry has x = 0: it counts only
        # when 0 >= cutoff. Such records of unique reads never count.
        read_unique = np.zeros(len(read_order), dtype=bool)
        read_unique[entry_read[entry_unique]] = True
        zero_x = others[~found & ~read_unique[read] & (cutoff <= 0.0)]
    else:
        zero_x = np.zeros(0, dtype=np.int64)

    has_entry = entry >= 0
    include = np.zeros(len(alignments), dtype=bool)
    with_entry = np.flatnonzero(has_entry)
    e = entry[with_entry]
    include[with_entry] = entry_unique[e] | (entry_x[e] >= cutoff)
    include[zero_x] = True
    include &= record_sq >= 0
    if keep is not None:
        include &= keep

    rec = np.flatnonzero(include)
    sq = record_sq[rec]
    start = alignments.pos[rec]
    end = np.minimum(start + alignments.length[rec], lengths[sq])
    valid = start < end
    base = offsets[sq[valid]]
    diff = np.bincount(base + start[valid], minlength=total + 1) - np.bincount(base + end[valid], minlength=total + 1)
    depth = np.cumsum(diff[:total])
    return {name: depth[offsets[i] : offsets[i + 1]].tolist() for i, name in enumerate(sq_names)}
