"""PathoScope reassignment as Virtool runs it: SAM parsing, subtraction elimination, EM, best hits, coverage, report.

Faithful to `workflows.md` §1 (Virtool HEAD, `vt:packages/pathoscope-core`, itself pinned to the PathoScope 2
loop equations). Pure computation: no Django, no database.

Reads are streamed: `read_sam` parses one line at a time into typed arrays (`array` module), so a SAM of millions
of records costs a few dozen bytes per record, never a Python object per field. The EM (`em`) works on flat numpy
arrays with one entry per (read, reference) pair; every per-read or per-reference sum is an `np.bincount` over
entries ordered read by read, which adds in the same order as the loop formulation (`em_loop`), so both agree to
the last bits on most inputs and always within 1e-9 relative (tested).

Choices where Virtool's eras differ (`workflows.md` §1.5, §1.7, §1.9):

- high/low confidence hits use the HEAD rule: level 1 (x >= 0.5) and level 2 (0.01 <= x < 0.5) are counted over
  EVERY alignment of a multi-mapping read, independently of which reference is the best hit;
- the matrix skips alignments with score <= cutoff (HEAD; the old Python skipped < cutoff);
- subtraction elimination is per alignment (host >= isolate score as float32, ties eliminate);
- `report` rounds the mean depth with Python's `round` (half to even, as the old Python did; HEAD's `Math.round`
  rounds half up: they differ only when the mean depth is exactly n + 0.5).
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

#: Virtool's P_SCORE_CUTOFF: alignment-score cut-off of the matrix and posterior cut-off of coverage.
P_SCORE_CUTOFF = 0.01

# compute_best_hit's thresholds are literals in Virtool, not the p-score cut-off.
LEVEL_1 = 0.5
LEVEL_2 = 0.01


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


# --- SAM parsing ----------------------------------------------------------------------------------------------


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
    if head[:2] == b"\x1f\x8b":
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


def read_sam(source: str | os.PathLike | BinaryIO) -> Alignments:
    """Parse a SAM file (path, plain or gzip, or a binary stream such as bowtie2's stdout) into `Alignments`.

    Unmapped records (flag 0x4), records with RNAME "*" and records without an `AS:i` tag are skipped; secondary
    alignments (0x100, every alignment after a read's first with bowtie2 -k) are kept. Raises `SamError` naming
    the line for a malformed header or record.
    """
    stream, close = _open_sam(source)
    reads: dict[bytes, int] = {}
    refs: dict[bytes, int] = {}
    ref_lengths: dict[bytes, int] = {}
    read_arr = array("i")
    ref_arr = array("i")
    pos_arr = array("q")
    len_arr = array("i")
    score_arr = array("d")
    # Bound methods: this loop runs once per record, attribute lookups are a measurable share of it.
    add_read, add_ref, add_pos, add_len, add_score = (
        read_arr.append,
        ref_arr.append,
        pos_arr.append,
        len_arr.append,
        score_arr.append,
    )
    reads_setdefault = reads.setdefault
    cigars: dict[bytes, int] = {}
    lineno = 0
    try:
        for lineno, line in enumerate(stream, 1):
            if line[:1] == b"@":
                if line.startswith(b"@SQ\t"):
                    name, length = _parse_sq(line, lineno)
                    if name not in refs:
                        refs[name] = len(refs)
                    ref_lengths[name] = length
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
            try:
                aln_score = int(tags[start:end] if end >= 0 else tags[start:])
            except ValueError:
                value = (tags[start:end] if end >= 0 else tags[start:]).strip()
                raise SamError(f"line {lineno}: AS:i tag must be an integer, found {value[:40]!r}") from None
            try:
                pos = int(fields[3]) - 1
            except ValueError:
                raise SamError(f"line {lineno}: POS must be an integer, found {fields[3][:40]!r}") from None
            seq = fields[9]
            seq_len = 0 if seq == b"*" else len(seq)
            # htslib (Virtool) refuses a record whose CIGAR and SEQ disagree in length, e.g. a truncated SEQ.
            # Few distinct CIGARs occur in a file, so each is parsed once.
            query_len = cigars.get(fields[5])
            if query_len is None:
                query_len = cigars[fields[5]] = _cigar_query_length(fields[5], lineno)
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
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise SamError(f"line {lineno + 1}: cannot read the file: {error}") from None
    finally:
        if close:
            stream.close()

    return Alignments(
        read=np.frombuffer(read_arr, dtype=np.int32) if read_arr else np.zeros(0, np.int32),
        ref=np.frombuffer(ref_arr, dtype=np.int32) if ref_arr else np.zeros(0, np.int32),
        pos=np.frombuffer(pos_arr, dtype=np.int64) if pos_arr else np.zeros(0, np.int64),
        length=np.frombuffer(len_arr, dtype=np.int32) if len_arr else np.zeros(0, np.int32),
        score=np.frombuffer(score_arr, dtype=np.float64) if score_arr else np.zeros(0, np.float64),
        read_names=[name.decode("utf-8", "replace") for name in reads],
        ref_names=[name.decode("utf-8", "replace") for name in refs],
        ref_lengths={name.decode("utf-8", "replace"): length for name, length in ref_lengths.items()},
    )


# --- Subtraction elimination (§1.9) ---------------------------------------------------------------------------


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


# --- Vectorised EM ---------------------------------------------------------------------------------------------


def _first_appearance(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber `values` (indices < size) by order of first appearance: (old index of each new one, new values)."""
    if len(values) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    uniq, first = np.unique(values, return_index=True)
    order = uniq[np.argsort(first, kind="stable")]
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

    level 1/2 count EVERY alignment of a multi-mapping read with x >= 0.5 / 0.01 <= x < 0.5, whether or not it
    is the read's best (HEAD `em.rs`; PathoScope 2 and the old Python counted only the best).
    """
    best_reads = np.bincount(unique_ref, minlength=ref_count).astype(np.float64)
    level_1 = best_reads.copy()
    level_2 = np.zeros(ref_count)
    if len(x):
        best = np.maximum.reduceat(x, starts)
        is_best = x == best[multi_read]
        n_best = np.bincount(multi_read, weights=is_best, minlength=len(starts))
        best_reads += np.bincount(multi_ref[is_best], weights=1.0 / n_best[multi_read[is_best]], minlength=ref_count)
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
) -> dict:
    """PathoScope reassignment of `alignments` (vectorised): the arrays Virtool's `pathoscope-core em` prints.

    Returns `{refs, read_count, init_pi, pi, best_hit_initial, best_hit_initial_reads, level_1_initial,
    level_2_initial, best_hit_final, best_hit_final_reads, level_1_final, level_2_final, coverage}`: per-reference
    lists in the order `refs` (first appearance among passing alignments), and `coverage` {ref: [depth per
    position]} for every `@SQ` reference. `keep` (a mask over `alignments`, from `eliminate`) drops records as if
    they were not in the file.
    """
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    # §1.3 matrix: alignments with score > cutoff, renumbered by first appearance.
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

    # Virtool tracks max from 0.0 and min from +inf over passing alignments.
    # numpy scalars: a zero max divides to inf as in Rust instead of raising.
    max_score = np.float64(max(0.0, float(score.max())) if len(score) else 0.0)
    min_score = np.float64(score.min() if len(score) else math.inf)

    # The first alignment of each (read, ref) pair, then entries grouped read by read, in file order within a
    # read: the order the loop formulation iterates in, so that bincount sums add in the same order.
    key = read_new * max(ref_count, 1) + ref_new
    _, first = np.unique(key, return_index=True)
    first.sort()
    first = first[np.argsort(read_new[first], kind="stable")]
    entry_read = read_new[first]
    entry_ref = ref_new[first]
    entry_score = score[first]

    # Rescaling (rescale_samscore): exp(s * 100 / max), or shifted by min when min < 0 (never with bowtie2 local).
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if min_score < 0:
            weight = np.exp((entry_score - min_score) * (100.0 / (max_score - min_score)))
        else:
            weight = np.exp(entry_score * (100.0 / max_score)) if len(entry_score) else entry_score

    refs_per_read = np.bincount(entry_read, minlength=read_count)
    is_unique = refs_per_read[entry_read] == 1
    unique_ref = entry_ref[is_unique]
    unique_weight = weight[is_unique]
    multi = ~is_unique
    multi_ref = entry_ref[multi]
    s = weight[multi]
    # Dense multi-read numbering 0..M-1 (entries are grouped by read) and the start of each read's run.
    new_read = np.ones(len(s), dtype=bool)
    new_read[1:] = entry_read[multi][1:] != entry_read[multi][:-1]
    starts = np.flatnonzero(new_read)
    multi_read = np.cumsum(new_read) - 1
    multi_count = len(starts)
    w_max = np.maximum.reduceat(s, starts) if multi_count else np.zeros(0)
    x_initial = s / np.bincount(multi_read, weights=s, minlength=multi_count)[multi_read] if multi_count else s

    # §1.4 EM with pi_prior = theta_prior = 0 (Virtool calls em(matrix, 50, 1e-7, 0.0, 0.0)).
    pi_sum_0 = np.bincount(unique_ref, weights=unique_weight, minlength=ref_count)
    u_total = float(unique_weight.sum())
    nu_total = float(w_max.sum())
    nu_length = multi_count or 1
    theta_divisor = nu_total if nu_total != 0 else 1.0
    pi = np.full(ref_count, 1.0 / ref_count) if ref_count else np.zeros(0)
    theta = pi.copy()
    x = x_initial
    init_pi = pi
    for iteration in range(max_iter):
        pi_old = pi
        x_tilde = pi[multi_ref] * theta[multi_ref] * s
        x_sum = np.bincount(multi_read, weights=x_tilde, minlength=multi_count)[multi_read]
        x = np.divide(x_tilde, x_sum, out=np.zeros_like(x_tilde), where=x_sum != 0)
        theta_sum = np.bincount(multi_ref, weights=x * w_max[multi_read], minlength=ref_count)
        pi = (theta_sum + pi_sum_0) / (u_total + nu_total)
        theta = theta_sum / theta_divisor
        if iteration == 0:
            init_pi = pi
        # The stop rule includes lenNU == 1: with 0 or 1 multi-mapping reads the EM stops after one iteration.
        if float(np.abs(pi_old - pi).sum()) <= epsilon or nu_length == 1:
            break

    initial = _best_hit(unique_ref, multi_ref, multi_read, starts, x_initial, ref_count, read_count)
    final = _best_hit(unique_ref, multi_ref, multi_read, starts, x, ref_count, read_count)

    coverage = _coverage(
        alignments,
        keep=keep,
        ref_order=ref_order,
        read_order=read_order,
        entry_read=entry_read,
        entry_ref=entry_ref,
        entry_unique=is_unique,
        entry_x=_scatter(x, multi, len(entry_read)),
        cutoff=p_score_cutoff,
    )
    return {
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


def _scatter(values: np.ndarray, mask: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size)
    out[mask] = values
    return out


def _coverage(
    alignments: Alignments,
    *,
    keep: np.ndarray | None,
    ref_order: np.ndarray,
    read_order: np.ndarray,
    entry_read: np.ndarray,
    entry_ref: np.ndarray,
    entry_unique: np.ndarray,
    entry_x: np.ndarray,
    cutoff: float,
) -> dict[str, list[int]]:
    """§1.6 coverage: a second pass over every record, as `coverage.rs::calculate_coverage_from_bam`.

    A record counts when its read and reference are in the matrix and either the read is unique to that
    reference or its final x for that reference is >= cutoff (x = 0 when the pair is not in the read's matrix
    entry, e.g. a record under the score cut-off). It covers [pos, min(pos + len(SEQ), LN)): SEQ length, not the
    CIGAR span; every record counts, so a read with two records on one reference adds two.
    Vectorised as a difference array over all @SQ references laid end to end, then one cumulative sum.
    """
    sq_names = list(alignments.ref_lengths)
    lengths = np.array([alignments.ref_lengths[name] for name in sq_names], dtype=np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])

    ref_count = len(ref_order)
    read_map = np.full(len(alignments.read_names), -1, dtype=np.int64)
    read_map[read_order] = np.arange(len(read_order))
    ref_map = np.full(len(alignments.ref_names), -1, dtype=np.int64)
    ref_map[ref_order] = np.arange(ref_count)
    sq_index = {name: i for i, name in enumerate(sq_names)}
    sq_of_ref = np.array([sq_index.get(name, -1) for name in alignments.ref_names], dtype=np.int64)

    record_read = read_map[alignments.read]
    record_ref = ref_map[alignments.ref]
    record_sq = sq_of_ref[alignments.ref]
    candidate = (record_read >= 0) & (record_ref >= 0) & (record_sq >= 0)
    if keep is not None:
        candidate &= keep
    rec = np.flatnonzero(candidate)
    rec_read = record_read[rec]
    rec_ref = record_ref[rec]

    # Look up each record's (read, ref) pair among the matrix entries.
    entry_key = entry_read * ref_count + entry_ref
    order = np.argsort(entry_key, kind="stable")
    sorted_key = entry_key[order]
    rec_key = rec_read * ref_count + rec_ref
    at = np.searchsorted(sorted_key, rec_key)
    at_clipped = np.minimum(at, max(len(sorted_key) - 1, 0))
    found = (at < len(sorted_key)) & (sorted_key[at_clipped] == rec_key) if len(sorted_key) else at < 0
    entry = order[at_clipped] if len(order) else at_clipped
    # Is the record's read unique? (a read's entries are either all unique or all multi)
    read_is_unique = np.zeros(len(read_order), dtype=bool)
    read_is_unique[entry_read[entry_unique]] = True
    rec_unique = read_is_unique[rec_read]
    x_of_record = np.where(found, entry_x[entry] if len(entry_x) else 0.0, 0.0)
    include = np.where(rec_unique, found, x_of_record >= cutoff)

    rec = rec[include]
    sq = record_sq[rec]
    start = alignments.pos[rec]
    end = np.minimum(start + alignments.length[rec], lengths[sq])
    valid = start < end
    base = offsets[sq[valid]]
    diff = np.bincount(base + start[valid], minlength=total + 1) - np.bincount(base + end[valid], minlength=total + 1)
    depth = np.cumsum(diff[:total])
    return {name: depth[offsets[i] : offsets[i + 1]].tolist() for i, name in enumerate(sq_names)}


# --- Loop formulation (reference) ------------------------------------------------------------------------------


def em_loop(
    alignments: Alignments,
    *,
    p_score_cutoff: float = P_SCORE_CUTOFF,
    max_iter: int = 50,
    epsilon: float = 1e-7,
    keep: np.ndarray | None = None,
) -> dict:
    """The same result as `em`, computed by a direct transcription of the loop equations (PathoScope 2 style).

    Dicts and lists keyed by read index, one Python iteration per alignment per EM step, no numpy past reading
    the input arrays. The reference for the tests and the benchmark: slow by design.
    """
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    reads_in = alignments.read.tolist()
    refs_in = alignments.ref.tolist()
    scores_in = alignments.score.tolist()
    keep_in = keep.tolist() if keep is not None else None

    # conv_align2GRmat: first appearance numbering, first alignment per (read, ref), global max/min.
    h_read: dict[int, int] = {}
    h_ref: dict[int, int] = {}
    refs: list[str] = []
    read_alignments: dict[int, list[list]] = {}
    seen: dict[int, set[int]] = {}
    max_score = 0.0
    min_score = math.inf
    for k in range(len(reads_in)):
        if keep_in is not None and not keep_in[k]:
            continue
        s = scores_in[k]
        if s <= p_score_cutoff:
            continue
        min_score = min(min_score, s)
        max_score = max(max_score, s)
        ref_old = refs_in[k]
        if ref_old not in h_ref:
            h_ref[ref_old] = len(h_ref)
            refs.append(alignments.ref_names[ref_old])
        g = h_ref[ref_old]
        read_old = reads_in[k]
        if read_old not in h_read:
            h_read[read_old] = len(h_read)
            read_alignments[h_read[read_old]] = []
            seen[h_read[read_old]] = set()
        r = h_read[read_old]
        if g not in seen[r]:
            seen[r].add(g)
            read_alignments[r].append([g, s])
    genome_count = len(refs)
    read_count = len(h_read)

    # rescale_samscore, then U = {read: [ref, w]} and NU = {read: [refs, scores, x, w_max]}
    if min_score < 0:
        factor = 100.0 / (max_score - min_score)
        shift = min_score
    else:
        factor = 100.0 / max_score if max_score else math.inf
        shift = 0.0
    U: dict[int, list] = {}
    NU: dict[int, list] = {}
    for r, pairs in read_alignments.items():
        rescaled = [math.exp((s - shift) * factor) for _, s in pairs]
        if len(pairs) == 1:
            U[r] = [pairs[0][0], rescaled[0]]
        else:
            w_max = 0.0
            for value in rescaled:
                if value > w_max:
                    w_max = value
            total = 0.0
            for value in rescaled:
                total += value
            NU[r] = [[g for g, _ in pairs], rescaled, [value / total for value in rescaled], w_max]

    initial = _best_hit_loop(U, NU, genome_count, read_count)

    pi = [1.0 / genome_count] * genome_count if genome_count else []
    theta = pi[:]
    pi_sum_0 = [0.0] * genome_count
    u_total = 0.0
    for g, w in U.values():
        pi_sum_0[g] += w
        u_total += w
    nu_total = 0.0
    for z in NU.values():
        nu_total += z[3]
    nu_length = len(NU) or 1
    theta_divisor = nu_total if nu_total != 0 else 1.0
    init_pi = pi
    for i in range(max_iter):
        pi_old = pi
        theta_sum = [0.0] * genome_count
        # E step
        for z in NU.values():
            ind = z[0]
            x_tmp = [pi[g] * theta[g] * s for g, s in zip(ind, z[1], strict=True)]
            x_sum = 0.0
            for value in x_tmp:
                x_sum += value
            x_norm = [0.0] * len(x_tmp) if x_sum == 0 else [value / x_sum for value in x_tmp]
            z[2] = x_norm
            for g, value in zip(ind, x_norm, strict=True):
                theta_sum[g] += value * z[3]
        # M step (pi_prior = theta_prior = 0)
        pi = [(theta_sum[g] + pi_sum_0[g]) / (u_total + nu_total) for g in range(genome_count)]
        theta = [theta_sum[g] / theta_divisor for g in range(genome_count)]
        if i == 0:
            init_pi = pi
        cutoff = 0.0
        for old, new in zip(pi_old, pi, strict=True):
            cutoff += abs(old - new)
        if cutoff <= epsilon or nu_length == 1:
            break

    final = _best_hit_loop(U, NU, genome_count, read_count)
    coverage = _coverage_loop(alignments, keep_in, h_read, h_ref, U, NU, p_score_cutoff)
    return {
        "refs": refs,
        "read_count": read_count,
        "init_pi": list(init_pi),
        "pi": list(pi),
        "best_hit_initial": initial[1],
        "best_hit_initial_reads": initial[0],
        "level_1_initial": initial[2],
        "level_2_initial": initial[3],
        "best_hit_final": final[1],
        "best_hit_final_reads": final[0],
        "level_1_final": final[2],
        "level_2_final": final[3],
        "coverage": coverage,
    }


def _best_hit_loop(U: dict, NU: dict, genome_count: int, read_count: int) -> tuple[list, list, list, list]:
    """compute_best_hit, HEAD rule (level 1/2 over every alignment of a multi-mapping read), as loops."""
    best_hit_reads = [0.0] * genome_count
    level_1_reads = [0.0] * genome_count
    level_2_reads = [0.0] * genome_count
    for g, _ in U.values():
        best_hit_reads[g] += 1.0
        level_1_reads[g] += 1.0
    for ind, _, x_norm, _ in NU.values():
        best = max(x_norm)
        num_best = sum(1 for value in x_norm if value == best) or 1
        for g, value in zip(ind, x_norm, strict=True):
            if value == best:
                best_hit_reads[g] += 1.0 / num_best
            if value >= LEVEL_1:
                level_1_reads[g] += 1.0
            elif value >= LEVEL_2:
                level_2_reads[g] += 1.0
    if not read_count:
        return best_hit_reads, best_hit_reads[:], level_1_reads, level_2_reads
    return (
        best_hit_reads,
        [value / read_count for value in best_hit_reads],
        [value / read_count for value in level_1_reads],
        [value / read_count for value in level_2_reads],
    )


def _coverage_loop(alignments, keep_in, h_read, h_ref, U, NU, cutoff) -> dict[str, list[int]]:
    """Coverage.rs as loops (a difference list per reference rather than +1 per position, for the benchmark)."""
    diffs = {name: [0] * (length + 1) for name, length in alignments.ref_lengths.items()}
    reads_in = alignments.read.tolist()
    refs_in = alignments.ref.tolist()
    pos_in = alignments.pos.tolist()
    len_in = alignments.length.tolist()
    for k in range(len(reads_in)):
        if keep_in is not None and not keep_in[k]:
            continue
        r = h_read.get(reads_in[k])
        g = h_ref.get(refs_in[k])
        if r is None or g is None:
            continue
        if r in U:
            include = U[r][0] == g
        elif r in NU:
            ind, _, x_norm, _ = NU[r]
            x = x_norm[ind.index(g)] if g in ind else 0.0
            include = x >= cutoff
        else:
            include = False
        name = alignments.ref_names[refs_in[k]]
        if not include or name not in diffs:
            continue
        length = alignments.ref_lengths[name]
        start = pos_in[k]
        end = min(start + len_in[k], length)
        if start < end:
            diffs[name][start] += 1
            diffs[name][end] -= 1
    coverage = {}
    for name, diff in diffs.items():
        depth = []
        running = 0
        for value in diff[:-1]:
            running += value
            depth.append(running)
        coverage[name] = depth
    return coverage


# --- Report (§1.7) ---------------------------------------------------------------------------------------------


def _hit_numbers(result: dict, i: int, when: str) -> dict:
    suffix = "_initial" if when == "initial" else "_final"
    pi = result["init_pi"] if when == "initial" else result["pi"]
    return {
        "pi": round(pi[i], 10),
        "best": round(result["best_hit" + suffix][i], 10),
        "high": round(result["level_1" + suffix][i], 10),
        "low": round(result["level_2" + suffix][i], 10),
        "reads": int(result["best_hit" + suffix + "_reads"][i]),
    }


def report(result: dict, *, cutoff: float = P_SCORE_CUTOFF) -> list[dict]:
    """The stored `hits` of an analysis from an `em` result (§1.7).

    Sorted by final pi descending, ties by reference id descending; truncated at the first hit with
    pi < cutoff and no high- or low-confidence reads; floats rounded to 10 decimals; `reads` = trunc(best-hit
    reads). Each hit: `{id, final{pi, best, high, low, reads}, initial{...}, align, coverage, depth}` with
    `coverage` = round(1 - zeros / length, 3) and `depth` = round(mean depth), Python's round (half to even).
    """
    order = sorted(range(len(result["refs"])), key=lambda i: (result["pi"][i], result["refs"][i]), reverse=True)
    hits = []
    for i in order:
        pi, high, low = result["pi"][i], result["level_1_final"][i], result["level_2_final"][i]
        if pi < cutoff and high <= 0 and low <= 0:
            break
        ref = result["refs"][i]
        align = result["coverage"].get(ref, [])
        length = len(align)
        zeros = align.count(0)
        hits.append(
            {
                "id": ref,
                "final": _hit_numbers(result, i, "final"),
                "initial": _hit_numbers(result, i, "initial"),
                "align": align,
                "coverage": round(1 - zeros / length, 3) if length else 0.0,
                "depth": round(sum(align) / length) if length else 0,
            }
        )
    return hits
