"""Legacy samples (issue 17 part 2): detection from Virtool documents, the update_sample job, the API."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from core.errors import BadRequest
from samples.services import sample_legacy_detect
from tests.conftest import SHARED

SAMPLES = SHARED / "data" / "samples"
QUALITY = {"bases": [], "composition": [], "count": 1, "encoding": "Sanger / Illumina 1.9", "gc": 40, "length": [1, 1]}
FULL_QUALITY = {**QUALITY, "sequences": [0] * 50}


def legacy_folder(folder: Path, *, paired: bool = True) -> Path:
    """A 2019 sample folder: the real reads, uncompressed, as reads_1.fastq / reads_2.fastq."""
    folder.mkdir(parents=True, exist_ok=True)
    for mate in (1, 2) if paired else (1,):
        with (
            gzip.open(SAMPLES / f"rprsv_{mate}.fq.gz", "rb") as source,
            (folder / f"reads_{mate}.fastq").open("wb") as target,
        ):
            shutil.copyfileobj(source, target)
    return folder


def test_sample_legacy_detect_2019_document_names_every_reason():
    document = {
        "_id": "abc12345",
        "srna": True,
        "paired": True,
        "files": [
            {"id": "x-reads_1.fastq", "name": "reads_1.fastq", "size": 10},
            {"name": "reads_2.fastq", "size": 11},
        ],
        "quality": QUALITY,
    }
    check = sample_legacy_detect(document=document)
    assert check.is_legacy
    assert check.srna is True
    assert [entry["name"] for entry in check.files] == ["reads_1.fastq", "reads_2.fastq"]
    assert check.reasons == [
        "The reads are stored uncompressed (reads_1.fastq, reads_2.fastq)",
        "The reads have the file names of an older release (reads_1.fastq instead of reads_1.fq.gz, "
        "reads_2.fastq instead of reads_2.fq.gz)",
        "The quality report is from an older release (it lacks sequences)",
        "The library type is given by the 2019 small-RNA (srna) flag",
    ]


def test_sample_legacy_detect_todays_sample_is_not_legacy():
    document = {
        "library_type": "normal",
        "is_legacy": False,
        "reads": [{"name": "reads_1.fq.gz", "name_on_disk": "reads_1.fq.gz", "size": 5}],
        "quality": FULL_QUALITY,
    }
    check = sample_legacy_detect(document=document)
    assert not check.is_legacy
    assert check.reasons == []
    assert check.srna is None


def test_sample_legacy_detect_raw_files_are_todays_uploads():
    document = {
        "files": [{"name": "reads_1.fq.gz", "raw": True}],
        "quality": FULL_QUALITY,
        "srna": False,
        "library_type": "normal",
    }
    assert not sample_legacy_detect(document=document).is_legacy


def test_sample_legacy_detect_missing_quality_and_virtool_flag():
    document = {"is_legacy": True, "library_type": "srna", "files": [{"name": "reads_1.fq.gz"}]}
    assert sample_legacy_detect(document=document).reasons == [
        "Virtool marked the sample as legacy",
        "The sample has no quality report",
    ]


def test_sample_legacy_detect_reads_the_folder(tmp_path):
    folder = legacy_folder(tmp_path / "s1")
    check = sample_legacy_detect(document={"quality": FULL_QUALITY, "library_type": "normal"}, folder=folder)
    assert [entry["name"] for entry in check.files] == ["reads_1.fastq", "reads_2.fastq"]
    assert check.files[0]["size"] == (folder / "reads_1.fastq").stat().st_size
    assert check.reasons[0] == "The reads are stored uncompressed (reads_1.fastq, reads_2.fastq)"
    # A file named .gz that is not gzip is uncompressed all the same.
    (folder / "reads_2.fastq").unlink()
    (folder / "reads_1.fastq").rename(folder / "reads_1.fq.gz")
    check = sample_legacy_detect(document={"quality": FULL_QUALITY, "library_type": "normal"}, folder=folder)
    assert check.reasons == ["The reads are stored uncompressed (reads_1.fq.gz)"]


def test_sample_legacy_detect_missing_file_is_refused(tmp_path):
    with pytest.raises(BadRequest, match=r"reads_2\.fastq is missing"):
        sample_legacy_detect(
            document={"files": [{"name": "reads_1.fastq"}, {"name": "reads_2.fastq"}]},
            folder=legacy_folder(tmp_path / "s2", paired=False),
        )
