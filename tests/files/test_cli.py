"""The command-line uploader's pairing of reads files by name and its state file (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from virtool_cli.upload import State, UploadError, collect, guess_type, pair_reads


def names(plans) -> list[tuple[str, list[str]]]:
    return [(plan.name, [path.name for path in plan.files]) for plan in plans]


def test_pairs_r1_r2_and_1_2_and_illumina_names():
    files = [
        Path("/run/a_R2.fastq.gz"),
        Path("/run/a_R1.fastq.gz"),
        Path("/run/b_1.fq"),
        Path("/run/b_2.fq"),
        Path("/run/Leaf-3_S3_L001_R1_001.fastq.gz"),
        Path("/run/Leaf-3_S3_L001_R2_001.fastq.gz"),
        Path("/run/c.R1.fq.gz"),
        Path("/run/c.R2.fq.gz"),
        Path("/run/lonely.fq.gz"),
        Path("/run/orphan_R1.fq.gz"),
    ]
    assert names(pair_reads(files)) == [
        ("Leaf-3_S3_L001", ["Leaf-3_S3_L001_R1_001.fastq.gz", "Leaf-3_S3_L001_R2_001.fastq.gz"]),
        ("a", ["a_R1.fastq.gz", "a_R2.fastq.gz"]),
        ("b", ["b_1.fq", "b_2.fq"]),
        ("c", ["c.R1.fq.gz", "c.R2.fq.gz"]),
        ("lonely", ["lonely.fq.gz"]),
        ("orphan_R1", ["orphan_R1.fq.gz"]),  # no mate: a single-end sample named after its file
    ]


def test_pairs_only_within_a_folder():
    files = [Path("/run/lane1/x_R1.fq"), Path("/run/lane2/x_R2.fq")]
    assert names(pair_reads(files)) == [("x_R1", ["x_R1.fq"]), ("x_R2", ["x_R2.fq"])]


def test_a_name_ending_in_a_digit_is_not_a_mate():
    assert names(pair_reads([Path("/r/sample12.fq"), Path("/r/plot_3.fq")])) == [
        ("plot_3", ["plot_3.fq"]),
        ("sample12", ["sample12.fq"]),
    ]


def test_guess_type_follows_the_uploads_page():
    assert [guess_type(n) for n in ["a.fq.gz", "r.json.gz", "g.fa", "g.fasta.gz", "vthmm.tar.gz", "p.hmm"]] == [
        "reads",
        "reference",
        "subtraction",
        "subtraction",
        "hmm",
        "hmm",
    ]


def test_collect_finds_fastq_in_folders_and_refuses_what_is_missing(tmp_path):
    (tmp_path / "run" / "sub").mkdir(parents=True)
    for name in ["run/a_R1.fq.gz", "run/sub/b.fastq", "run/SampleSheet.csv", "run/.hidden.fq", "extra.fa"]:
        (tmp_path / name).write_text("x")
    found = collect([tmp_path / "run", tmp_path / "extra.fa", tmp_path / "run" / "a_R1.fq.gz"])
    assert [path.relative_to(tmp_path).as_posix() for path in found] == [
        "run/a_R1.fq.gz",
        "run/sub/b.fastq",
        "extra.fa",
    ]
    with pytest.raises(UploadError):
        collect([tmp_path / "nothing-here"])


def test_state_is_kept_between_runs_and_keyed_by_the_file(tmp_path):
    source = tmp_path / "a.fq"
    source.write_text("@r\nA\n+\nI\n")
    state = State(tmp_path / "state" / "uploads.json")
    key = State.key("http://v", "alice", source)
    state.put(key, {"location": "http://v/api/uploads/tus/x"})
    assert State(tmp_path / "state" / "uploads.json").get(key) == {"location": "http://v/api/uploads/tus/x"}
    source.write_text("@r\nAC\n+\nII\n")  # changed: another file as far as resuming goes
    assert State(tmp_path / "state" / "uploads.json").get(State.key("http://v", "alice", source)) is None
    assert State.key("http://v", "bob", source) != State.key("http://v", "alice", source)
