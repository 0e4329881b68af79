"""A paired sample's files must be a pair: the same number of reads, mates named alike (issue 12, item 5)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from django.conf import settings

from files.models import Upload
from jobs.models import Job
from jobs.runner import job_execute
from samples.models import Sample
from samples.quality import quality
from tests.conftest import SHARED, client_for, stored_upload

pytestmark = pytest.mark.django_db(transaction=True)
SAMPLES = SHARED / "data" / "samples"


@pytest.fixture(autouse=True)
def _run_jobs_here(jobs_here):
    """Jobs run in this process."""


@pytest.fixture
def creator(make_user):
    return make_user("sam", permissions=["create_sample", "upload_file"])


def fastq(names: list[str], sequence: str = "ACGTACGTAC") -> bytes:
    return b"".join(f"@{name}\n{sequence}\n+\n{'I' * len(sequence)}\n".encode() for name in names)


def create_pair(creator, first: tuple[str, bytes], second: tuple[str, bytes]) -> tuple[str, list[Upload]]:
    uploads = [stored_upload(creator, data, name=name, upload_type="reads") for name, data in (first, second)]
    response = client_for(creator).post(
        "/api/samples", {"name": "Pair", "files": [upload.pk for upload in uploads]}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"], uploads


def error_of(sample_id: str) -> str:
    job_id = Sample.objects.get(pk=sample_id).job_id
    assert job_execute(job_id=job_id) == "error"
    message = " ".join(Job.objects.get(pk=job_id).status[-1]["error"]["details"])
    prefix = "The job failed during step 'Check reads': "
    assert message.startswith(prefix)
    return message.removeprefix(prefix)


def assert_nothing_left(sample_id: str, uploads: list[Upload]) -> None:
    """The failed sample stays (to be tried again or removed) without partial files; removing it gives the uploads
    back."""
    sample = Sample.objects.get(pk=sample_id)
    assert not sample.ready
    assert not (Path(settings.DATA_PATH) / "samples" / sample_id).exists()
    for upload in uploads:
        upload.refresh_from_db()
        assert (upload.reserved, upload.removed) == (True, False)  # still the sample's
    from samples.services import sample_delete

    sample_delete(sample=sample)
    for upload in uploads:
        upload.refresh_from_db()
        assert (upload.reserved, upload.removed) == (False, False)  # released: available to try again


def test_files_with_different_read_counts_end_in_error_naming_both_and_the_first_extra_record(creator):
    left = fastq([f"read{number}/1" for number in range(1, 10_001)])
    right = fastq([f"read{number}/2" for number in range(1, 5_001)])
    sample_id, uploads = create_pair(creator, ("lab_R1.fq", left), ("lab_R2.fq.gz", gzip.compress(right)))
    message = error_of(sample_id)
    assert message == (
        "lab_R1.fq and lab_R2.fq.gz are not a pair: lab_R2.fq.gz ends after 5000 reads but lab_R1.fq goes on "
        "(its record 5001 is 'read5001/1')"
    )
    assert_nothing_left(sample_id, uploads)


def test_a_shorter_first_file_is_named_the_same_way(creator):
    sample_id, uploads = create_pair(
        creator, ("a_1.fq", fastq(["r1/1"])), ("a_2.fq", fastq(["r1/2", "r2/2 1:N:0:ACGT"]))
    )
    assert error_of(sample_id) == (
        "a_1.fq and a_2.fq are not a pair: a_1.fq ends after 1 read but a_2.fq goes on "
        "(its record 2 is 'r2/2 1:N:0:ACGT')"
    )
    assert_nothing_left(sample_id, uploads)


def test_mates_whose_names_do_not_match_end_in_error_naming_both_files_and_the_record(creator):
    left = fastq(["M001:1:FC:1:1101:1000:1331 1:N:0:1", "M001:1:FC:1:1101:1000:1400 1:N:0:1"])
    right = fastq(["M001:1:FC:1:1101:1000:1331 2:N:0:1", "M001:1:FC:1:1101:1000:1402 2:N:0:1"])
    sample_id, uploads = create_pair(creator, ("x_R1.fq", left), ("x_R2.fq", right))
    assert error_of(sample_id) == (
        "x_R1.fq and x_R2.fq are not a pair: record 2 is 'M001:1:FC:1:1101:1000:1400 1:N:0:1' in x_R1.fq but "
        "'M001:1:FC:1:1101:1000:1402 2:N:0:1' in x_R2.fq (mates have the same name, apart from a /1 or /2 "
        "ending and the comment after a space)"
    )
    assert_nothing_left(sample_id, uploads)


@pytest.mark.parametrize(
    ("first", "second", "mates"),
    [
        ("r1/1", "r1/2", True),
        ("r1", "r1", True),
        ("r1 1:N:0:ACGT", "r1 2:N:0:ACGT", True),  # Casava 1.8 comments
        ("r1/1 extra", "r1/2 other", True),
        ("NS5:7:H3:1:11101:16849:1079;1", "NS5:7:H3:1:11101:16849:1079;2", True),  # the rprsv sample's style
        ("r1", "r2", False),
        ("x:1331", "x:1332", False),  # a trailing digit is part of the name, not a mate number
        ("r1/1", "r2/2", False),
    ],
)
def test_which_names_are_mates(first, second, mates):
    from samples.quality import mate_id

    assert (mate_id(first.split()[0]) == mate_id(second.split()[0])) is mates


def test_real_pairs_are_pairs_and_their_quality_is_unchanged(creator):
    from samples.quality import pair_quality

    for name in ("small_50bp", "rprsv"):
        paths = [SAMPLES / f"{name}_1.fq.gz", SAMPLES / f"{name}_2.fq.gz"]
        left, right = pair_quality(paths, names=(paths[0].name, paths[1].name))
        assert (left["count"], right["count"]) == (quality([paths[0]])["count"], quality([paths[1]])["count"])
        assert left == quality([paths[0]])
        assert right == quality([paths[1]])


def test_a_real_pair_still_becomes_a_ready_sample(creator):
    sample_id, _ = create_pair(
        creator,
        ("rprsv_1.fq.gz", (SAMPLES / "rprsv_1.fq.gz").read_bytes()),
        ("rprsv_2.fq.gz", (SAMPLES / "rprsv_2.fq.gz").read_bytes()),
    )
    assert job_execute(job_id=Sample.objects.get(pk=sample_id).job_id) == "complete"
    sample = Sample.objects.get(pk=sample_id)
    assert sample.ready
    assert sample.quality == quality([SAMPLES / "rprsv_1.fq.gz", SAMPLES / "rprsv_2.fq.gz"])
