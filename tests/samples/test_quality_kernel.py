"""The compiled scan (samples/_quality_kernel.pyx) counts exactly what the dnaio + numpy path counts, and hands
every file it does not take (CRLF, non-ASCII, damaged records, pairs that are not pairs) back to that path."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from samples import quality as q
from tests.conftest import SHARED
from tests.samples.fastqc import write_fastq

SAMPLES = SHARED / "data" / "samples"


def scanned(path: Path, *, with_ids: bool = False) -> q._Scan:
    scan = q._Scan(with_ids=with_ids)
    scan.read(path)
    return scan


def both_ways(path: Path) -> tuple[dict, dict]:
    """The report from the compiled scan (which must take the file) and from the dnaio + numpy path."""
    return q._report(path, scanned(path).profile()), q._report(path, q._dnaio_profile(path))


@pytest.mark.parametrize(
    ("reads", "min_length", "max_length", "offset", "seed"),
    [
        (3000, 30, 75, 33, 1),
        (1500, 60, 60, 64, 3),  # Phred+64
        (150, 1, 75, 33, 4),
        (2000, 100, 150, 33, 6),  # G/C counted over the first 100 bases
        (300, 700, 2600, 33, 9),  # over 1,000 nt: G/C over the last full thousand (the long-read keys)
    ],
)
def test_scan_counts_what_the_dnaio_path_counts(tmp_path, reads, min_length, max_length, offset, seed):
    path = tmp_path / "reads.fq"
    write_fastq(path, reads=reads, min_length=min_length, max_length=max_length, seed=seed, offset=offset)
    fast, slow = both_ways(path)
    assert fast == slow
    assert fast["count"] == reads


@pytest.mark.parametrize("name", ["small_50bp_1.fq.gz", "rprsv_1.fq.gz", "rprsv_2.fq.gz"])
def test_scan_counts_real_reads_as_the_dnaio_path(name):
    fast, slow = both_ways(SAMPLES / name)
    assert fast == slow


def test_records_across_blocks_and_longer_than_a_block(tmp_path, monkeypatch):
    """Tiny blocks: every record is cut somewhere, some are longer than the buffer, which grows for them; and the
    cycle arrays grow past their first 256 cycles."""
    path = tmp_path / "reads.fq"
    write_fastq(path, reads=400, min_length=1, max_length=600, seed=11)
    expected = q._report(path, q._dnaio_profile(path))
    monkeypatch.setattr(q, "CHUNK", 97)
    assert q._report(path, scanned(path).profile()) == expected


def test_edge_records_are_taken(tmp_path):
    """Empty reads, a `+` line that repeats the header, comments, and no newline after the last line."""
    path = tmp_path / "edge.fq"
    path.write_bytes(
        b"@r1 comment\tmore\nACGTN\n+r1 comment\tmore\nIIII#\n@r2\n\n+\n\n@r3\nggccA\n+\n!!!!~\n@r4\nAC\n+\nII"
    )
    fast, slow = both_ways(path)
    assert fast == slow
    assert fast["count"] == 4
    assert fast["length"] == [0, 5]


@pytest.mark.parametrize(
    "content",
    [
        b"@r1\r\nACGT\r\n+\r\nIIII\r\n",  # Windows line ends: dnaio strips the CRs
        b"@r1\nACGT\n+r2\nIIII\n",  # a `+` line naming another read
        b"@r1\nACGT\n+\nIII\n@r2\nACGT\n+\nIIII\n",  # fewer qualities than bases
        b"@r1\nACGT\n+\nIIII\n\n",  # a blank line at the end
        b"@r\xc3\xa91\nACGT\n+\nIIII\n",  # a non-ASCII name
        b"@r1\nACGT\n+\nII\xc3\xa9\n",  # a non-ASCII quality
        b"@r1\nACGT\n+\nIIII\n@r2\nAC",  # cut short
        b">r1\nACGT\n",  # FASTA
        b"",  # empty
    ],
)
def test_what_the_scan_leaves_to_dnaio(tmp_path, content):
    path = tmp_path / "odd.fq"
    path.write_bytes(content)
    with pytest.raises(q._Unusual):
        scanned(path)


def test_crlf_file_goes_the_dnaio_way_with_the_same_numbers(tmp_path):
    plain = tmp_path / "reads.fq"
    write_fastq(plain, reads=500, min_length=30, max_length=75, seed=12)
    windows = tmp_path / "windows.fq"
    windows.write_bytes(plain.read_bytes().replace(b"\n", b"\r\n"))
    assert q.file_quality(windows) == q.file_quality(plain)


def test_damaged_gzip_goes_the_dnaio_way(tmp_path):
    data = gzip.compress(b"@r1\nACGT\n+\nIIII\n" * 50_000)
    path = tmp_path / "cut.fq.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(q._Unusual):
        scanned(path)
    with pytest.raises(q.QualityError, match=r"cut\.fq\.gz"):
        q.file_quality(path)


def test_mate_ids_are_the_ids_without_their_mate_ending(tmp_path):
    path = tmp_path / "ids.fq"
    names = ["a/1", "b/2 x", "c;1", "d;2\tx", "e:1", "f", "g/3"]
    path.write_text("".join(f"@{name}\nA\n+\nI\n" for name in names))
    seen: list[bytes] = []
    scan = q._Scan(with_ids=True)
    scan.read(path, on_ids=lambda lengths, data: seen.append(data))
    assert b"".join(seen) == "".join(q.mate_id(name.split()[0]) for name in names).encode()


def test_pair_scan_finds_a_pair_that_is_not_one(tmp_path):
    first, second = tmp_path / "a.fq", tmp_path / "b.fq"
    first.write_text("".join(f"@r{i}/1\nACGT\n+\nIIII\n" for i in range(20_000)))
    second.write_text("".join(f"@r{i if i != 15_000 else 'x'}/2\nACGT\n+\nIIII\n" for i in range(20_000)))
    with pytest.raises(q._Unusual):
        q._scan_both([first, second], check_mates=True, on_progress=None)
    # the dnaio path then names the record
    with pytest.raises(q.PairError, match="record 15001 is 'r15000/1'"):
        q.pair_quality([first, second], names=("a.fq", "b.fq"))
    # as many reads but different names are fine when they are not checked as a pair
    left, right = q._scan_both([first, second], check_mates=False, on_progress=None)
    assert left.count == right.count == 20_000


def test_pair_scan_finds_a_file_that_ends_first(tmp_path):
    first, second = tmp_path / "a.fq", tmp_path / "b.fq"
    first.write_text("".join(f"@r{i}\nACGT\n+\nIIII\n" for i in range(30_000)))
    second.write_text("".join(f"@r{i}\nACGT\n+\nIIII\n" for i in range(29_999)))
    with pytest.raises(q._Unusual):
        q._scan_both([first, second], check_mates=True, on_progress=None)
    with pytest.raises(q.PairError, match=r"b\.fq ends after 29999 reads but a\.fq goes on"):
        q.pair_quality([first, second], names=("a.fq", "b.fq"))


def test_pair_scan_equals_the_dnaio_pair_path_and_reports_progress(tmp_path):
    paths = [SAMPLES / "rprsv_1.fq.gz", SAMPLES / "rprsv_2.fq.gz"]
    seen: list[int] = []
    fast = q._scan_both(paths, check_mates=True, on_progress=seen.append)
    slow = q._dnaio_pair_profiles(paths, names=("1", "2"))
    assert [q._report(p, f) for p, f in zip(paths, fast, strict=True)] == [
        q._report(p, s) for p, s in zip(paths, slow, strict=True)
    ]
    assert seen == sorted(seen)
    assert seen[-1] == 2 * fast[0].count


def test_a_failing_progress_callback_stops_both_threads(tmp_path):
    paths = [SAMPLES / "rprsv_1.fq.gz", SAMPLES / "rprsv_2.fq.gz"]

    def cancel(count: int) -> None:
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        q._scan_both(paths, check_mates=True, on_progress=cancel)
    import threading

    assert not [thread for thread in threading.enumerate() if thread.name.startswith("quality ")]


def test_quality_command_runs_without_django(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import sys, runpy; sys.argv = ['manage.py', 'quality', sys.argv[1]]\n"
        "try:\n    runpy.run_path('manage.py', run_name='__main__')\n"
        "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "assert not [name for name in sys.modules if name.split('.')[0] == 'django'], 'django was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(SAMPLES / "small_50bp_1.fq.gz")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"count": 25000' in result.stdout
