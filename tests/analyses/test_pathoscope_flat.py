"""The flat-memory parts of `analyses.pathoscope`: compact read names, the tee, host scores without a dict, reads
whose records are not consecutive (mates pooled under one name), and classes of identical reads."""

from __future__ import annotations

import io

import numpy as np
import pytest

from analyses.pathoscope import _kernel
from analyses.pathoscope.em import eliminate, em, host_score_table, host_scores
from analyses.pathoscope.sam import read_sam
from tests.analyses.pathoscope_loop import em_loop
from tests.analyses.test_pathoscope_em import HEADER, assert_same, record, sam


def test_name_table_numbers_names_and_finds_them():
    table = _kernel.NameTable()
    names = [f"read:{i}:{'x' * (i % 40)}".encode() for i in range(5000)]
    assert [table.add(name) for name in names] == list(range(5000))
    assert [table.add(name) for name in names[::-1]] == list(range(5000))[::-1]
    assert table.index_of(b"nope") == -1
    table.drop_index()
    assert table.index_of(names[1234]) == 1234  # the index is rebuilt on demand
    assert table == [name.decode() for name in names]
    assert table[-1] == names[-1].decode()
    other = _kernel.NameTable.from_names(["read:7:" + "x" * 7, "absent", "read:0:"])
    assert table.lookup(other).tolist() == [7, -1, 0]


def test_tee_receives_every_byte(tmp_path):
    text = (HEADER + "".join(record(f"r{i}", "AB"[i % 2], pos=i + 1) for i in range(3000))).encode()
    copy = io.BytesIO()
    alignments = read_sam(io.BufferedReader(io.BytesIO(text)), tee=copy)
    assert copy.getvalue() == text
    assert len(alignments) == 3000
    assert alignments.score.dtype == np.int32


def test_compact_host_scores_eliminate_like_the_dict(tmp_path):
    host = sam(
        tmp_path,
        record("keep", "chr", as_i=80),
        record("tie", "chr"),
        record("split", "chr", as_i=50),
        record("split", "chr", as_i=95),
        header="@SQ\tSN:chr\tLN:1000\n",
        name="host.sam",
    )
    isolates = read_sam(
        sam(tmp_path, record("keep", "A"), record("tie", "A"), record("split", "A", as_i=100),
            record("split", "B", flag=256), record("alone", "C"))
    )  # fmt: skip
    table = host_score_table(host)
    assert dict(zip(table.names, table.scores.tolist(), strict=True)) == host_scores(host)
    keep, subtracted = eliminate(isolates, table)
    assert keep.tolist() == [True, False, True, False, True]
    assert subtracted == {"tie", "split"}
    assert eliminate(isolates, host_scores(host))[0].tolist() == keep.tolist()


def test_mates_pooled_under_one_name_far_apart(tmp_path):
    """-U reads_1,reads_2: a read's alignments come back in two runs; the EM groups them (a counting sort)."""
    first = [record(f"r{i}", "A", as_i=80 + i % 7) + record(f"r{i}", "B", as_i=82, flag=256) for i in range(200)]
    second = [record(f"r{i}", "C", as_i=81) for i in range(0, 200, 3)]
    path = sam(tmp_path, *first, *second)
    alignments = read_sam(path)
    result = em(alignments)
    assert_same(result, em_loop(alignments))
    assert result["read_count"] == 200


@pytest.mark.parametrize("copies", [1, 2, 50])
def test_identical_reads_share_one_class(tmp_path, copies):
    """Reads with the same references and scores are one class with a count: the same results as the loop."""
    lines = []
    for i in range(copies):
        lines += [record(f"a{i}", "A"), record(f"a{i}", "B", as_i=85, flag=256), record(f"u{i}", "B")]
    lines += [record("m", "B"), record("m", "C", flag=256)]
    alignments = read_sam(sam(tmp_path, *lines))
    result = em(alignments, assignment=True)
    best = result.pop("best_records")
    assert_same(result, em_loop(alignments))
    assert best.dtype == bool
    assert len(best) == len(alignments)
    arrays = em(alignments, coverage_arrays=True)["coverage"]
    assert {name: depth.tolist() for name, depth in arrays.items()} == result["coverage"]
