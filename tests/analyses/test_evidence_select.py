"""Which alignments back which OTU (`analyses.pathoscope.evidence`), on hand-made SAM records."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from analyses.base import AnalysisError
from analyses.nuvs.workflow import contig_depths
from analyses.pathoscope.em import em
from analyses.pathoscope.evidence import depth_capped, evidence_select, fastq_record, write_evidence
from analyses.pathoscope.sam import read_sam

HEADER = "@HD\tVN:1.0\n@SQ\tSN:a1\tLN:100\n@SQ\tSN:a2\tLN:100\n@SQ\tSN:b1\tLN:100\n"
# a1 and a2 are two isolates of OTU A, b1 is OTU B.
SEQUENCE_OTU = {"a1": "A", "a2": "A", "b1": "B"}


def record(
    name: str, ref: str, score: int, *, flag: int = 0, pos: int = 1, seq: str = "ACGTTGCA", qual: str = "ABCDEFGH"
) -> str:
    return f"{name}\t{flag}\t{ref}\t{pos}\t1\t{len(seq)}M\t*\t0\t0\t{seq}\t{qual}\tAS:i:{score}\n"


def sam_file(tmp_path, lines: list[str]):
    path = tmp_path / "isolates.sam"
    path.write_text(HEADER + "".join(lines))
    return path


def select(path, reported=frozenset({"A", "B"}), keep=None, **cap):
    alignments = read_sam(path)
    result = em(alignments, assignment=True, keep=keep)
    return alignments, evidence_select(
        alignments,
        best_records=result["best_records"],
        sequence_otu=SEQUENCE_OTU,
        reported=set(reported),
        keep=keep,
        cutoff=0.01,
        **cap,
    )


def test_reads_go_to_the_otu_of_their_best_hit_with_all_its_alignments_there(tmp_path):
    path = sam_file(
        tmp_path,
        [
            record("u1", "a1", 10),  # unique to A
            record("m1", "a1", 12),  # best on a1, also on a2 (same OTU) and b1 (worse)
            record("m1", "a2", 8, flag=256),
            record("m1", "b1", 2, flag=256),
            record("u2", "b1", 10, flag=16, seq="AACCGGTA", qual="12345678"),  # unique to B, reverse strand
            "unmapped\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n",
            "noscore\t0\ta1\t1\t1\t4M\t*\t0\t0\tACGT\tIIII\tXS:i:1\n",
        ],
    )
    alignments, evidence = select(path)
    assert len(alignments) == 5  # unmapped and AS-less records are not counted
    # m1's alignment to b1 is not B's evidence: its best hit is A's.
    assert evidence.selected.tolist() == [True, True, True, False, True]
    assert evidence.emit.tolist() == [True, True, False, False, True]
    assert evidence.reads == {"A": 2, "B": 1}
    assert evidence.shared == {"A": 0, "B": 0}
    fastq = {"A": tmp_path / "A.fq.gz", "B": tmp_path / "B.fq.gz"}
    written = write_evidence(path, evidence, sam_out=tmp_path / "evidence.sam", fastq_path=fastq)
    assert written == 4
    kept = (tmp_path / "evidence.sam").read_text().splitlines()
    assert [line for line in kept if line.startswith("@")] == HEADER.splitlines()
    assert [line.split("\t")[:3] for line in kept if not line.startswith("@")] == [
        ["u1", "0", "a1"],
        ["m1", "0", "a1"],
        ["m1", "256", "a2"],
        ["u2", "16", "b1"],
    ]
    assert gzip.decompress(fastq["A"].read_bytes()).decode() == (
        "@u1\nACGTTGCA\n+\nABCDEFGH\n@m1\nACGTTGCA\n+\nABCDEFGH\n"
    )
    # The reverse-strand read as sequenced: reverse complement, qualities reversed.
    assert gzip.decompress(fastq["B"].read_bytes()).decode() == "@u2\nTACCGGTT\n+\n87654321\n"


def test_a_tie_between_otus_gives_the_read_to_both_and_counts_it_shared(tmp_path):
    lines = [record("t", "a1", 10), record("t", "b1", 10, flag=256), record("u", "a1", 10), record("v", "b1", 10)]
    _, evidence = select(sam_file(tmp_path, lines))
    assert evidence.reads == {"A": 2, "B": 2}
    assert evidence.shared == {"A": 1, "B": 1}
    assert evidence.selected.tolist() == [True, True, True, True]
    assert evidence.emit.tolist() == [True, True, True, True]


def test_only_reported_otus_and_kept_records_count(tmp_path):
    path = sam_file(tmp_path, [record("u1", "a1", 10), record("u2", "b1", 10), record("u3", "b1", 10)])
    _, evidence = select(path, reported={"A"})
    assert evidence.reads == {"A": 1}
    assert evidence.selected.tolist() == [True, False, False]
    keep = np.array([False, True, True])
    _, evidence = select(path, keep=keep)
    assert evidence.reads == {"A": 0, "B": 2}
    assert evidence.selected.tolist() == [False, True, True]
    # An OTU without reads of its own still gets its (empty) FASTQ.
    fastq = {"A": tmp_path / "A.fq.gz", "B": tmp_path / "B.fq.gz"}
    write_evidence(path, evidence, sam_out=tmp_path / "evidence.sam", fastq_path=fastq)
    assert gzip.decompress(fastq["A"].read_bytes()) == b""


def test_a_sam_that_changed_under_the_selection_is_refused(tmp_path):
    path = sam_file(tmp_path, [record("u1", "a1", 10), record("u2", "b1", 10)])
    _, evidence = select(path)
    path.write_text(HEADER + record("u1", "a1", 10))
    with pytest.raises(ValueError, match="has 1 records, 2 were read from it"):
        write_evidence(
            path, evidence, sam_out=tmp_path / "e.sam", fastq_path={"A": tmp_path / "A.fq", "B": tmp_path / "B.fq"}
        )


def test_below_the_depth_cap_the_bam_keeps_every_selected_record(tmp_path):
    lines = [record(f"r{i}", "a1", 10, pos=1 + i) for i in range(6)]
    _, evidence = select(sam_file(tmp_path, lines), window=10, per_window=6)
    assert evidence.in_bam.tolist() == [True] * 6
    assert evidence.capped == 0


def test_over_the_cap_each_window_keeps_its_first_records_in_file_order(tmp_path):
    # Window 10 bases, 2 per window: positions 1-10 are window 0, 11-20 window 1 (1-based POS, 0-based bins).
    positions = [5, 12, 1, 10, 11, 3, 20, 15, 30]
    lines = [record(f"r{i}", "a1", 10, pos=position) for i, position in enumerate(positions)]
    path = sam_file(tmp_path, lines)
    _, evidence = select(path, window=10, per_window=2)
    # Window 0 holds r0, r2, r3, r5: r0 and r2 are first. Window 1 holds r1, r4, r6, r7: r1 and r4. Window 2: r8.
    assert evidence.in_bam.tolist() == [True, True, True, False, True, False, False, False, True]
    assert evidence.capped == 4
    assert evidence.reads == {"A": 9, "B": 0}  # the cap is the BAM's; reads assigned are all counted


def test_the_cap_counts_each_reference_apart_and_leaves_unselected_records_out(tmp_path):
    lines = [
        record("a", "a1", 10, pos=1),
        record("b", "a2", 10, pos=1),  # same window, other sequence: its own count
        record("c", "a1", 10, pos=2),  # a1's window 0 is full
        record("d", "b1", 10, pos=1),
        record("d", "a1", 2, pos=3, flag=256),  # d's best hit is B: not A's evidence, not counted in a1's window
    ]
    _, evidence = select(sam_file(tmp_path, lines), window=50, per_window=1)
    assert evidence.selected.tolist() == [True, True, True, True, False]
    assert evidence.in_bam.tolist() == [True, True, False, True, False]
    assert evidence.capped == 1


def test_the_capped_bam_keeps_the_cap_while_the_fastq_keeps_every_assigned_read(tmp_path):
    lines = [record(f"r{i}", "a1", 10, pos=1) for i in range(5)]
    path = sam_file(tmp_path, lines)
    _, evidence = select(path, window=50, per_window=2)
    fastq = {"A": tmp_path / "A.fq.gz", "B": tmp_path / "B.fq.gz"}
    written = write_evidence(path, evidence, sam_out=tmp_path / "evidence.sam", fastq_path=fastq)
    assert written == 2
    kept = [line.split("\t")[0] for line in (tmp_path / "evidence.sam").read_text().splitlines() if line[0] != "@"]
    assert kept == ["r0", "r1"]
    names = gzip.decompress(fastq["A"].read_bytes()).decode().splitlines()[::4]
    assert names == [f"@r{i}" for i in range(5)]


def test_no_cap_keeps_every_selected_record(tmp_path):
    lines = [record(f"r{i}", "a1", 10, pos=1) for i in range(5)]
    path = sam_file(tmp_path, lines)
    _, evidence = select(path, per_window=None)
    assert evidence.in_bam is None
    assert evidence.capped == 0
    fastq = {"A": tmp_path / "A.fq.gz", "B": tmp_path / "B.fq.gz"}
    assert write_evidence(path, evidence, sam_out=tmp_path / "evidence.sam", fastq_path=fastq) == 5


def test_depth_capped_with_nothing_selected(tmp_path):
    alignments = read_sam(sam_file(tmp_path, [record("r", "a1", 10)]))
    assert depth_capped(alignments, np.zeros(1, dtype=bool), window=50, per_window=1).tolist() == [False]


def test_fastq_record_without_qualities():
    assert fastq_record(b"r\t0\ta1\t1\t1\t4M\t*\t0\t0\tACGT\t*\tAS:i:1".split(b"\t", 11)) == b"@r\nACGT\n+\nIIII\n"


def test_contig_depths_from_samtools_coverage():
    table = (
        "#rname\tstartpos\tendpos\tnumreads\tcovbases\tcoverage\tmeandepth\tmeanbaseq\tmeanmapq\n"
        "contig_0\t1\t900\t120\t900\t100\t19.96\t36.1\t40\n"
        "contig_3\t1\t400\t0\t0\t0\t0\t0\t0\n"
    )
    assert contig_depths(table) == {0: 20.0, 3: 0.0}
    with pytest.raises(AnalysisError, match="samtools coverage wrote no table"):
        contig_depths("")
