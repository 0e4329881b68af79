"""Legacy samples (issue 17 part 2): detection from Virtool documents, the update_sample job, the API."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from analyses.models import Analysis
from core.errors import BadRequest
from jobs.constants import JobState
from jobs.models import Job
from samples.constants import READS_NAMES, LibraryType
from samples.models import Sample
from samples.quality import quality
from samples.services import sample_legacy_detect, sample_legacy_mark
from tests.conftest import SHARED, client_for, run_waiting_jobs, stored_upload, wait_for

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


def make_legacy_sample(owner, *, paired: bool = True, srna: bool | None = True, **fields) -> Sample:
    """A sample as the importer leaves a 2019 one: ready, its real reads uncompressed under the old names, no
    quality, the srna flag, marked legacy from its Virtool document by `sample_legacy_detect`."""
    sample = Sample.objects.create(name=fields.pop("name", "Legacy raspberry"), user=owner, ready=True, **fields)
    folder = legacy_folder(Path(settings.DATA_PATH) / "samples" / sample.pk, paired=paired)
    names = ["reads_1.fastq", "reads_2.fastq"][: 2 if paired else 1]
    document = {
        "_id": sample.pk,
        "paired": paired,
        "files": [{"name": name, "size": (folder / name).stat().st_size} for name in names],
        **({"srna": srna} if srna is not None else {"library_type": "normal"}),
    }
    check = sample_legacy_detect(document=document, folder=folder)
    assert check.is_legacy
    return sample_legacy_mark(sample=sample, check=check)


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


# --- The update_sample job ---------------------------------------------------------------------------------------


def sample_folder(sample: Sample) -> Path:
    return Path(settings.DATA_PATH) / "samples" / sample.pk


def plain(mate: int) -> bytes:
    return gzip.decompress((SAMPLES / f"rprsv_{mate}.fq.gz").read_bytes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.live
def test_update_sample_on_a_worker_gives_todays_files_and_a_fresh_samples_quality(start_worker, make_user):
    owner = make_user("curator", permissions=["create_sample", "upload_file"])
    legacy = make_legacy_sample(owner)
    analysis = Analysis.objects.create(
        workflow="pathoscope_bowtie", sample=legacy, user=owner, ready=True, results={"hits": []}
    )
    analysis_file = sample_folder(legacy) / "analysis" / analysis.pk / "results.json"
    analysis_file.parent.mkdir(parents=True)
    analysis_file.write_text("{}")
    client = client_for(owner)
    listed = client.get(f"/api/samples/{legacy.pk}").json()
    assert listed["is_legacy"] is True
    assert [entry["name"] for entry in listed["files"]] == ["reads_1.fastq", "reads_2.fastq"]
    assert listed["reads"] == []
    # A fresh sample from the same reads, made today, for comparison.
    uploads = [
        stored_upload(owner, (SAMPLES / f"rprsv_{mate}.fq.gz").read_bytes(), name=f"r{mate}.fq.gz", upload_type="reads")
        for mate in (1, 2)
    ]
    fresh = client.post("/api/samples", {"name": "Fresh", "files": [u.pk for u in uploads]}, format="json").json()
    start_worker(queues="small", concurrency=1)

    response = client.put(f"/api/samples/{legacy.pk}/update_job")
    assert response.status_code == 200, response.content
    assert response.json()["job"]["workflow"] == "update_sample"
    job_id = response.json()["job"]["id"]
    assert wait_for(lambda: Job.objects.get(pk=job_id).state in (JobState.COMPLETE, JobState.ERROR), timeout=120)
    job = Job.objects.get(pk=job_id)
    assert job.state == JobState.COMPLETE, job.status[-1]
    assert [r["stage"] for r in job.status if r["state"] == "running"] == ["copy_files", "quality", "replace_old"]
    wait_for(lambda: Sample.objects.get(pk=fresh["id"]).ready, timeout=120)

    sample = Sample.objects.get(pk=legacy.pk)
    assert sample.is_legacy is False
    assert sample.library_type == LibraryType.SRNA  # the 2019 srna flag, translated
    assert (sample.srna, sample.files, sample.paired, sample.ready) == (None, [], True, True)
    assert sample.quality == Sample.objects.get(pk=fresh["id"]).quality
    assert sample.quality == quality([SAMPLES / "rprsv_1.fq.gz", SAMPLES / "rprsv_2.fq.gz"])
    folder = sample_folder(sample)
    assert sorted(path.name for path in folder.iterdir()) == ["analysis", *READS_NAMES]
    for mate, name in enumerate(READS_NAMES, start=1):
        assert (folder / name).read_bytes()[:2] == b"\x1f\x8b"
        assert gzip.decompress((folder / name).read_bytes()) == plain(mate)
    # Its analyses stay, files and all.
    assert Analysis.objects.filter(pk=analysis.pk, sample=sample).exists()
    assert analysis_file.read_text() == "{}"
    body = client.get(f"/api/samples/{legacy.pk}").json()
    assert body["is_legacy"] is False
    assert [read["name"] for read in body["reads"]] == list(READS_NAMES)
    assert body["files"] == []
    download = client.get(f"/api/samples/{legacy.pk}/reads/reads_1.fq.gz")
    assert gzip.decompress(b"".join(download.streaming_content)) == plain(1)
    # Nothing left to update.
    assert client.put(f"/api/samples/{legacy.pk}/update_job").status_code == 409


@pytest.fixture
def jobs_in_process(jobs_here):
    """Jobs run in this process (`run_waiting_jobs`)."""


@pytest.mark.django_db(transaction=True)
def test_update_sample_unpaired_normal_library(jobs_in_process, make_user):
    owner = make_user("curator")
    legacy = make_legacy_sample(owner, paired=False, srna=False, library_type=LibraryType.SRNA)
    assert client_for(owner).put(f"/api/samples/{legacy.pk}/update_job").status_code == 200
    assert run_waiting_jobs() == ["complete"]
    sample = Sample.objects.get(pk=legacy.pk)
    assert (sample.is_legacy, sample.paired, sample.library_type) == (False, False, LibraryType.NORMAL)
    assert sample.quality == quality([SAMPLES / "rprsv_1.fq.gz"])
    assert sorted(path.name for path in sample_folder(sample).iterdir()) == ["reads_1.fq.gz"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("truncate", "reads_2.fastq"),
        ("unpair", "reads_1.fastq and reads_2.fastq are not a pair"),
        ("missing", "The read file reads_2.fastq of this sample is missing from its folder"),
    ],
)
def test_update_sample_failure_says_why_and_keeps_the_old_files(jobs_in_process, make_user, damage, expected):
    owner = make_user("curator")
    legacy = make_legacy_sample(owner, quality={"count": 3})
    folder = sample_folder(legacy)
    second = folder / "reads_2.fastq"
    if damage == "truncate":
        second.write_bytes(second.read_bytes()[:-7])
    elif damage == "unpair":
        second.write_bytes(b"".join(second.read_bytes().splitlines(keepends=True)[4:]))
    else:
        second.unlink()
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    client = client_for(owner)
    assert client.put(f"/api/samples/{legacy.pk}/update_job").status_code == 200
    assert run_waiting_jobs() == ["error"]
    job = Job.objects.get(pk=Sample.objects.get(pk=legacy.pk).job_id)
    details = " ".join(job.status[-1]["error"]["details"])
    assert expected in details, details
    assert "Traceback" not in details
    # Nothing lost: the old files as they were, no half-made new ones, the sample still legacy and listed so.
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert not (Path(settings.DATA_PATH) / "jobs" / job.pk).exists()
    sample = Sample.objects.get(pk=legacy.pk)
    assert (sample.is_legacy, sample.quality, sample.srna, sample.library_type) == (True, {"count": 3}, True, "normal")
    listed = client.get("/api/samples").json()["documents"][0]
    assert (listed["is_legacy"], listed["job"]["state"], listed["ready"]) == (True, "error", True)
    assert expected in listed["job"]["error"]
    # Once repaired, it can be updated again.
    if damage != "unpair":
        with gzip.open(SAMPLES / "rprsv_2.fq.gz", "rb") as source:
            second.write_bytes(source.read())
        assert client.put(f"/api/samples/{legacy.pk}/update_job").status_code == 200
        assert run_waiting_jobs() == ["complete"]
        assert Sample.objects.get(pk=legacy.pk).is_legacy is False


# --- PUT /api/samples/{id}/update_job ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_job_rights_and_conflicts(jobs_in_process, make_user, admin_user, anon_client):
    owner = make_user("curator")
    legacy = make_legacy_sample(owner, all_read=True, all_write=False)
    url = f"/api/samples/{legacy.pk}/update_job"
    assert anon_client.put(url).status_code == 401
    reader = client_for(make_user("reader"))
    refused = reader.put(url)
    assert refused.status_code == 403
    assert refused.json() == {"id": "insufficient_rights", "message": "Insufficient rights"}
    assert reader.put("/api/samples/nosuch00/update_job").status_code == 404
    hidden = make_legacy_sample(owner, name="Hidden", all_read=False)
    assert reader.put(f"/api/samples/{hidden.pk}/update_job").status_code == 403  # as Virtool: exists, not yours
    # The owner and an administrator may; a second start while the first waits is refused.
    started = client_for(owner).put(url)
    assert started.status_code == 200
    assert started.json()["job"]["state"] == "waiting"
    again = client_for(admin_user).put(url)
    assert again.status_code == 409
    assert again.json() == {"id": "conflict", "message": "The sample is already being updated"}
    assert client_for(owner).delete(f"/api/samples/{legacy.pk}").json()["message"] == "The sample is being updated"
    assert Job.objects.filter(workflow="update_sample").count() == 1
    # A sample in today's form has nothing to update.
    today = Sample.objects.create(name="Today", user=owner, ready=True)
    conflict = client_for(owner).put(f"/api/samples/{today.pk}/update_job")
    assert conflict.status_code == 409
    assert conflict.json()["message"] == "The sample is not a legacy sample: its reads are already in today's form"
    assert client_for(admin_user).put(f"/api/samples/{hidden.pk}/update_job").status_code == 200


@pytest.mark.django_db
def test_legacy_sample_cannot_be_analysed_before_its_update(jobs_in_process, make_user):
    from indexes.models import Index
    from references.models import Reference

    owner = make_user("curator")
    reference = Reference.objects.create(name="Plant viruses", user=owner)
    Index.objects.create(reference=reference, version=0, ready=True, manifest={}, user=owner)
    legacy = make_legacy_sample(owner)
    response = client_for(owner).post(f"/api/samples/{legacy.pk}/analyses", {"ref_id": reference.pk}, format="json")
    assert response.status_code == 409, response.content
    assert (
        response.json()["message"] == "Sample Legacy raspberry is a legacy sample: update it first (its Update button)"
    )


@pytest.mark.django_db(transaction=True)
def test_update_sample_cancelled_keeps_the_old_files_and_can_start_again(jobs_in_process, make_user, admin_user):
    owner = make_user("curator")
    legacy = make_legacy_sample(owner)
    folder = sample_folder(legacy)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    client = client_for(owner)
    assert client.put(f"/api/samples/{legacy.pk}/update_job").status_code == 200
    job_id = Sample.objects.get(pk=legacy.pk).job_id
    assert client_for(admin_user).put(f"/api/jobs/{job_id}/cancel").status_code == 200
    assert run_waiting_jobs() == []
    assert Job.objects.get(pk=job_id).state == JobState.CANCELLED
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    sample = Sample.objects.get(pk=legacy.pk)
    assert (sample.is_legacy, sample.quality, sample.srna) == (True, None, True)
    listed = client.get("/api/samples").json()["documents"][0]
    assert (listed["is_legacy"], listed["job"]["state"]) == (True, "cancelled")
    assert client.put(f"/api/samples/{legacy.pk}/update_job").status_code == 200
    assert run_waiting_jobs() == ["complete"]
    assert sorted(path.name for path in folder.iterdir()) == list(READS_NAMES)
