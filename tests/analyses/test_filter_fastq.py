"""filter_fastq: the reads carried from one subtraction to the next keep every record the host did not explain."""

from __future__ import annotations

import gzip

import pytest

from analyses.workflows import filter_fastq
from core import seqio
from tests.conftest import SHARED

RPRSV = SHARED / "data" / "samples" / "rprsv_1.fq.gz"


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_filter_fastq_drops_reads_by_id(tmp_path, packed):
    records = list(seqio.read_fastq(RPRSV))
    source = tmp_path / "isolates.fq"
    data = gzip.decompress(RPRSV.read_bytes())
    source.write_bytes(gzip.compress(data) if packed else data)
    drop = {record.id for record in records[::3]}
    target = tmp_path / "remaining.fq"
    kept = filter_fastq(source, target, drop)
    expected = [record for record in records if record.id not in drop]
    assert kept == len(expected) == len(records) - len(drop)
    assert list(seqio.read_fastq(target)) == expected
    assert not seqio.is_gzip(target)  # bowtie2 reads it next; plain as before


def test_filter_fastq_keeps_the_whole_header_and_matches_the_id_only(tmp_path):
    source = tmp_path / "isolates.fq"
    source.write_bytes(b"@r1 1:N:0\nACGT\n+\nIIII\n@r2\tx\nGGCC\n+\nJJJJ\n@r10\nTT\n+\nII\n")
    target = tmp_path / "remaining.fq"
    assert filter_fastq(source, target, {"r1", "r2"}) == 1
    assert target.read_bytes() == b"@r10\nTT\n+\nII\n"
    assert filter_fastq(source, target, {"r1 1:N:0"}) == 3  # ids stop at whitespace
    assert target.read_bytes() == source.read_bytes()


def test_filter_fastq_names_a_broken_record(tmp_path):
    source = tmp_path / "isolates.fq"
    source.write_bytes(b"@r1\nACGT\n+\nIIII\n@r2\nACGT\n+\nII\n")
    with pytest.raises(seqio.SequenceFormatError, match=r"^record 2 \(line 8\): quality and sequence lengths differ"):
        filter_fastq(source, tmp_path / "remaining.fq", set())
