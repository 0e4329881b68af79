"""One claim of uploads: what is made from an upload takes it under a row lock, so of two requests one wins."""

from __future__ import annotations

import gzip
import threading

import pytest
from django.db import connection, transaction

from core.errors import BadRequest, Conflict
from files import services
from files.models import Upload
from tests.conftest import SHARED, client_for, stored_upload

pytestmark = pytest.mark.django_db(transaction=True)

READS = (SHARED / "data" / "samples" / "small_50bp_1.fq.gz").read_bytes()
FASTA = gzip.compress(b">chr1 host\n" + b"ACGT" * 200 + b"\n")


@pytest.fixture(autouse=True)
def _run_jobs_here(jobs_here):
    """Nothing is queued on Celery: these tests are about the claim, not the jobs."""


@pytest.fixture
def maker(make_user):
    return make_user("claire", role="full")


def _reference_file() -> bytes:
    """A real Virtool reference export."""
    return (SHARED / "data" / "references" / "virtool-export-20-otus.json.gz").read_bytes()


def test_claim_returns_uploads_in_order_and_reserves_them(maker):
    first = stored_upload(maker, READS, name="a_1.fq.gz", upload_type="reads")
    second = stored_upload(maker, READS, name="a_2.fq.gz", upload_type="reads")
    with transaction.atomic():
        claimed = services.uploads_claim(keys=[second.pk, first.pk], upload_type="reads", purpose="make a sample")
    assert [upload.pk for upload in claimed] == [second.pk, first.pk]
    assert set(Upload.objects.filter(reserved=True).values_list("pk", flat=True)) == {first.pk, second.pk}


def test_claim_accepts_the_name_on_disk(maker):
    upload = stored_upload(maker, b"{}", name="ref.json.gz", upload_type="reference")
    with transaction.atomic():
        [claimed] = services.uploads_claim(keys=[upload.name_on_disk], upload_type="reference", purpose="be imported")
    assert claimed.pk == upload.pk


@pytest.mark.parametrize(
    ("keys", "upload_type", "error", "message"),
    [
        (["missing"], "reads", BadRequest, "File does not exist"),
        ([999_999], "reads", BadRequest, "File does not exist"),
        (["first", "first"], "reads", BadRequest, "The same file is given more than once"),
        (["first"], "subtraction", BadRequest, "Only subtraction uploads can make it"),
        (["held"], "reads", Conflict, "The file is already in use by a sample, subtraction or import being made: held"),
    ],
)
def test_claim_refusals_change_nothing(maker, keys, upload_type, error, message):
    uploads = {
        "first": stored_upload(maker, READS, name="first", upload_type="reads"),
        "held": stored_upload(maker, READS, name="held", upload_type="reads"),
    }
    Upload.objects.filter(pk=uploads["held"].pk).update(reserved=True)
    keys = [uploads[key].pk if key in uploads else key for key in keys]
    with pytest.raises(error) as raised, transaction.atomic():
        services.uploads_claim(keys=keys, upload_type=upload_type, purpose="make it")
    assert raised.value.message == message
    assert list(Upload.objects.filter(reserved=True).values_list("name", flat=True)) == ["held"]


def test_claim_outside_a_transaction_is_a_programming_error(maker):
    upload = stored_upload(maker, READS, name="a.fq.gz", upload_type="reads")
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.uploads_claim(keys=[upload.pk], upload_type="reads", purpose="make a sample")


def test_a_claim_waits_for_the_open_claim_of_the_same_upload_then_is_refused(maker):
    """The first claim holds its lock until its transaction commits; the second waits for it, then sees it taken."""
    upload = stored_upload(maker, READS, name="a.fq.gz", upload_type="reads")
    first_claimed, release, outcomes = threading.Event(), threading.Event(), {}

    def first() -> None:
        try:
            with transaction.atomic():
                services.uploads_claim(keys=[upload.pk], upload_type="reads", purpose="make a sample")
                first_claimed.set()
                release.wait(10)
            outcomes["first"] = "claimed"
        finally:
            connection.close()

    def second() -> None:
        try:
            with transaction.atomic():
                services.uploads_claim(keys=[upload.pk], upload_type="reads", purpose="make a sample")
            outcomes["second"] = "claimed"
        except Conflict:
            outcomes["second"] = "conflict"
        finally:
            connection.close()

    holder = threading.Thread(target=first)
    holder.start()
    assert first_claimed.wait(10)
    latecomer = threading.Thread(target=second)
    latecomer.start()
    latecomer.join(0.5)
    assert latecomer.is_alive(), "the second claim did not wait for the first one's lock"
    release.set()
    holder.join(10)
    latecomer.join(10)
    assert outcomes == {"first": "claimed", "second": "conflict"}


def _sample(upload) -> tuple[str, dict]:
    return "/api/samples", {"name": f"S-{threading.get_ident()}", "files": [upload.pk]}


def _subtraction(upload) -> tuple[str, dict]:
    return "/api/subtractions", {"name": f"Host-{threading.get_ident()}", "upload_id": upload.pk}


def _reference(upload) -> tuple[str, dict]:
    return "/api/refs", {"import_from": upload.pk, "name": f"Ref-{threading.get_ident()}"}


@pytest.mark.parametrize(
    ("upload_type", "content", "request_for"),
    [
        ("reads", READS, _sample),
        ("subtraction", FASTA, _subtraction),
        ("reference", None, _reference),
    ],
    ids=["sample", "subtraction", "reference-import"],
)
def test_two_simultaneous_requests_for_one_upload_one_wins_the_other_gets_409(maker, upload_type, content, request_for):
    upload = stored_upload(maker, content or _reference_file(), name=f"one.{upload_type}", upload_type=upload_type)
    start, statuses = threading.Barrier(2), []

    def post() -> None:
        try:
            client = client_for(maker)
            path, body = request_for(upload)
            start.wait(10)
            statuses.append(client.post(path, body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [201, 409]
    assert Upload.objects.get(pk=upload.pk).reserved is True
