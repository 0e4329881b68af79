"""Formatting of stored PathoScope results: coverage lines, OTU merging of segments, exports."""

from __future__ import annotations

import numpy as np

from analyses.formatting import _format_otu, coverage_line, export_csv


def test_coverage_line_keeps_change_points_and_ends():
    assert coverage_line([0, 0, 3, 3, 3, 1]) == [[0, 0], [1, 0], [2, 3], [4, 3], [5, 1]]
    assert coverage_line([5]) == [[0, 5]]
    assert coverage_line([]) == []


def test_long_coverage_lines_are_simplified():
    rng = np.random.default_rng(1)
    line = coverage_line(rng.integers(0, 50, 2000).tolist())
    assert 0 < len(line) < 2000
    assert line[0][0] == 0


def otu_document():
    def sequence(sid, length):
        return {"_id": sid, "accession": sid.upper(), "definition": "", "segment": "", "sequence": "A" * length}

    return {
        "name": "Two-segment virus",
        "abbreviation": "TSV",
        "schema": [],
        "isolates": [
            {"id": "a", "source_type": "isolate", "source_name": "A", "default": True,
             "sequences": [sequence("a2", 4), sequence("a1", 8)]},
            {"id": "b", "source_type": "isolate", "source_name": "B", "default": False,
             "sequences": [sequence("b1", 8), sequence("b2", 4)]},
        ],
    }  # fmt: skip


def hit(ref, align, pi):
    final = {"pi": pi, "best": pi, "high": 0, "low": 0, "reads": 1}
    return {"id": ref, "final": final, "initial": final, "align": align, "coverage": 1.0, "depth": 1}


def test_segments_without_names_merge_by_length_rank_across_isolates():
    hits = {
        "a1": hit("a1", [4] * 8, 0.5),
        "a2": hit("a2", [4] * 4, 0.3),
        "b1": hit("b1", [0] * 8, 0.1),
        "b2": hit("b2", [0] * 4, 0.1),
    }
    otu = _format_otu("o", 0, otu_document(), hits)
    # The long sequences merge with each other, the short ones too: the weak isolate does not drag the depth down.
    assert otu["depth"] == 4
    assert otu["max_depth"] == 4
    assert otu["pi"] == 1.0
    assert [i["name"] for i in otu["isolates"]] == ["Isolate A", "Isolate B"]
    assert otu["isolates"][1]["coverage"] == 0.0
    rows = export_csv({"hits": [otu]}).splitlines()
    assert rows[0] == "OTU,Isolate,Sequence,Length,Weight,Median Depth,Coverage"
    assert "Two-segment virus,Isolate A,A1,8,0.5,4,1.0" in rows
