"""PathoScope 2's loops, transcribed: the oracles that `analyses.pathoscope` is tested against.

A line-by-line SAM reader (one split per line) and the EM, best hits and coverage as dicts and lists keyed by
read index, one Python iteration per alignment per EM step: slow by design. Used by `test_pathoscope_em.py` and
as the baseline of `bench/pathoscope_em.py`; nothing in the application imports it.
"""

from __future__ import annotations

import gzip
import math
import os

import numpy as np

from analyses.pathoscope.em import LEVEL_1, LEVEL_2, P_SCORE_CUTOFF
from analyses.pathoscope.sam import Alignments


def read_sam_by_line(path: str | os.PathLike) -> Alignments:
    """`read_sam`'s result, parsed as PathoScope 2 does: one split per line (well-formed SAM only, nothing checked)."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    reads: dict[bytes, int] = {}
    refs: dict[bytes, int] = {}
    ref_lengths: dict[bytes, int] = {}
    read, ref, pos, length, score = [], [], [], [], []
    with gzip.open(path, "rb") if gzipped else open(path, "rb") as handle:
        for line in handle:
            line = line.rstrip(b"\r\n")
            if not line:
                continue
            fields = line.split(b"\t")
            if line[:1] == b"@":
                if fields[0] == b"@SQ":
                    tags = dict(tag.split(b":", 1) for tag in fields[1:])
                    refs.setdefault(tags[b"SN"], len(refs))
                    ref_lengths[tags[b"SN"]] = int(tags[b"LN"])
                continue
            if int(fields[1]) & 4 or fields[2] == b"*":
                continue
            aln_score = next((int(tag[5:]) for tag in fields[11:] if tag.startswith(b"AS:i:")), None)
            if aln_score is None:
                continue
            seq_len = 0 if fields[9] == b"*" else len(fields[9])
            read.append(reads.setdefault(fields[0], len(reads)))
            ref.append(refs.setdefault(fields[2], len(refs)))
            pos.append(max(int(fields[3]) - 1, 0))
            length.append(seq_len)
            score.append(aln_score + seq_len)
    return Alignments(
        read=np.array(read, dtype=np.int32),
        ref=np.array(ref, dtype=np.int32),
        pos=np.array(pos, dtype=np.int64),
        length=np.array(length, dtype=np.int32),
        score=np.array(score, dtype=np.float64),
        read_names=[name.decode("utf-8", "replace") for name in reads],
        ref_names=[name.decode("utf-8", "replace") for name in refs],
        ref_lengths={name.decode("utf-8", "replace"): value for name, value in ref_lengths.items()},
    )


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
