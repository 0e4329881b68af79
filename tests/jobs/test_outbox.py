"""Every committed job reaches a worker: the job row is the outbox.

A job's message is sent after its row commits and `sent_at` records it. When the broker cannot be reached the
request answers 503 with Virtool's JSON error and the job stays `waiting`; beat (and every worker at start) sends
again each waiting job that has no message in the broker past a short grace period. Claims are conditional, so a
job sent twice runs once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings
from django.utils import timezone

from jobs.constants import JobState
from jobs.models import Job
from tests.conftest import (
    ROOT,
    SHARED,
    client_for,
    free_port,
    process_env,
    run_waiting_jobs,
    session_cookie_for,
    stop,
    wait_for,
    wait_for_port,
)
from tests.hmm.conftest import hmm_upload
from tests.references.conftest import DEMO, make_reference_upload
from tests.samples.test_api import make_upload
from tests.subtractions.test_subtractions import genome
from tests.subtractions.test_subtractions import make_upload as make_subtraction_upload

pytestmark = pytest.mark.django_db(transaction=True)
SAMPLES = SHARED / "data" / "samples"
ASGI_APP = "virtool_site.asgi:application"


def queued_task_ids(queue: str) -> list[str]:
    """Ids of the job messages waiting in a broker queue (kombu's Redis transport keeps each queue as a list)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return [json.loads(raw)["headers"]["id"] for raw in client.lrange(queue, 0, -1)]


@pytest.fixture
def broker_down():
    """Point this process's Celery at a port where nothing listens (a real refused connection), then back."""
    from virtool_site.celery import app

    def reset() -> None:
        app._pool = None
        app.__dict__.get("amqp") and setattr(app.amqp, "_producer_pool", None)

    original = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    reset()
    yield
    app.conf.broker_url = original
    reset()


@pytest.fixture
def jobs_sent_later():
    """Jobs made now send no message (set-up jobs run in this process); `stop()` lets later jobs go to the broker."""
    from unittest import mock

    patcher = mock.patch("jobs.services.job_enqueue")
    patcher.start()
    yield patcher
    patcher.stop()  # does nothing when the test stopped it already


def _ready_reference(client, user) -> dict:
    upload = make_reference_upload(user, source=DEMO)
    reference = client.post("/api/refs", {"import_from": upload.pk, "name": "Demo"}, format="json").json()
    run_waiting_jobs()
    assert client.post(f"/api/refs/{reference['id']}/indexes").status_code == 201
    return reference


def _ready_sample(client, user) -> dict:
    uploads = [make_upload(user, SAMPLES / name) for name in ("small_50bp_1.fq.gz", "small_50bp_2.fq.gz")]
    return client.post("/api/samples", {"name": "S", "files": [u.pk for u in uploads]}, format="json").json()


def _setup(kind: str, client, user) -> dict:
    """Rows the job-creating request needs, made (and their jobs run) while the broker is still up."""
    if kind in ("analysis", "analyses"):
        reference = _ready_reference(client, user)
        sample = _ready_sample(client, user)
        assert run_waiting_jobs() == ["complete", "complete"]  # the index build and the sample
        return {"reference": reference, "sample": sample}
    if kind == "index":
        upload = make_reference_upload(user, source=DEMO)
        reference = client.post("/api/refs", {"import_from": upload.pk, "name": "Demo"}, format="json").json()
        run_waiting_jobs()
        return {"reference": reference}
    return {}


def _request(kind: str, client, user, rows: dict):
    if kind == "sample":
        uploads = [make_upload(user, SAMPLES / name) for name in ("small_50bp_1.fq.gz", "small_50bp_2.fq.gz")]
        return client.post("/api/samples", {"name": "S2", "files": [u.pk for u in uploads]}, format="json")
    if kind == "subtraction":
        upload = make_subtraction_upload(user, genome())
        return client.post("/api/subtractions", {"name": "Host", "nickname": "", "upload_id": upload.pk}, format="json")
    if kind == "reference":
        upload = make_reference_upload(user, source=DEMO)
        return client.post("/api/refs", {"import_from": upload.pk, "name": "Demo 2"}, format="json")
    if kind == "index":
        return client.post(f"/api/refs/{rows['reference']['id']}/indexes")
    if kind == "analysis":
        body = {"ref_id": rows["reference"]["id"]}
        return client.post(f"/api/samples/{rows['sample']['id']}/analyses", body, format="json")
    if kind == "analyses":
        body = {"sample_ids": [rows["sample"]["id"]], "ref_id": rows["reference"]["id"]}
        return client.post("/api/analyses", body, format="json")
    assert kind == "hmm"
    return client.post("/api/hmms/status/updates", {"upload_id": hmm_upload(user).pk}, format="json")


@pytest.mark.parametrize("kind", ["sample", "subtraction", "reference", "index", "analysis", "analyses", "hmm"])
def test_job_creating_request_without_broker_answers_503_and_keeps_the_job(
    kind, admin_user, jobs_sent_later, broker_down
):
    client = client_for(admin_user)
    rows = _setup(kind, client, admin_user)
    jobs_sent_later.stop()
    before = set(Job.objects.values_list("pk", flat=True))

    started = time.monotonic()
    response = _request(kind, client, admin_user, rows)

    assert time.monotonic() - started < 10
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["id"] == "service_unavailable"
    assert "job queue" in body["message"]
    new = Job.objects.exclude(pk__in=before)
    assert new.exists()
    assert all(job.state == JobState.WAITING and job.sent_at is None for job in new)


def test_job_never_sent_is_sent_again_once_past_the_grace_period(admin_user, jobs_sent_later):
    from jobs.services import job_create, jobs_resend

    job = job_create(workflow="test_three_steps", args={}, user=admin_user)  # its message was lost
    jobs_sent_later.stop()
    assert jobs_resend(grace=30) == []  # too recent: the request that made it may still be sending
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=60))
    assert jobs_resend(grace=30) == [job.pk]
    assert queued_task_ids("small") == [job.task_id]
    assert Job.objects.get(pk=job.pk).sent_at is not None


def test_job_whose_message_waits_in_the_broker_is_not_sent_again(admin_user):
    from jobs.services import job_create, jobs_resend

    job = job_create(workflow="test_three_steps", args={}, user=admin_user)
    assert queued_task_ids("small") == [job.task_id]
    assert Job.objects.get(pk=job.pk).sent_at is not None
    old = timezone.now() - timedelta(hours=2)
    Job.objects.filter(pk=job.pk).update(created_at=old, sent_at=old)  # queued for hours behind long jobs
    assert jobs_resend(grace=30) == []
    assert queued_task_ids("small") == [job.task_id]

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("small")  # the broker lost it (restart, no AOF)
    assert jobs_resend(grace=30) == [job.pk]
    assert queued_task_ids("small") == [job.task_id]


def test_cancelled_or_claimed_jobs_are_never_sent_again(admin_user, jobs_sent_later):
    from jobs.services import job_cancel, job_create, jobs_resend

    cancelled = job_create(workflow="test_three_steps", args={}, user=admin_user)
    claimed = job_create(workflow="test_three_steps", args={}, user=admin_user)
    jobs_sent_later.stop()
    job_cancel(job=cancelled)
    Job.objects.filter(pk=claimed.pk).update(state=JobState.PREPARING)
    Job.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert jobs_resend(grace=30) == []


@pytest.mark.live
def test_worker_at_start_sends_the_jobs_whose_message_was_lost(admin_user, jobs_sent_later, start_worker):
    from jobs.services import job_create

    job = job_create(workflow="test_three_steps", args={}, user=admin_user)
    jobs_sent_later.stop()
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    start_worker(VIRTOOL_JOB_RESEND_GRACE="2")
    wait_for(lambda: Job.objects.get(pk=job.pk).state == JobState.COMPLETE, timeout=30)


class PrivateRedis:
    """A Redis server of the test's own, which it can stop and start again on the same port (an outage)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"),
                *("--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")),
            ],
        )
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


@pytest.mark.live
@pytest.mark.dispatch_errors_expected
def test_sample_created_while_redis_is_down_answers_503_and_is_made_once_redis_is_back(
    make_user, start_worker, tmp_path
):
    from samples.models import Sample

    user = make_user("lab", permissions=["create_sample", "upload_file"])
    uploads = [make_upload(user, SAMPLES / name) for name in ("small_50bp_1.fq.gz", "small_50bp_2.fq.gz")]
    private = PrivateRedis(tmp_path)
    port = free_port()
    log = (tmp_path / "daphne.log").open("w")
    web: subprocess.Popen | None = None
    try:
        private.start()
        web = subprocess.Popen(
            [sys.executable, "-m", "virtool_site.server", "-b", "127.0.0.1", "-p", str(port), ASGI_APP],
            cwd=ROOT,
            env=process_env(REDIS_URL=private.url, CELERY_BROKER_URL=""),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(port, web)
        url = f"http://127.0.0.1:{port}"
        private.stop()
        started = time.monotonic()
        response = requests.post(
            f"{url}/api/samples",
            json={"name": "Outage", "files": [upload.pk for upload in uploads]},
            cookies={"sessionid": session_cookie_for(user)},
            headers={"Origin": url},
            timeout=60,
        )
        assert time.monotonic() - started < 10
        assert response.status_code == 503, response.text[:500]
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["id"] == "service_unavailable"
        sample = Sample.objects.get(name="Outage")
        assert not sample.ready
        assert sample.job.state == JobState.WAITING

        private.start()  # Redis is back: beat (with the default worker) sends the job again
        start_worker(
            queues="default,small,large",
            beat=True,
            REDIS_URL=private.url,
            CELERY_BROKER_URL="",
            VIRTOOL_JOB_RESEND_GRACE="1",
            VIRTOOL_JOB_RESEND_INTERVAL="1",
        )
        wait_for(lambda: Job.objects.get(pk=sample.job_id).state == JobState.COMPLETE, timeout=60)
        assert Sample.objects.get(pk=sample.pk).ready
        job = Job.objects.get(pk=sample.job_id)
        assert [record["state"] for record in job.status].count(JobState.PREPARING) == 1
    finally:
        if web is not None:
            stop(web)
        log.close()
        private.stop()  # never left running, whatever failed


def test_job_whose_message_a_dead_worker_took_is_sent_again_after_the_grace_period(admin_user):
    """A worker killed after taking a message but before claiming its job: Redis keeps the message as taken
    (unacknowledged) for the visibility timeout, hours; the outbox sends the job again once the grace is over."""
    from jobs.services import job_create, jobs_resend

    job = job_create(workflow="test_three_steps", args={}, user=admin_user)
    taker = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sys; from kombu import Connection\n"
            "with Connection(sys.argv[1]) as connection:\n"
            "    message = connection.SimpleQueue('small').get(timeout=10)\n"
            "    print(message.headers['id'], flush=True)\n"
            "    os.kill(os.getpid(), 9)\n",
            settings.CELERY_BROKER_URL,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert taker.stdout.strip() == job.task_id, taker.stderr
    assert queued_task_ids("small") == []
    old = timezone.now() - timedelta(minutes=1)
    Job.objects.filter(pk=job.pk).update(created_at=old, sent_at=old)
    assert jobs_resend(grace=30) == []  # taken just now: its worker may be about to claim it
    time.sleep(1.2)
    assert jobs_resend(grace=1) == [job.pk]
    assert queued_task_ids("small") == [job.task_id]


def test_schema_states_the_503_of_every_job_creating_request_and_only_theirs():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    with_503 = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "503" in operation.get("responses", {})
    }
    assert with_503 == {
        ("POST", "/api/samples"),
        ("POST", "/api/subtractions"),
        ("POST", "/api/refs"),
        ("POST", "/api/refs/{ref_id}/indexes"),
        ("POST", "/api/samples/{sample_id}/analyses"),
        ("POST", "/api/analyses"),
        ("POST", "/api/hmms/status/updates"),
        ("POST", "/api/refs/{ref_id}/updates"),
        ("POST", "/api/samples/{sample_id}/retry"),
        ("POST", "/api/analyses/{analysis_id}/retry"),
        ("PUT", "/api/samples/{sample_id}/update_job"),
    }
    response = schema["paths"]["/api/samples"]["post"]["responses"]["503"]
    assert "starts once it is back" in response["description"]
