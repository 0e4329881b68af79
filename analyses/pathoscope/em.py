"""PathoScope reassignment as Virtool runs it: subtraction elimination, the EM, best hits and coverage.

Faithful to `workflows.md` §1 (Virtool HEAD, `vt:packages/pathoscope-core`, itself pinned to the PathoScope 2
loop equations). Pure computation: no Django, no database.

The EM (`em`) works on flat numpy arrays with one entry per (read, reference) pair; every per-read or
per-reference sum is an `np.bincount` over entries ordered read by read, which adds in the same order as the loop
formulation (`em_loop` in `tests/analyses/pathoscope_loop.py`), so both agree to the last bits on most inputs and
always within 1e-9 relative (tested).

Choices where Virtool's eras differ (`workflows.md` §1.5, §1.6, §1.9):

- high/low confidence hits use the HEAD rule: level 1 (x >= 0.5) and level 2 (0.01 <= x < 0.5) are counted over
  EVERY alignment of a multi-mapping read, independently of which reference is the best hit;
- the matrix skips alignments with score <= cutoff (HEAD; the old Python skipped < cutoff);
- subtraction elimination is per alignment (host >= isolate score as float32, ties eliminate);
- coverage is HEAD's second pass (every mapped record whose read and reference are in the matrix), except that
  records without an AS:i tag are not seen at all (`read_sam` does not keep them).

`em` renumbers references and reads by first appearance among the alignments passing its cut-off, as Virtool's
matrix does, which gives the order of its output arrays.
"""

from __future__ import annotations

import math
import os
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from analyses.pathoscope.sam import Alignments, read_sam

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
