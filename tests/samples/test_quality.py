"""The quality report equals FastQC 0.11.9's numbers, in Virtool's shape; malformed files fail clearly."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from samples.quality import QualityError, composite_quality, file_quality, quality
from tests.conftest import SHARED
from tests.samples.fastqc import fastqc_quality, write_fastq

SAMPLES = SHARED / "data" / "samples"
KEYS = ["bases", "composition", "count", "encoding", "gc", "length", "sequences", "gc_distribution", "gc_theoretical"]


def fastqc_numbers(report: dict) -> dict:
    """Our report without what FastQC's data file does not print (the theoretical GC curve it only draws)."""
    return {key: value for key, value in report.items() if key != "gc_theoretical"}


@pytest.mark.parametrize(
    ("reads", "min_length", "max_length", "offset", "seed"),
    [
        (3000, 30, 75, 33, 1),  # varying lengths, Ns and lowercase letters
        (400, 20, 75, 33, 2),  # the longest cycles have at most 100 reads
        (1500, 60, 60, 64, 3),  # Phred+64 (Illumina 1.5)
        (150, 1, 75, 33, 4),  # very short reads among long ones
    ],
)
def test_quality_equals_fastqc_on_generated_files(tmp_path, reads, min_length, max_length, offset, seed):
    path = tmp_path / "reads.fq"
    write_fastq(path, reads=reads, min_length=min_length, max_length=max_length, seed=seed, offset=offset)
    ours = file_quality(path)
    assert list(ours) == KEYS
    assert fastqc_numbers(ours) == fastqc_quality(path, tmp_path / "fastqc")


@pytest.mark.parametrize("name", ["small_50bp_1.fq.gz", "small_50bp_2.fq.gz"])
def test_quality_equals_fastqc_on_real_reads(tmp_path, name):
    assert fastqc_numbers(file_quality(SAMPLES / name)) == fastqc_quality(SAMPLES / name, tmp_path)


def test_pair_is_the_composite_of_the_rounded_rows(tmp_path):
    left = fastqc_quality(SAMPLES / "small_50bp_1.fq.gz", tmp_path)
    right = fastqc_quality(SAMPLES / "small_50bp_2.fq.gz", tmp_path)
    pair = quality([SAMPLES / "small_50bp_1.fq.gz", SAMPLES / "small_50bp_2.fq.gz"])
    assert pair == composite_quality(left, right)
    assert pair["count"] == 50000
    assert pair["gc"] == (left["gc"] + right["gc"]) / 2
    assert len(pair["sequences"]) == 50
    assert pair["bases"][0] == [round((x + y) / 2, 3) for x, y in zip(left["bases"][0], right["bases"][0], strict=True)]


def test_at_most_100_reads_per_cycle_report_the_mean_six_times(tmp_path):
    path = tmp_path / "few.fq"
    path.write_text("".join(f"@r{i}\nACGT\n+\n{chr(33 + 30 + i % 5) * 4}\n" for i in range(100)))
    row = file_quality(path)["bases"][0]
    assert row == [row[0]] * 6
    assert row[0] == 32.0


def test_progress_follows_the_reads(tmp_path):
    path = tmp_path / "many.fq"
    write_fastq(path, reads=250_000, min_length=20, max_length=20, seed=5)
    seen = []
    file_quality(path, on_progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 250_000
    assert len(seen) >= 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "contains no reads"),
        (b"@r1\nACGT\n+\nIII\n", "record 1"),
        (b"@r1\nACGT\n+\nIIII\n@r2\nACGTA\n+\nIIII\n", "record 2"),
        (b"\x00\x01\x02binary\xff" * 50, "not"),
        (b">seq1\nACGT\n", "not valid FASTQ"),
    ],
)
def test_malformed_files_fail_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.fq"
    path.write_bytes(content)
    with pytest.raises(QualityError) as error:
        file_quality(path)
    assert "bad.fq" in str(error.value)
    assert message in str(error.value)


def test_truncated_gzip_fails_clearly(tmp_path):
    data = gzip.compress(
        (SAMPLES / "small_50bp_1.fq.gz").read_bytes() and gzip.decompress((SAMPLES / "small_50bp_1.fq.gz").read_bytes())
    )
    path = tmp_path / "cut.fq.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(QualityError) as error:
        file_quality(path)
    assert "cut.fq.gz" in str(error.value)


def test_damaged_gzip_block_fails_clearly(tmp_path):
    good = gzip.compress(b"@r1\nACGT\n+\nIIII\n" * 1000)
    path = tmp_path / "damaged.fq.gz"
    path.write_bytes(good + good[:10] + b"\x07" + bytes(30))  # a second member whose first block type is reserved
    with pytest.raises(QualityError, match=r"^damaged.fq.gz could not be read to the end \(.*Invalid deflate block"):
        file_quality(path)


def test_gzip_is_judged_by_content_not_name(tmp_path):
    plain = tmp_path / "reads.fq.gz"  # plain text under a gzip name
    plain.write_bytes(gzip.decompress((SAMPLES / "small_50bp_1.fq.gz").read_bytes()))
    assert file_quality(plain) == file_quality(SAMPLES / "small_50bp_1.fq.gz")


def test_quality_command_prints_the_json(run_manage):
    result = run_manage("quality", str(SAMPLES / "small_50bp_1.fq.gz"), str(SAMPLES / "small_50bp_2.fq.gz"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["count"] == 50000
    bad = run_manage("quality", str(Path("/nonexistent.fq")))
    assert bad.returncode != 0
    assert "nonexistent.fq" in bad.stderr


def test_gc_distribution_of_long_reads_equals_fastqc(tmp_path):
    """Reads over 1,000 nt: FastQC counts GC over each read's first multiple of 1,000 bases."""
    path = tmp_path / "long.fq"
    write_fastq(path, reads=300, min_length=700, max_length=2600, seed=9)
    assert file_quality(path)["gc_distribution"] == fastqc_quality(path, tmp_path / "fastqc")["gc_distribution"]


def test_gc_distribution_of_the_rprsv_pair_equals_fastqc(tmp_path):
    ours = quality([SAMPLES / "rprsv_1.fq.gz", SAMPLES / "rprsv_2.fq.gz"])
    theirs = [
        fastqc_quality(SAMPLES / name, tmp_path)["gc_distribution"] for name in ("rprsv_1.fq.gz", "rprsv_2.fq.gz")
    ]
    assert ours["gc_distribution"] == [round(x + y, 3) for x, y in zip(*theirs, strict=True)]


def test_gc_theoretical_curve_is_fastqcs_normal_around_the_mode():
    from samples.quality import gc_theoretical

    # A symmetric bump around 40 %: the curve peaks there and holds as many reads as the distribution.
    observed = [0.0] * 101
    for offset, count in ((-2, 10), (-1, 40), (0, 100), (1, 40), (2, 10)):
        observed[40 + offset] = float(count)
    curve = gc_theoretical(observed)
    assert max(range(101), key=curve.__getitem__) == 40
    assert sum(curve) == pytest.approx(200, rel=1e-3)
    assert curve[38] == pytest.approx(curve[42])
    # A plateau (bins within 10 % of the mode) centres the curve on its middle.
    plateau = [0.0] * 101
    for i, count in zip(range(50, 55), (100, 99, 98, 99, 100), strict=True):
        plateau[i] = count
    shifted = gc_theoretical(plateau)
    assert max(range(101), key=shifted.__getitem__) == 52
    assert gc_theoretical([0.0] * 101) == [0.0] * 101
