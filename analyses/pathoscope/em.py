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

import os
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from analyses.pathoscope import _kernel
from analyses.pathoscope.sam import Alignments, read_sam

#: Virtool's P_SCORE_CUTOFF: alignment-score cut-off of the matrix and posterior cut-off of coverage.
P_SCORE_CUTOFF = 0.01

# compute_best_hit's thresholds are literals in Virtool, not the p-score cut-off.
LEVEL_1 = 0.5
LEVEL_2 = 0.01


def host_scores(source: str | os.PathLike | BinaryIO) -> dict[str, float]:
    """Read name -> score (AS + len(SEQ)) of its alignment in a subtraction (host) mapping SAM.

    Stored as float32, as Virtool does (the comparison with isolate scores is in f32); the last record of a read
    wins (bowtie2 without -k reports one alignment per read). `host_score_table` is the compact form.
    """
    table = host_score_table(source)
    return dict(zip(table.names, table.scores.tolist(), strict=True))


@dataclass
class HostScores:
    """The host score of each read of a subtraction mapping: names (a `_kernel.NameTable`) and float32 scores."""

    names: Any
    scores: np.ndarray


def host_score_table(source: str | os.PathLike | BinaryIO) -> HostScores:
    """`host_scores` without a Python object per read (for the workflow: tens of millions of reads)."""
    alignments = read_sam(source)
    score = np.ascontiguousarray(alignments.score, dtype=np.int32)
    scores = _kernel.last_scores(np.ascontiguousarray(alignments.read, np.int32), score, len(alignments.read_names))
    return HostScores(names=alignments.read_names, scores=scores)


def eliminate(alignments: Alignments, host: dict[str, float] | HostScores) -> tuple[np.ndarray, set[str]]:
    """Per-alignment subtraction elimination: a keep-mask over `alignments` and the names of subtracted reads.

    A record is eliminated when its read maps to the host with a score >= its isolate score, both compared as
    float32 (ties eliminate). Other records of the same read with higher isolate scores are kept; the read still
    counts as subtracted (and leaves the reads carried to the next subtraction).
    """
    names = alignments.read_names
    if isinstance(host, HostScores):
        table = names if isinstance(names, _kernel.NameTable) else _kernel.NameTable.from_names(names)
        at = host.names.lookup(table)
        per_read = np.where(at >= 0, host.scores[np.maximum(at, 0)], np.float32(np.nan)).astype(np.float32)
        del at
    else:
        # Reads absent from the host get NaN, which never compares >=.
        per_read = np.array([host.get(name, np.nan) for name in names], dtype=np.float32)
    eliminated, subtracted = _kernel.eliminate_records(
        np.ascontiguousarray(alignments.read, np.int32),
        np.ascontiguousarray(alignments.score, np.float64),
        per_read,
    )
    return ~eliminated, {names[read] for read in np.flatnonzero(subtracted).tolist()}


def _score_codes(score: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Scores as int32 codes: (codes, offset, values) with values[code - offset] the score.

    Integer scores (read_sam's) are their own codes, with a table of every value from min to max; other scores
    are numbered by `np.unique`.
    """
    if score.dtype.kind in "iu" and len(score):
        low, high = int(score.min()), int(score.max())
        if high - low < 1 << 22 and low >= -(1 << 31) and high < 1 << 31:
            return np.ascontiguousarray(score, np.int32), low, np.arange(low, high + 1, dtype=np.float64)
    values, codes = np.unique(np.asarray(score, dtype=np.float64), return_inverse=True)
    if not len(values):
        values = np.zeros(1)
    return np.ascontiguousarray(codes.ravel(), np.int32), 0, values


def em(
    alignments: Alignments,
    *,
    p_score_cutoff: float = P_SCORE_CUTOFF,
    max_iter: int = 50,
    epsilon: float = 1e-7,
    keep: np.ndarray | None = None,
    assignment: bool = False,
    coverage_arrays: bool = False,
) -> dict:
    """PathoScope reassignment of `alignments`: the arrays Virtool's `pathoscope-core em` prints.

    Returns `{refs, read_count, init_pi, pi, best_hit_initial, best_hit_initial_reads, level_1_initial,
    level_2_initial, best_hit_final, best_hit_final_reads, level_1_final, level_2_final, coverage}`: per-reference
    lists in the order of `refs` (first appearance among the alignments passing the cut-off), `read_count` the
    number of distinct reads among them, and `coverage` {ref: [depth per position]} for every `@SQ` reference
    (int32 arrays, views of one array, with `coverage_arrays`). `keep` (a mask over `alignments`, from
    `eliminate`) drops records as if they were not in the file.

    Best/high/low use the HEAD rule (level 1/2 over every alignment of a multi-mapping read).

    With `assignment`, the result also has `best_records`: a boolean mask over `alignments`, true for the records
    of each read's final best hit(s), the pairs `compute_best_hit` gives the read to (its one reference for a unique
    read; every reference whose final x equals the read's maximum for a multi-mapping read). Only records that
    pass the cut-off and `keep` are marked; every such record of a best pair is (a read may have two on one
    reference).

    Flat memory: reads with the same ordered list of (reference, score) form one equivalence class with a count;
    the EM iterates over classes (compiled, `_kernel`), and sums whose order shows in a result (best hits, the
    totals) are made read by read in the loop formulation's order.
    """
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    read = np.ascontiguousarray(alignments.read, np.int32)
    ref = np.ascontiguousarray(alignments.ref, np.int32)
    code, offset, values = _score_codes(alignments.score)
    keep_mask = None if keep is None else np.ascontiguousarray(keep, dtype=np.bool_)
    n_reads = len(alignments.read_names)
    n_refs_all = len(alignments.ref_names)
    cutoff = float(p_score_cutoff)

    # §1.3 matrix: first appearance numbering among passing records (score > cutoff and kept).
    read_new, ref_new, ref_order, read_count, n_passing, high, low, grouped = _kernel.prepare(
        read, ref, code, offset, values, cutoff, keep_mask, n_reads, n_refs_all
    )
    ref_count = len(ref_order)
    refs = [alignments.ref_names[i] for i in ref_order.tolist()]
    classes = _kernel.build_classes(
        read, ref, code, offset, values, cutoff, keep_mask, read_new, ref_new, read_count, ref_count, n_passing, grouped
    )

    # Rescaling (rescale_samscore): exp(s * 100 / max), or shifted by min when min < 0, one value per score.
    max_score = np.float64(max(0.0, high))
    min_score = np.float64(low)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if min_score < 0:
            weight = np.exp((values - min_score) * (np.float64(100.0) / (max_score - min_score)))
        else:
            weight = np.exp(values * (np.float64(100.0) / max_score))

    # Totals read by read, in matrix order (the loop's order): U's weights per reference, U's and NU's sums.
    pi_sum_0, u_total, nu_total, nu_length = _kernel.totals(classes, weight, ref_count)
    nu_length = nu_length or 1

    # §1.4 EM with pi_prior = theta_prior = 0 (Virtool calls em(matrix, 50, 1e-7, 0.0, 0.0)).
    pi, _theta, init_pi, pi_last, theta_last, _iterations = _kernel.em_iterate(
        classes, weight, pi_sum_0, u_total, nu_total, nu_length, max_iter, epsilon, ref_count
    )

    initial = _best_hit(classes, weight, None, None, ref_count, read_count)
    final = _best_hit(classes, weight, pi_last, theta_last, ref_count, read_count)

    # §1.6 coverage, and the best records: every record, its read's class looked up by the read's original number.
    class_of_old = np.full(n_reads, -1, dtype=np.int32)
    present = read_new >= 0
    class_of_old[present] = classes.class_of_read[read_new[present]]
    del present, read_new
    sq_names = list(alignments.ref_lengths)
    sq_length = np.array([alignments.ref_lengths[name] for name in sq_names], dtype=np.int64)
    sq_offset = np.zeros(len(sq_names) + 1, dtype=np.int64)
    np.cumsum(sq_length, out=sq_offset[1:])
    sq_index = {name: i for i, name in enumerate(sq_names)}
    sq_of_ref = np.array([sq_index.get(name, -1) for name in alignments.ref_names], dtype=np.int32)
    depth, best_records = _kernel.coverage(
        read,
        ref,
        np.ascontiguousarray(alignments.pos, np.int32),
        np.ascontiguousarray(alignments.length, np.int32),
        code,
        offset,
        values,
        cutoff,
        keep_mask,
        class_of_old,
        ref_new,
        classes,
        weight,
        pi_last,
        theta_last,
        sq_of_ref,
        sq_offset,
        sq_length,
        int(sq_offset[-1]),
        cutoff,
        assignment,
    )
    coverage: dict[str, Any] = {
        name: depth[sq_offset[i] : sq_offset[i + 1]]
        if coverage_arrays
        else depth[sq_offset[i] : sq_offset[i + 1]].tolist()
        for i, name in enumerate(sq_names)
    }
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
        result["best_records"] = best_records
    return result


def _best_hit(classes, weight, pi_last, theta_last, ref_count: int, read_count: int):
    """compute_best_hit (§1.5, HEAD rule): best-hit reads, best hit, level 1 and level 2 shares per reference.

    A multi-mapping read gives 1/n to each of its n best references (x equal to its maximum). Level 1 (x >= 0.5)
    and level 2 (0.01 <= x < 0.5) count EVERY alignment of a multi-mapping read, whether or not it is the read's
    best (HEAD `em.rs`; PathoScope 2 and the old Python counted only the best). Unique reads count 1 in both
    best hits and level 1. Initial x (`pi_last` None) are the rescaled scores' proportions.
    """
    best_reads, level_1, level_2 = _kernel.best_hits(classes, weight, pi_last, theta_last, ref_count, LEVEL_1, LEVEL_2)
    if read_count:
        return best_reads, best_reads / read_count, level_1 / read_count, level_2 / read_count
    return best_reads, best_reads.copy(), level_1, level_2
