"""core.seqio: FASTA and FASTQ reading (plain and gzip, by content), errors that name the line, gzip writing."""

from __future__ import annotations

import gzip
import inspect
import io
import json
import random

import pytest

from core import seqio
from tests.conftest import SHARED

SAMPLES = SHARED / "data" / "samples"
REFERENCES = SHARED / "data" / "references"


def demo_fasta() -> tuple[bytes, list[tuple[str, str]]]:
    """The demo reference's sequences as a wrapped multi-FASTA (60 letters a line), and its (name, sequence)s."""
    document = json.loads(gzip.decompress((REFERENCES / "demo-plant-viruses.json.gz").read_bytes()))
    lines, expected = [], []
    for otu in document["otus"]:
        for isolate in otu["isolates"]:
            for sequence in isolate["sequences"]:
                nucleotides = sequence["sequence"]
                expected.append((f"{sequence['accession']} {otu['name']}", nucleotides))
                lines.append(f">{expected[-1][0]}\n")
                lines.extend(nucleotides[i : i + 60] + "\n" for i in range(0, len(nucleotides), 60))
    return "".join(lines).encode(), expected


def test_is_gzip_judges_content_not_name(tmp_path):
    hidden = tmp_path / "reads.fq"  # gzip under a plain name
    hidden.write_bytes(gzip.compress(b"@r1\nACGT\n+\nIIII\n"))
    plain = tmp_path / "reads.fq.gz"  # plain text under a gzip name
    plain.write_bytes(b"@r1\nACGT\n+\nIIII\n")
    assert seqio.is_gzip(hidden)
    assert not seqio.is_gzip(plain)
    assert seqio.is_gzip(SAMPLES / "rprsv_1.fq.gz")
    assert seqio.is_gzip_data(b"\x1f\x8b\x08")
    assert not seqio.is_gzip_data(b"\x1f")
    for path in (hidden, plain):
        assert [record.sequence for record in seqio.read_fastq(path)] == ["ACGT"]


def test_read_fastq_real_gzip_library_streams():
    reader = seqio.read_fastq(SAMPLES / "rprsv_1.fq.gz")
    assert inspect.isgenerator(reader)  # one record at a time, never the whole file
    first = next(reader)
    assert first.id
    assert len(first.sequence) == len(first.qualities) > 100
    assert 1 + sum(1 for _ in reader) == 10_000


def test_read_fastq_plain_equals_gzip(tmp_path):
    plain = tmp_path / "reads"
    plain.write_bytes(gzip.decompress((SAMPLES / "small_50bp_1.fq.gz").read_bytes()))
    records = list(seqio.read_fastq(plain))
    assert len(records) == 25_000
    assert records == list(seqio.read_fastq(SAMPLES / "small_50bp_1.fq.gz"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"@r1\nACGT\n+\nIIII\n@r2\nACGT\n+\nII\n", "record 2 (line 8): quality and sequence lengths differ"),
        (b"@r1\nACGT\n+\nIIII\nr2\nACGT\n+\nIIII\n", "record 2 (line 5): the line should start with '@', not 'r'"),
        (b"@r1\nACGT\n-\nIIII\n", "record 1 (line 3): the line should start with '+', not '-'"),
        (b"@r1\nACGT\n+\nIIII\n@r2\nAC", "record 2 (line 6): the file ends inside this record (is it truncated?)"),
        (b">r1\nACGT\n>r2\nACGT\n", "record 1 (line 1): this is FASTA, not FASTQ: a FASTQ record starts with '@'"),
        ("@r1\nACGTé\n+\nIIIII\n".encode(), "record 1: the record holds characters that are not ASCII"),
    ],
    ids=["lengths", "header", "separator", "truncated", "fasta", "not-ascii"],
)
def test_read_fastq_errors_name_record_and_line(tmp_path, content, message):
    path = tmp_path / "bad.fq"
    path.write_bytes(content)
    with pytest.raises(seqio.SequenceFormatError) as raised:
        list(seqio.read_fastq(path))
    assert str(raised.value) == message


def test_read_fastq_truncated_gzip(tmp_path):
    full = (SAMPLES / "small_50bp_1.fq.gz").read_bytes()
    path = tmp_path / "cut.fq.gz"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(seqio.SequenceFormatError, match=r"^the file is damaged or truncated: "):
        list(seqio.read_fastq(path))


def test_read_fasta_plain_gzip_and_misnamed(tmp_path):
    data, expected = demo_fasta()
    plain, packed = tmp_path / "demo.fa.gz", tmp_path / "demo.txt"  # both names lie
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))
    reader = seqio.read_fasta(packed)
    assert inspect.isgenerator(reader)  # one record at a time, never the whole file
    assert [(record.name, record.sequence) for record in reader] == expected
    assert [(record.name, record.sequence) for record in seqio.read_fasta(plain)] == expected


def test_read_fasta_blank_lines_comments_crlf_and_non_ascii_headers(tmp_path):
    path = tmp_path / "x.fa"
    path.write_bytes("\n>A1 Tomato virus \N{EN DASH} RNA1\r\nACGT\r\n\r\n# a comment\nTTGG\n>A2\nAC\n".encode())
    assert [(r.name, r.sequence) for r in seqio.read_fasta(path)] == [
        ("A1 Tomato virus \N{EN DASH} RNA1", "ACGTTTGG"),
        ("A2", "AC"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"ACGT\n>x\nACGT\n", "line 1: a FASTA record must start with '>' (found 'ACGT')"),
        (b"\n\nhello\n", "line 3: a FASTA record must start with '>' (found 'hello')"),
        (b">x\nACGT\n>y\nAC\xffGT\n", "line 4: the file is not text: byte 0xff is neither ASCII nor UTF-8"),
    ],
)
def test_read_fasta_errors(tmp_path, content, message):
    path = tmp_path / "bad.fa"
    path.write_bytes(content)
    with pytest.raises(seqio.SequenceFormatError) as raised:
        list(seqio.read_fasta(path))
    assert str(raised.value) == message


def test_fasta_scan_counts_like_a_line_by_line_count(tmp_path):
    rng = random.Random(7)
    parts = []
    for index in range(5):
        sequence = "".join(rng.choice("ACGTNacgtnRY") for _ in range(rng.randrange(100, 400_000)))
        width = rng.choice([60, 70, 80])
        parts.append(f">chr{index} some description\n")
        parts.extend(sequence[i : i + width] + "\n" for i in range(0, len(sequence), width))
        parts.append("\n")  # blank lines are allowed
    data = "".join(parts).encode()
    path = tmp_path / "genome"
    path.write_bytes(gzip.compress(data))
    copy = io.BytesIO()
    progress: list[int] = []
    scan = seqio.fasta_scan(path, copy_to=copy, on_progress=progress.append)
    assert copy.getvalue() == data  # the exact bytes, decompressed
    assert progress[-1] == len(data)
    assert progress == sorted(progress)
    assert scan.records == 5
    sequence_lines = b"".join(line for line in data.split(b"\n") if not line.startswith(b">")).lower()
    assert scan.counts == {letter: sequence_lines.count(letter.encode()) for letter in "acgtn"}


def test_fasta_scan_unwrapped_chromosome_longer_than_a_block(tmp_path):
    long = b"ACGTN" * 700_000  # 3.5 MB on one line: read in pieces, never waiting for its end
    path = tmp_path / "unwrapped.fa"
    path.write_bytes(b">chr1\n" + long + b"\n>chr2\nacgt\n")
    scan = seqio.fasta_scan(path)
    assert scan.records == 2
    assert scan.counts == {"a": 700_001, "c": 700_001, "g": 700_001, "t": 700_001, "n": 700_000}


def test_fasta_scan_error_line_after_several_blocks(tmp_path):
    lines = [b">chr1"] + [b"ACGT" * 15] * 40_000 + [b"ACGTXACGT"]  # 2.4 MB before the bad line
    path = tmp_path / "bad.fa"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(seqio.SequenceFormatError) as raised:
        seqio.fasta_scan(path)
    assert str(raised.value) == "line 40002: characters that are not nucleotides (X)"
    assert raised.value.line == 40_002


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\nACGT\n>chr1\nACGT\n", "line 2: a FASTA file must start with a '>' header line"),
        (b">chr1\nACGT\nAC GT\n", "line 3: characters that are not nucleotides (space)"),
        (b">chr1\nACGT\n>chr2\n\n>chr3\nAC\n", "line 5: the record before this one has no sequence"),
        (b">chr1\nACGT\n>chr2\n", "the last record has no sequence"),
        (b"", "the file holds no FASTA records"),
        (b"\n  \n", "the file holds no FASTA records"),
    ],
)
def test_fasta_scan_errors(tmp_path, content, message):
    path = tmp_path / "bad.fa"
    path.write_bytes(content)
    with pytest.raises(seqio.SequenceFormatError) as raised:
        seqio.fasta_scan(path)
    assert str(raised.value) == message


def test_fasta_scan_accepts_crlf_and_blank_lines_with_spaces(tmp_path):
    path = tmp_path / "dos.fa"
    path.write_bytes(b">chr1\r\nACGT\r\n   \r\nNNac\r\n")
    assert seqio.fasta_scan(path) == seqio.FastaScan(records=1, counts={"a": 2, "c": 2, "g": 1, "t": 1, "n": 2})


def test_gzip_writing_round_trip_is_isal_level_1(tmp_path):
    data = gzip.decompress((SAMPLES / "rprsv_1.fq.gz").read_bytes())
    source = tmp_path / "reads.fq"
    source.write_bytes(data)
    target = tmp_path / "reads"  # no .gz: compressed because asked, not because of the name
    chunks: list[int] = []
    seqio.gzip_copy(source, target, on_chunk=chunks.append)
    assert seqio.is_gzip(target)
    assert gzip.decompress(target.read_bytes()) == data
    assert chunks[-1] == len(data)
    with seqio.open_gzip_write(tmp_path / "direct.bin") as handle:
        assert type(handle).__module__.startswith("isal.")  # ISA-L through xopen, not the stdlib's gzip
        handle.write(data)
    assert gzip.decompress((tmp_path / "direct.bin").read_bytes()) == data
    assert gzip.decompress(seqio.gzip_bytes(data)) == data


def test_write_fastq_round_trip(tmp_path):
    records = list(seqio.read_fastq(SAMPLES / "small_50bp_2.fq.gz"))
    for compress in (False, True):
        path = tmp_path / f"out-{compress}.fq"
        assert seqio.write_fastq(path, iter(records[:500]), compress=compress) == 500
        assert seqio.is_gzip(path) is compress
        assert list(seqio.read_fastq(path)) == records[:500]


def test_decompressed_start_of_an_upload_head():
    data = b"@r1\nACGT\n+\nIIII\n" * 1000
    packed = gzip.compress(data)
    assert seqio.decompressed_start(packed[:200], 10) == data[:10]
    assert seqio.decompressed_start(data, 4) == b"@r1\n"
    assert seqio.decompressed_start(packed[:5]) == b""  # a header alone: nothing yet
    with pytest.raises(seqio.SequenceFormatError, match="not valid gzip"):
        seqio.decompressed_start(b"\x1f\x8bthis is not gzip data at all")


def test_open_read_decompresses_by_content(tmp_path):
    path = tmp_path / "reference.json"
    path.write_bytes(gzip.compress(b'{"otus": []}'))
    for threads in (0, 1):
        with seqio.open_read(path, threads=threads) as handle:
            assert json.load(handle) == {"otus": []}
