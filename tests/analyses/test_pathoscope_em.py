"""PathoScope reassignment (analyses/pathoscope/) on SAM files small enough to work out on paper.

Scores are AS:i + len(SEQ); weights are exp(score * 100 / max score). Most files give every alignment the same
score, so that all weights are equal and the EM reduces to fractions. Pure tests: no database.
"""

from __future__ import annotations

import gzip
import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyses.pathoscope import sam as sam_module
from analyses.pathoscope.em import eliminate, em, host_scores
from analyses.pathoscope.report import report
from analyses.pathoscope.sam import Alignments, SamError, read_sam
from tests.analyses.pathoscope_loop import em_loop, read_sam_by_line

HEADER = "@HD\tVN:1.0\tSO:unsorted\n@SQ\tSN:A\tLN:100\n@SQ\tSN:B\tLN:100\n@SQ\tSN:C\tLN:50\n@PG\tID:bowtie2\n"


def record(read: str, ref: str, pos: int = 1, seq_len: int = 10, as_i: int = 90, flag: int = 0, cigar: str = "") -> str:
    """One bowtie2-like SAM line; score = as_i + seq_len (100 by default)."""
    seq = "A" * seq_len
    cigar = cigar or f"{seq_len}M"
    return f"{read}\t{flag}\t{ref}\t{pos}\t1\t{cigar}\t*\t0\t0\t{seq}\t{'I' * seq_len}\tAS:i:{as_i}\tXS:i:0\tYT:Z:UU\n"


def sam(tmp_path, *lines: str, header: str = HEADER, name: str = "x.sam"):
    path = tmp_path / name
    path.write_text(header + "".join(lines))
    return path


def run(path, **kwargs) -> dict:
    """em on the file, checked against the loop transcription on the way."""
    alignments = read_sam(path)
    result = em(alignments, **kwargs)
    assert_same(result, em_loop(alignments, **kwargs))
    return result


def assert_same(a: dict, b: dict, rel: float = 1e-9) -> None:
    assert a["refs"] == b["refs"]
    assert a["read_count"] == b["read_count"]
    assert a["coverage"] == b["coverage"]
    for key in a:
        if key not in ("refs", "read_count", "coverage"):
            assert a[key] == pytest.approx(b[key], rel=rel, abs=0), key


# --- EM on paper ------------------------------------------------------------------------------------------------


def test_unique_reads_only(tmp_path):
    """No multi-mapping read: pi is each reference's share of the (equal) weights, after one iteration."""
    path = sam(tmp_path, record("r1", "A"), record("r2", "A", pos=20), record("r3", "B"))
    result = run(path)
    assert result["refs"] == ["A", "B"]
    assert result["read_count"] == 3
    assert result["pi"] == pytest.approx([2 / 3, 1 / 3])
    assert result["init_pi"] == result["pi"]  # lenNU == 1 when there is no multi-mapping read: one iteration
    assert result["best_hit_initial_reads"] == result["best_hit_final_reads"] == [2.0, 1.0]
    assert result["best_hit_final"] == pytest.approx([2 / 3, 1 / 3])
    assert result["level_1_final"] == pytest.approx([2 / 3, 1 / 3])
    assert result["level_2_final"] == [0.0, 0.0]


def test_unequal_scores_weigh_exponentially(tmp_path):
    """Unique reads only, scores 100 and 50: pi = e^100 / (e^100 + e^50) and e^50 / (...)."""
    path = sam(tmp_path, record("r1", "A"), record("r2", "B", as_i=40))
    result = run(path)
    assert result["pi"] == pytest.approx([1 / (1 + math.exp(-50)), math.exp(-50) / (1 + math.exp(-50))], rel=1e-12)
    assert result["best_hit_final"] == [0.5, 0.5]  # best hits count reads, not weights


def test_read_split_between_two_references(tmp_path):
    """One unique read on A, two reads on A and B with equal scores; all weights equal (W).

    Iteration 0 (pi = theta = 1/2): x = (1/2, 1/2) for both reads, theta_sum = (W, W),
    pi = ((W + W), W) / 3W = (2/3, 1/3) = init_pi, theta = (1/2, 1/2).
    Iteration 1: x ~ pi * theta = (1/3, 1/6) -> (2/3, 1/3); pi = (4/3 + 1, 2/3) / 3 = (7/9, 2/9).
    With max_iter=2 the stored x are those of iteration 1.
    """
    path = sam(
        tmp_path,
        record("u", "A"),
        record("m1", "A"),
        record("m1", "B", flag=256),
        record("m2", "B", pos=30),
        record("m2", "A", pos=30, flag=256),
    )
    result = run(path, max_iter=2)
    assert result["refs"] == ["A", "B"]
    assert result["read_count"] == 3
    assert result["init_pi"] == pytest.approx([2 / 3, 1 / 3])
    assert result["pi"] == pytest.approx([7 / 9, 2 / 9])
    # Initial x = (1/2, 1/2): both multi reads split their best hit; both references get level 1 for each.
    assert result["best_hit_initial_reads"] == [2.0, 1.0]
    assert result["level_1_initial"] == pytest.approx([1.0, 2 / 3])
    assert result["level_2_initial"] == [0.0, 0.0]
    # Final x = (2/3, 1/3): A is the best of both; B is a low-confidence hit of both (HEAD rule: every alignment).
    assert result["best_hit_final_reads"] == [3.0, 0.0]
    assert result["level_1_final"] == pytest.approx([1.0, 0.0])
    assert result["level_2_final"] == pytest.approx([0.0, 2 / 3])

    converged = run(path)
    assert converged["pi"][0] > 0.999
    assert converged["init_pi"] == pytest.approx([2 / 3, 1 / 3])
    assert converged["level_2_final"] == [0.0, 0.0]  # x on B fell below 0.01


def test_single_multi_read_stops_after_one_iteration(tmp_path):
    """lenNU == 1: one iteration; with equal scores pi = (1/2, 1/2) and the read is split."""
    result = run(sam(tmp_path, record("m", "A"), record("m", "B", flag=256)))
    assert result["pi"] == result["init_pi"] == [0.5, 0.5]
    assert result["best_hit_final_reads"] == [0.5, 0.5]
    assert result["level_1_final"] == [1.0, 1.0]  # x = 0.5 on both: level 1 on both


def test_score_cutoff_skips_scores_at_or_below(tmp_path):
    """Scores 100 (A) and 101 (B): a cut-off of 100 skips A (score <= cutoff), 0.01 keeps both."""
    path = sam(tmp_path, record("r1", "A"), record("r2", "B", as_i=91))
    assert run(path)["refs"] == ["A", "B"]
    result = run(path, p_score_cutoff=100)
    assert result["refs"] == ["B"]
    assert result["read_count"] == 1
    assert result["pi"] == [1.0]
    assert run(path, p_score_cutoff=101)["refs"] == []


def test_score_cutoff_makes_a_multi_read_unique(tmp_path):
    """The read's alignment to B (score 50) is under the cut-off: the read is unique to A."""
    path = sam(tmp_path, record("m", "A"), record("m", "B", as_i=40, flag=256), record("u", "B", pos=50))
    result = run(path, p_score_cutoff=60)
    assert result["refs"] == ["A", "B"]
    assert result["best_hit_final_reads"] == [1.0, 1.0]
    assert result["level_2_final"] == [0.0, 0.0]
    # Coverage: m's record on B is under the cut-off and m is unique to A, so it does not count on B.
    assert sum(result["coverage"]["B"]) == 10


def test_second_alignment_to_the_same_reference_is_ignored(tmp_path):
    """Read m: A with 80, A again with 120 (ignored, but it sets the max score), B with 90.

    w_A = exp(80 * 100/120), w_B = exp(90 * 100/120); one multi read: one iteration, pi = x = w / (w_A + w_B).
    """
    path = sam(
        tmp_path, record("m", "A", as_i=70), record("m", "A", pos=50, as_i=110, flag=256), record("m", "B", as_i=80)
    )
    result = run(path)
    assert result["refs"] == ["A", "B"]
    assert result["read_count"] == 1
    p_b = 1 / (1 + math.exp(-10 * 100 / 120))
    assert result["pi"] == pytest.approx([1 - p_b, p_b], rel=1e-12)
    assert result["best_hit_final_reads"] == [0.0, 1.0]
    # Coverage: x_A = 1 - p_b = 2.4e-4 < 0.01, so neither record of m on A counts; B does.
    assert 1 - p_b < 0.01
    assert sum(result["coverage"]["A"]) == 0
    assert sum(result["coverage"]["B"]) == 10


def test_records_without_as_or_unmapped_are_skipped(tmp_path):
    unmapped = "u1\t4\t*\t0\t0\t*\t*\t0\t0\tAAAA\tIIII\tYT:Z:UU\n"
    no_as = "u2\t0\tA\t1\t1\t4M\t*\t0\t0\tAAAA\tIIII\tXS:i:3\n"
    as_later = "u3\t0\tB\t1\t1\t4M\t*\t0\t0\tAAAA\tIIII\tXS:i:3\tAS:i:8\n"
    alignments = read_sam(sam(tmp_path, unmapped, no_as, as_later))
    assert alignments.read_names == ["u3"]
    assert alignments.score.tolist() == [12.0]
    assert alignments.ref_names == ["A", "B", "C"]  # the @SQ list
    assert alignments.ref_lengths == {"A": 100, "B": 100, "C": 50}


def test_gzip_and_stream_sources(tmp_path):
    text = (HEADER + record("r1", "A") + record("r2", "B")).encode()
    gz = tmp_path / "x.sam.gz"
    gz.write_bytes(gzip.compress(text))
    for source in (gz, io.BufferedReader(io.BytesIO(text)), io.BytesIO(text)):
        alignments = read_sam(source)
        assert alignments.read_names == ["r1", "r2"]
        assert alignments.score.tolist() == [100.0, 100.0]


# --- Subtraction --------------------------------------------------------------------------------------------------


def test_subtraction_elimination_per_alignment(tmp_path):
    """Host scores: keep 90, tie 100, split 105 (last record wins), other 0. Isolate records:
    keep (100 on A: kept), tie (100 on A: a tie eliminates), split (110 on A kept, 100 on B eliminated),
    alone (no host record: kept)."""
    host = sam(
        tmp_path,
        record("keep", "chr", as_i=80),
        record("tie", "chr"),
        record("split", "chr", as_i=50),
        record("split", "chr", as_i=95),
        header="@SQ\tSN:chr\tLN:1000\n",
        name="host.sam",
    )
    scores = host_scores(host)
    assert scores == {"keep": 90.0, "tie": 100.0, "split": 105.0}
    isolates = read_sam(
        sam(
            tmp_path,
            record("keep", "A"),
            record("tie", "A"),
            record("split", "A", as_i=100),
            record("split", "B", flag=256),
            record("alone", "C"),
        )
    )
    keep, subtracted = eliminate(isolates, scores)
    assert keep.tolist() == [True, False, True, False, True]
    assert subtracted == {"tie", "split"}
    result = em(isolates, keep=keep)
    assert_same(result, em_loop(isolates, keep=keep))
    assert result["refs"] == ["A", "C"]
    assert result["read_count"] == 3  # keep, split (now unique to A), alone
    assert result["best_hit_final_reads"] == [2.0, 1.0]
    assert sum(result["coverage"]["B"]) == 0  # the eliminated record is gone from coverage too


def test_host_scores_compare_as_float32(tmp_path):
    """An isolate score that differs from the host's only beyond float32 precision is a tie."""
    alignments = Alignments(
        read=np.array([0], np.int32),
        ref=np.array([0], np.int32),
        pos=np.array([0]),
        length=np.array([10], np.int32),
        score=np.array([100.000001]),
        read_names=["r"],
        ref_names=["A"],
        ref_lengths={"A": 100},
    )
    keep, subtracted = eliminate(alignments, {"r": float(np.float32(100.0))})
    assert keep.tolist() == [False]
    assert subtracted == {"r"}


# --- Coverage -----------------------------------------------------------------------------------------------------


def test_coverage(tmp_path):
    """SEQ length from POS (soft clips included), clipped at LN, every record counts, every @SQ reference listed."""
    path = sam(
        tmp_path,
        record("u", "A", pos=1, seq_len=5, as_i=95, cigar="2S3M"),  # covers 0..4 (SEQ length, not the CIGAR span)
        record("u", "A", pos=3, seq_len=5, as_i=95),  # the same unique read again on A: counts again, 2..6
        record("v", "C", pos=48, seq_len=5, as_i=95),  # C has LN 50: covers 47, 48, 49
    )
    result = run(path)
    a = result["coverage"]["A"]
    assert len(a) == 100
    assert a[:8] == [1, 1, 2, 2, 2, 1, 1, 0]
    assert sum(a) == 10
    assert result["coverage"]["B"] == [0] * 100
    assert result["coverage"]["C"][46:] == [0, 1, 1, 1]


def test_coverage_of_multi_reads_follows_final_x(tmp_path):
    """Multi reads count where their final x >= 0.01. After one iteration (uniform pi and theta) x are the initial
    proportions: m1 splits 1/2-1/2 (counts on both), m2's B alignment has x = e^-50 / (1 + e^-50) (not on B)."""
    path = sam(
        tmp_path,
        record("m1", "A", pos=1),
        record("m1", "B", pos=1, flag=256),
        record("m2", "A", pos=41),
        record("m2", "B", pos=41, as_i=40, flag=256),
    )
    result = run(path, max_iter=1)
    assert result["coverage"]["A"][0] == 1
    assert result["coverage"]["A"][40] == 1
    assert result["coverage"]["B"][0] == 1
    assert result["coverage"]["B"][40] == 0
    # Converged, m2 pulls pi towards A and m1 follows: its B record stops counting.
    assert run(path)["coverage"]["B"][0] == 0


# --- Report -------------------------------------------------------------------------------------------------------


def report_input() -> dict:
    return {
        "refs": ["a", "b", "c", "d", "e", "f"],
        "read_count": 10,
        "pi": [0.3, 0.3, 0.005, 0.35, 0.001, 0.008],
        "init_pi": [0.25, 0.25, 0.25, 0.25, 0.0, 0.0],
        "best_hit_final": [0.123456789012345, 0.2, 0.0, 0.3, 0.1, 0.0],
        "best_hit_final_reads": [1.9, 2.0, 0.0, 3.0, 1.0, 0.0],
        "level_1_final": [0.1, 0.2, 0.0, 0.3, 0.1, 0.2],
        "level_2_final": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        "best_hit_initial": [0.1] * 6,
        "best_hit_initial_reads": [1.5] * 6,
        "level_1_initial": [0.1] * 6,
        "level_2_initial": [0.0] * 6,
        "coverage": {"a": [0, 1, 1], "b": [1, 2], "c": [0], "d": [2, 3], "e": [1], "f": [0, 0, 1, 1]},
    }


def test_report_sort_cutoff_and_rounding():
    """Sorted by pi desc, ties by id desc (b before a); f (pi < 0.01 but high > 0) stays; c (pi < 0.01, no
    high/low) truncates, so e is dropped although it has high hits."""
    hits = report(report_input())
    assert [hit["id"] for hit in hits] == ["d", "b", "a", "f"]
    a = hits[2]
    assert a["final"] == {"pi": 0.3, "best": 0.123456789, "high": 0.1, "low": 0.0, "reads": 1}
    assert a["initial"] == {"pi": 0.25, "best": 0.1, "high": 0.1, "low": 0.0, "reads": 1}
    assert a["align"] == [0, 1, 1]
    assert a["coverage"] == 0.667
    assert a["depth"] == 1  # mean 2/3
    assert hits[1]["depth"] == 2  # mean 1.5: half to even -> 2
    assert hits[0]["depth"] == 2  # mean 2.5: half to even -> 2
    assert hits[3]["coverage"] == 0.5


def test_report_of_an_em_result(tmp_path):
    result = run(sam(tmp_path, record("r1", "A"), record("r2", "A", pos=20), record("r3", "B")))
    hits = report(result)
    assert [hit["id"] for hit in hits] == ["A", "B"]
    assert hits[0]["final"]["reads"] == 2
    assert hits[0]["coverage"] == 0.2  # 20 of 100 positions
    assert hits[1]["depth"] == 0


# --- Malformed SAM ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("r1\t0\tA\n", "line 7: expected at least 11 tab-separated fields, found 3"),
        (record("r1", "A").replace("\t0\t", "\tzero\t", 1), "line 7: FLAG must be an integer, found b'zero'"),
        (record("r1", "A").replace("\tA\t1\t", "\tA\tone\t", 1), "line 7: POS must be an integer, found b'one'"),
        (record("r1", "A").replace("AS:i:90", "AS:i:9x"), "line 7: AS:i tag must be an integer, found b'9x'"),
        (record("r1", "A").replace("AAAAAAAAAA", "AAAAAAAAA"), "line 7: the CIGAR 10M covers 10 bases but SEQ has 9"),
        (record("r1", "A", cigar="10Q"), "line 7: CIGAR is not valid: b'10Q'"),
    ],
)
def test_malformed_records(tmp_path, line, message):
    with pytest.raises(SamError) as error:
        read_sam(sam(tmp_path, record("ok", "A"), line, record("ok2", "B")))
    assert str(error.value).startswith(message)


def test_malformed_header_and_bam(tmp_path):
    with pytest.raises(SamError, match=r"line 2: @SQ length LN must be an integer"):
        read_sam(sam(tmp_path, header="@HD\tVN:1.0\n@SQ\tSN:A\tLN:many\n"))
    bam = tmp_path / "x.bam"
    bam.write_bytes(gzip.compress(b"BAM\x01" + bytes(20)))
    with pytest.raises(SamError, match="BAM file"):
        read_sam(bam)


def test_error_line_numbers_across_blocks(tmp_path, monkeypatch):
    """Small blocks: the error found in a later block still names its line in the file."""
    monkeypatch.setattr(sam_module, "BLOCK_SIZE", 200)
    lines = [record(f"r{i}", "A") for i in range(40)]
    lines[33] = "r33\t0\tA\n"
    with pytest.raises(SamError, match=r"^line 39: expected at least 11"):  # 5 header lines + 34th record
        read_sam(sam(tmp_path, *lines))


def test_block_parser_equals_line_parser(tmp_path, monkeypatch):
    """The numpy block path and a line-by-line parser (PathoScope 2's way) read the same records from a mixed file."""
    rng = np.random.default_rng(3)
    lines = []
    for i in range(3000):
        kind = rng.integers(0, 10)
        name = "q" * int(rng.integers(1, 40)) + str(i // 3)
        ref = ["A", "B", "C", "a_much_longer_reference_name_x"][int(rng.integers(0, 4))]
        if kind == 0:
            lines.append(f"{name}\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\tYT:Z:UU\n")
        elif kind == 1:
            lines.append(f"{name}\t0\t{ref}\t5\t1\t4M\t*\t0\t0\tACGT\tIIII\tXS:i:1\tAS:i:-{i % 7}\n")
        elif kind == 2:
            lines.append(f"{name}\t256\t{ref}\t7\t1\t*\t*\t0\t0\t*\t*\tAS:i:{i}\n")
        else:
            length = int(rng.integers(1, 30))
            lines.append(record(name, ref, pos=int(rng.integers(0, 90)), seq_len=length, as_i=int(rng.integers(0, 60))))
    path = sam(tmp_path, *lines)
    monkeypatch.setattr(sam_module, "BLOCK_SIZE", 4096)
    fast = read_sam(path)
    slow = read_sam_by_line(path)
    for name in ("read", "ref", "pos", "length", "score"):
        assert getattr(fast, name).tolist() == getattr(slow, name).tolist(), name
    assert fast.read_names == slow.read_names
    assert fast.ref_names == slow.ref_names == ["A", "B", "C", "a_much_longer_reference_name_x"]
    assert len(fast) > 2000


def test_unusual_blocks_are_read_line_by_line(tmp_path, monkeypatch):
    """CRLF line ends and blank lines send a block to the line-by-line fallback, which reads the same records."""
    lines = [record(f"r{i}", "AB"[i % 2], pos=i + 1, as_i=80 + i % 9) for i in range(60)]
    plain = read_sam(sam(tmp_path, *lines))
    monkeypatch.setattr(sam_module, "BLOCK_SIZE", 1000)  # several blocks, each read by the fallback
    crlf = sam(tmp_path, *(line.replace("\n", "\r\n") for line in lines), name="crlf.sam")
    blank = sam(tmp_path, *lines[:30], "\n", *lines[30:], "\n", name="blank.sam")
    for path in (crlf, blank):
        other = read_sam(path)
        for name in ("read", "ref", "pos", "length", "score"):
            assert getattr(other, name).tolist() == getattr(plain, name).tolist(), (path.name, name)
        assert other.read_names == plain.read_names
        assert other.ref_lengths == plain.ref_lengths


# --- Property: vectorised == loop ---------------------------------------------------------------------------------


@st.composite
def alignment_sets(draw):
    """Random reads mapping to random references (multi-mapping, duplicates to one reference, low scores)."""
    n_refs = draw(st.integers(1, 6))
    n_reads = draw(st.integers(1, 25))
    records = []
    for read in range(n_reads):
        for _ in range(draw(st.integers(1, 5))):
            records.append(
                (
                    read,
                    draw(st.integers(0, n_refs - 1)),
                    draw(st.integers(0, 120)),
                    draw(st.integers(0, 40)),
                    draw(st.one_of(st.integers(20, 300), st.sampled_from([0, 1, 150, 150, 300]))),
                )
            )
    order = draw(st.permutations(range(len(records))))
    records = [records[i] for i in order]
    lengths = [draw(st.integers(1, 150)) for _ in range(n_refs)]
    alignments = Alignments(
        read=np.array([r[0] for r in records], np.int32),
        ref=np.array([r[1] for r in records], np.int32),
        pos=np.array([r[2] for r in records], np.int64),
        length=np.array([r[3] for r in records], np.int32),
        score=np.array([float(r[4]) for r in records]),
        read_names=[f"read{i}" for i in range(n_reads)],
        ref_names=[f"ref{i}" for i in range(n_refs)],
        ref_lengths={f"ref{i}": lengths[i] for i in range(n_refs) if i != n_refs - 1 or n_refs == 1},
    )
    keep = None
    if draw(st.booleans()):
        keep = np.array([draw(st.booleans()) for _ in records], dtype=bool)
    cutoff = draw(st.sampled_from([0.01, 0.0, 100.0]))
    return alignments, keep, cutoff


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alignment_sets())
def test_vectorised_em_equals_loop(case):
    alignments, keep, cutoff = case
    assert_same(
        em(alignments, p_score_cutoff=cutoff, keep=keep),
        em_loop(alignments, p_score_cutoff=cutoff, keep=keep),
    )


# --- Management command -------------------------------------------------------------------------------------------


def test_pathoscope_em_command(tmp_path):
    import json

    from django.core.management import CommandError, call_command

    path = sam(tmp_path, record("r1", "A"), record("r2", "A", pos=20), record("r3", "B", as_i=91))
    out = io.StringIO()
    call_command("pathoscope_em", str(path), stdout=out)
    printed = json.loads(out.getvalue())
    assert printed == json.loads(json.dumps(em(read_sam(path))))
    assert set(printed) == {
        "refs",
        "read_count",
        "init_pi",
        "pi",
        "best_hit_initial",
        "best_hit_initial_reads",
        "level_1_initial",
        "level_2_initial",
        "best_hit_final",
        "best_hit_final_reads",
        "level_1_final",
        "level_2_final",
        "coverage",
    }
    out = io.StringIO()
    call_command("pathoscope_em", str(path), "--p-score-cutoff", "100", stdout=out)
    assert json.loads(out.getvalue())["refs"] == ["B"]

    bad = sam(tmp_path, record("r1", "A"), "r2\t0\n", name="bad.sam")
    with pytest.raises(CommandError, match=r"bad.sam: line 7: expected at least 11 tab-separated fields, found 2"):
        call_command("pathoscope_em", str(bad))
    with pytest.raises(CommandError, match=r"cannot read .*missing\.sam: No such file"):
        call_command("pathoscope_em", str(tmp_path / "missing.sam"))
