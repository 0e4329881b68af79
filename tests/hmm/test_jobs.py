"""The `install_hmms` job: an uploaded release archive installed with progress through its steps; failures,
cancellation and a dead worker end it cleanly, leave the installed HMMs as they were and give the upload back."""

from __future__ import annotations

import gzip
import json
import time

import pytest
from django.utils import timezone

from files.models import Upload
from hmm import selectors, services
from hmm.api.serializers import HMMTaskSerializer
from hmm.models import HMM
from jobs.constants import JobState
from jobs.models import Job
from tests.conftest import client_for, run_waiting_jobs, wait_for
from tests.hmm.conftest import DATA, annotations, hmm_upload, tar_bytes

pytestmark = pytest.mark.django_db(transaction=True)

PROFILES = (DATA / "profiles.hmm").read_bytes()


def install_files():
    services.hmm_install_files(profiles=DATA / "profiles.hmm", annotations=DATA / "annotations.json.gz", user=None)


def start_install(client, upload) -> dict:
    response = client.post("/api/hmms/status/updates", {"upload_id": upload.pk}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_an_uploaded_release_is_installed_step_by_step(data_path, admin_user, jobs_here):
    client = client_for(admin_user)
    upload = hmm_upload(admin_user)
    status = start_install(client, upload)
    job = Job.objects.get(pk=status["task"]["job_id"])
    assert (job.workflow, job.size, job.args) == (
        "install_hmms",
        "small",
        {"upload_id": upload.pk, "name": "vthmm.tar.gz", "size": upload.size},
    )
    assert Upload.objects.get(pk=upload.pk).reserved  # held for the job

    assert run_waiting_jobs() == [JobState.COMPLETE]
    job.refresh_from_db()
    steps = [record["stage"] for record in job.status if record["state"] == "running"]
    # The first step takes the uploaded archive where it is (a release's would be downloaded).
    assert steps == ["download", "decompress", "check_files", "install_profiles", "import_annotations"]
    # Each step starts at its share (0, 20, 40, ...); a step's record follows the progress it reports within itself.
    progress = [record["progress"] for record in job.status if record["state"] == "running"]
    assert all(20 * index <= value <= 20 * (index + 1) for index, value in enumerate(progress)), progress
    assert progress[1] > 20  # the unpacking reported how far it got
    assert job.status[-1]["progress"] == 100

    assert sorted(HMM.objects.values_list("cluster", flat=True)) == [10, 100, 1000]
    assert selectors.hmm_installed()
    assert selectors.hmm_files().profiles.parent.name == f"job-{job.pk}"
    # The upload is used up: gone from the list, its file deleted.
    upload.refresh_from_db()
    assert upload.removed
    assert not (data_path / "files" / upload.name_on_disk).exists()
    assert not (data_path / "jobs" / job.pk).exists()  # the unpacked files went with the job's scratch folder

    document = client.get("/api/hmms/status").json()
    assert document["installed"] == {
        "name": "vthmm.tar.gz",
        "filename": "vthmm.tar.gz",
        "size": upload.size,
        "source": "upload",
        "count": 3,
        "ready": True,
        "created_at": document["installed"]["created_at"],
        "user": {"id": admin_user.pk, "handle": "admin"},
        "job": {"id": job.pk},
    }
    assert document["task"]["complete"] is True
    assert (document["task"]["progress"], document["task"]["step"], document["task"]["error"]) == (
        100,
        "import_annotations",
        None,
    )
    assert document["updating"] is False
    assert [(update["ready"], update["job"]) for update in document["updates"]] == [(True, {"id": job.pk})]


def test_bad_data_inside_a_good_archive_fails_the_job_and_keeps_the_installed_hmms(data_path, admin_user, jobs_here):
    install_files()
    before = selectors.hmm_files()
    first_ids = sorted(HMM.objects.values_list("pk", flat=True))
    client = client_for(admin_user)
    # One annotation has a cluster that is not a number: the archive looks right, its content is not.
    records = annotations()
    records[1]["cluster"] = "one hundred"
    archive = tar_bytes({"hmm/profiles.hmm": PROFILES, "hmm/annotations.json": json.dumps(records).encode()})
    upload = hmm_upload(admin_user, archive)
    status = start_install(client, upload)

    assert run_waiting_jobs() == [JobState.ERROR]
    job = Job.objects.get(pk=status["task"]["job_id"])
    details = job.status[-1]["error"]["details"]
    assert details == [
        "The job failed during step 'Check files': The annotations file has 1 problem; nothing was installed "
        "(1.cluster: must be a whole number)"
    ]
    # Nothing changed: the same data, the same folder, nothing left of the failed install.
    assert selectors.hmm_files() == before
    assert sorted(HMM.objects.values_list("pk", flat=True)) == first_ids
    assert sorted(path.name for path in selectors.hmm_root().iterdir()) == [before.profiles.parent.name]
    upload.refresh_from_db()
    assert (upload.reserved, upload.removed) == (False, False)  # given back, to try again

    document = client.get("/api/hmms/status").json()
    assert (document["installed"]["count"], document["installed"]["job"]) == (3, None)  # the first install
    # The task is the data in use (Virtool's client reads a complete task as "installed"); the failure is told.
    assert (document["task"]["id"], document["task"]["complete"], document["task"]["error"]) == (None, True, None)
    assert document["errors"] == [f"Installing vthmm.tar.gz failed. {details[0]}"]
    assert document["updating"] is False
    # The failed install's pending update went; the first install's stays.
    assert [(update["ready"], update["job"]) for update in document["updates"]] == [(True, None)]
    # The failed job itself still tells its error, as a task.
    assert HMMTaskSerializer(job).data["error"] == details[0]


def test_profiles_that_hmmer_cannot_read_fail_the_job_with_the_reason(data_path, admin_user, jobs_here):
    archive = tar_bytes({"hmm/profiles.hmm": PROFILES[:5000], "hmm/annotations.json.gz": gzip.compress(b"[]")})
    status = start_install(client_for(admin_user), hmm_upload(admin_user, archive))
    assert run_waiting_jobs() == [JobState.ERROR]
    details = Job.objects.get(pk=status["task"]["job_id"]).status[-1]["error"]["details"]
    assert details[0].startswith(
        "The job failed during step 'Check files': The profiles file could not be read as HMMER3 profiles"
    )
    assert not HMM.objects.exists()
    assert not selectors.hmm_installed()
    document = client_for(admin_user).get("/api/hmms/status").json()
    assert document["task"] is None  # nothing installed, nothing running
    assert document["errors"] == [f"Installing vthmm.tar.gz failed. {details[0]}"]


def test_a_cancelled_waiting_install_gives_the_upload_back(data_path, admin_user, jobs_here):
    client = client_for(admin_user)
    upload = hmm_upload(admin_user)
    status = start_install(client, upload)
    assert client.put(f"/api/jobs/{status['task']['job_id']}/cancel").status_code == 200
    document = client.get("/api/hmms/status").json()
    assert document["task"] is None
    assert document["errors"] == ["The install of vthmm.tar.gz was cancelled."]
    assert document["updates"] == []
    assert document["updating"] is False
    assert not Upload.objects.get(pk=upload.pk).reserved
    # A new install may start at once.
    assert start_install(client, upload)["task"]["job_id"] != status["task"]["job_id"]


def test_a_cancellation_after_pressing_removes_the_pressed_files(data_path, admin_user, jobs_here, mocker):
    install_files()
    before = selectors.hmm_files()
    client = client_for(admin_user)
    status = start_install(client, hmm_upload(admin_user))
    job_id = status["task"]["job_id"]
    press = services.hmm_files_press

    def press_then_cancel(**kwargs):
        target = press(**kwargs)
        assert target.name == f"job-{job_id}"
        assert (target / "profiles.hmm.h3m").exists()
        Job.objects.filter(pk=job_id).update(cancel_requested=True)
        time.sleep(1.2)  # the job's watcher notices within half a second
        return target

    mocker.patch("hmm.services.hmm_files_press", side_effect=press_then_cancel)
    assert run_waiting_jobs() == [JobState.CANCELLED]
    assert selectors.hmm_files() == before
    assert not (selectors.hmm_root() / f"job-{job_id}").exists()


def test_a_dead_workers_install_is_cleaned_up(data_path, admin_user, jobs_here):
    from jobs.runner import job_terminate

    client = client_for(admin_user)
    upload = hmm_upload(admin_user)
    job = Job.objects.get(pk=start_install(client, upload)["task"]["job_id"])
    # The worker was killed while pressing: its folder is half written.
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, pinged_at=timezone.now(), worker="gone@host")
    partial = selectors.hmm_root() / f"job-{job.pk}"
    partial.mkdir(parents=True)
    (partial / "profiles.hmm").write_bytes(PROFILES[:100])
    assert job_terminate(job=job, stale_only=False)
    assert not partial.exists()
    assert not Upload.objects.get(pk=upload.pk).reserved
    document = client.get("/api/hmms/status").json()
    assert document["task"] is None
    assert (
        "Installing vthmm.tar.gz failed. The worker running this job (gone@host) stopped responding"
        in (document["errors"][0])
    )


@pytest.mark.live
def test_the_install_runs_on_a_real_worker(data_path, admin_user, start_worker):
    start_worker(queues="small", concurrency=1)
    client = client_for(admin_user)
    status = start_install(client, hmm_upload(admin_user))
    wait_for(lambda: Job.objects.get(pk=status["task"]["job_id"]).state in ("complete", "error"), timeout=60)
    document = client.get("/api/hmms").json()
    assert document["status"]["task"]["complete"] is True, document["status"]["task"]
    assert document["total_count"] == 3
    assert selectors.hmm_installed()
