"""Samples: creation from uploads through the create_sample job, rights, labels, visibility."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from core import events
from files.models import Upload
from files.storage import upload_path
from jobs.runner import job_execute
from samples.models import Label, Sample
from samples.quality import quality
from tests.conftest import SHARED, client_for, stored_upload

pytestmark = pytest.mark.django_db(transaction=True)
SAMPLES = SHARED / "data" / "samples"
QUALITY_KEYS = [
    "bases",
    "composition",
    "count",
    "encoding",
    "gc",
    "length",
    "sequences",
    "gc_distribution",
    "gc_theoretical",
]


@pytest.fixture(autouse=True)
def _run_jobs_here(jobs_here):
    """Jobs are run in this process by the tests (a real worker runs them in tests/jobs)."""


@pytest.fixture
def creator(make_user):
    return make_user("sam", permissions=["create_sample", "upload_file"])


def make_upload(user, source: Path | None = None, *, name: str | None = None, content: bytes | None = None) -> Upload:
    data = content if content is not None else source.read_bytes()
    return stored_upload(user, data, name=name or source.name, upload_type="reads")


def create(client, uploads, **fields):
    body = {"name": "S1", "files": [upload.pk for upload in uploads], **fields}
    return client.post("/api/samples", body, format="json")


def run_job(sample_id: str) -> str:
    return job_execute(job_id=Sample.objects.get(pk=sample_id).job_id)


def test_paired_sample_from_real_reads_becomes_ready_with_virtool_quality(creator):
    client = client_for(creator)
    uploads = [
        make_upload(creator, SAMPLES / "small_50bp_1.fq.gz"),
        make_upload(creator, SAMPLES / "small_50bp_2.fq.gz"),
    ]
    response = create(client, uploads, library_type="normal", host="Vitis vinifera")
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/samples/{body['id']}"
    assert body["ready"] is False
    assert body["paired"] is True
    assert body["job"]["workflow"] == "create_sample"
    assert Upload.objects.filter(pk__in=[u.pk for u in uploads], reserved=True).count() == 2
    assert run_job(body["id"]) == "complete"
    sample = client.get(f"/api/samples/{body['id']}").json()
    assert sample["ready"] is True
    assert list(sample["quality"]) == QUALITY_KEYS
    assert sample["quality"] == quality([SAMPLES / "small_50bp_1.fq.gz", SAMPLES / "small_50bp_2.fq.gz"])
    assert [read["name"] for read in sample["reads"]] == ["reads_1.fq.gz", "reads_2.fq.gz"]
    folder = Path(settings.DATA_PATH) / "samples" / body["id"]
    assert (folder / "reads_1.fq.gz").read_bytes() == (SAMPLES / "small_50bp_1.fq.gz").read_bytes()
    assert not Upload.objects.filter(pk__in=[u.pk for u in uploads], removed=False).exists()  # uploads consumed
    download = client.get(f"/api/samples/{body['id']}/reads/reads_2.fq.gz")
    assert b"".join(download.streaming_content) == (SAMPLES / "small_50bp_2.fq.gz").read_bytes()


def test_unpaired_sample_from_uncompressed_reads_is_gzipped(creator, tmp_path):
    client = client_for(creator)
    plain = gzip.decompress((SAMPLES / "rprsv_1.fq.gz").read_bytes())
    upload = make_upload(creator, name="rprsv.fastq", content=plain)
    body = create(client, [upload], name="Raspberry").json()
    assert run_job(body["id"]) == "complete"
    sample = Sample.objects.get(pk=body["id"])
    assert sample.paired is False
    stored = Path(settings.DATA_PATH) / "samples" / sample.pk / "reads_1.fq.gz"
    assert gzip.decompress(stored.read_bytes()) == plain
    assert sample.quality["count"] == 10000


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"truncated", "could not be read to the end"),
        (b"@r1\nACGT\n+\nII\n", "record 1"),
        (b"@r1\nACGT\n+\nIIII\n@r2\nAC", "record 2"),
        (b"@" + bytes(range(256)) * 20, "bad.fq"),
        (gzip.compress(b"", mtime=0), "contains no reads"),  # mtime fixed: every xdist worker collects one id
    ],
    ids=["truncated", "short-qualities", "cut-record", "binary", "empty-gzip"],
)
def test_malformed_reads_end_in_error_and_the_failed_sample_stays_until_removed(creator, content, expected):
    if content == b"truncated":
        full = (SAMPLES / "small_50bp_1.fq.gz").read_bytes()
        content = full[: len(full) // 2]
    client = client_for(creator)
    upload = make_upload(creator, name="bad.fq", content=content)
    body = create(client, [upload]).json()
    job_id = Sample.objects.get(pk=body["id"]).job_id
    assert job_execute(job_id=job_id) == "error"
    from jobs.models import Job

    details = " ".join(Job.objects.get(pk=job_id).status[-1]["error"]["details"])
    assert "bad.fq" in details
    assert expected in details
    # The sample stays listed, failed with its job's words; its partial files go; its upload stays reserved for it.
    listed = client.get("/api/samples").json()["documents"]
    assert [(d["id"], d["ready"], d["job"]["state"]) for d in listed] == [(body["id"], False, "error")]
    assert "bad.fq" in listed[0]["job"]["error"]
    assert not (Path(settings.DATA_PATH) / "samples" / body["id"]).exists()
    upload.refresh_from_db()
    assert (upload.reserved, upload.removed) == (True, False)
    assert upload_path(upload.name_on_disk).exists()
    # Trying again fails the same way (the file is still bad); removing it gives the upload back.
    assert client.post(f"/api/samples/{body['id']}/retry").status_code == 200
    assert job_execute(job_id=Sample.objects.get(pk=body["id"]).job_id) == "error"
    assert client.delete(f"/api/samples/{body['id']}").status_code == 204
    assert not Sample.objects.filter(pk=body["id"]).exists()
    upload.refresh_from_db()
    assert (upload.reserved, upload.removed) == (False, False)  # available for a new sample


def test_a_failed_sample_tried_again_becomes_ready(creator, make_user):
    """A creation cancelled before it ran stays listed as cancelled and is tried again from the same reserved
    uploads; the retry is refused while it runs, when the sample is ready, and to a user who cannot write."""
    from jobs.models import Job
    from jobs.services import job_cancel

    client = client_for(creator)
    uploads = [
        make_upload(creator, SAMPLES / "small_50bp_1.fq.gz"),
        make_upload(creator, SAMPLES / "small_50bp_2.fq.gz"),
    ]
    body = create(client, uploads).json()
    assert client.post(f"/api/samples/{body['id']}/retry").status_code == 409  # still being created
    job = Job.objects.get(pk=Sample.objects.get(pk=body["id"]).job_id)
    job_cancel(job=job)
    failed = client.get(f"/api/samples/{body['id']}").json()
    assert failed["job"]["state"] == "cancelled"
    assert failed["job"]["error"] == "The job was cancelled."
    for upload in uploads:
        upload.refresh_from_db()
        assert upload.reserved
    assert client_for(make_user("reader")).post(f"/api/samples/{body['id']}/retry").status_code in (403, 404)
    retried = client.post(f"/api/samples/{body['id']}/retry")
    assert retried.status_code == 200, retried.json()
    assert retried.json()["job"]["state"] == "waiting"
    assert retried.json()["job"]["id"] != job.pk
    run_job(body["id"])
    ready = client.get(f"/api/samples/{body['id']}").json()
    assert ready["ready"] is True
    assert ready["quality"]["count"] == 50000
    assert client.post(f"/api/samples/{body['id']}/retry").json()["message"] == (
        "The sample is ready: there is nothing to try again"
    )


def test_create_refusals(creator, make_user):
    client = client_for(creator)
    upload = make_upload(creator, SAMPLES / "small_50bp_1.fq.gz")
    assert create(client, []).status_code == 400
    assert create(client, [upload], files=[999]).json() == {"id": "bad_request", "message": "File does not exist"}
    assert create(client, [upload], labels=[42]).json() == {"id": "bad_request", "message": "Labels do not exist: [42]"}
    assert create(client, [upload], subtractions=["apple"]).json()["message"] == "Subtractions do not exist: apple"
    assert create(client, [upload], library_type="dna").status_code == 400
    assert create(client, [upload]).status_code == 201
    again = make_upload(creator, SAMPLES / "small_50bp_2.fq.gz")
    assert create(client, [again]).json() == {"id": "bad_request", "message": "Sample name is already in use"}
    assert create(client_for(make_user("nobody")), [again], name="S2").status_code == 403
    assert create(client, [upload], name="S3").status_code == 409  # already reserved by S1


def test_delete_refused_while_creating_then_allowed(creator):
    client = client_for(creator)
    body = create(client, [make_upload(creator, SAMPLES / "small_50bp_1.fq.gz")]).json()
    assert client.delete(f"/api/samples/{body['id']}").status_code == 409
    run_job(body["id"])
    assert client.delete(f"/api/samples/{body['id']}").status_code == 204
    assert not Sample.objects.filter(pk=body["id"]).exists()
    assert not (Path(settings.DATA_PATH) / "samples" / body["id"]).exists()


# --- Rights -----------------------------------------------------------------------------------------------------


@pytest.fixture
def world(make_user):
    owner = make_user("owner")
    lab = Group.objects.create(name="lab")
    member = make_user("member")
    member.groups.add(lab)
    other = make_user("other")
    admin = make_user("root", role="full")
    sample = Sample.objects.create(
        name="private",
        user=owner,
        group=lab,
        group_read=True,
        group_write=False,
        all_read=False,
        all_write=False,
        ready=True,
    )
    return {"owner": owner, "member": member, "other": other, "admin": admin, "sample": sample, "lab": lab}


@pytest.mark.parametrize(
    ("who", "read", "write", "rights"),
    [("owner", 200, 200, 200), ("member", 200, 403, 403), ("other", 403, 403, 403), ("admin", 200, 200, 200)],
)
def test_rights_matrix(world, who, read, write, rights):
    client = client_for(world[who])
    sample = world["sample"]
    assert client.get(f"/api/samples/{sample.pk}").status_code == read
    assert client.patch(f"/api/samples/{sample.pk}", {"notes": "seen"}, format="json").status_code == write
    assert client.patch(f"/api/samples/{sample.pk}/rights", {"all_read": False}, format="json").status_code == rights
    listed = [doc["id"] for doc in client.get("/api/samples").json()["documents"]]
    assert (sample.pk in listed) == (read == 200)


def test_group_write_lets_members_edit(world):
    Sample.objects.filter(pk=world["sample"].pk).update(group_write=True)
    response = client_for(world["member"]).patch(f"/api/samples/{world['sample'].pk}", {"notes": "x"}, format="json")
    assert response.status_code == 200


def test_websocket_audience_is_only_who_may_read(world, channel_reader):
    everyone = channel_reader().join(events.GROUP_ALL)
    members = channel_reader().join(events.member_group(world["lab"].pk))
    owner = channel_reader().join(events.user_group(world["owner"].pk))
    stranger = channel_reader().join(events.user_group(world["other"].pk))
    sample = world["sample"]
    sample.notes = "changed"
    sample.save()
    assert [m["data"]["notes"] for m in members.messages() if m["interface"] == "samples"] == ["changed"]
    assert [m["interface"] for m in owner.messages()] == ["samples"]
    assert [m for m in everyone.messages() if m["interface"] == "samples"] == []
    assert stranger.messages() == []


# --- Listing, labels ------------------------------------------------------------------------------------------


def test_list_search_label_filter_and_sort(admin_client, admin_user):
    red = Label.objects.create(name="Red", color="#FF0000")
    for name in ("beta", "Alpha", "gamma"):
        Sample.objects.create(name=name, user=admin_user)
    Sample.objects.get(name="gamma").labels.add(red)
    names = [d["name"] for d in admin_client.get("/api/samples?sort=name").json()["documents"]]
    assert names == ["Alpha", "beta", "gamma"]
    assert [d["name"] for d in admin_client.get("/api/samples?find=amm").json()["documents"]] == ["gamma"]
    assert [d["name"] for d in admin_client.get(f"/api/samples?label={red.pk}").json()["documents"]] == ["gamma"]
    assert admin_client.get("/api/samples?sort=size").status_code == 400


def test_labels_crud_with_counts(admin_client, admin_user):
    created = admin_client.post("/api/labels", {"name": "Virus", "color": "#00FF00", "description": "d"}, format="json")
    assert created.status_code == 201
    label_id = created.json()["id"]
    assert admin_client.post("/api/labels", {"name": "virus"}, format="json").json() == {
        "id": "bad_request",
        "message": "Label name already exists",
    }
    assert admin_client.post("/api/labels", {"name": "x", "color": "green"}, format="json").status_code == 400
    Sample.objects.create(name="s", user=admin_user).labels.add(label_id)
    assert admin_client.get(f"/api/labels/{label_id}").json()["count"] == 1
    assert (
        admin_client.patch(f"/api/labels/{label_id}", {"color": "#0000FF"}, format="json").json()["color"] == "#0000FF"
    )
    assert admin_client.delete(f"/api/labels/{label_id}").status_code == 204
    assert admin_client.get("/api/labels").json() == []


def test_anonymous_is_401(anon_client):
    for path in ("/api/samples", "/api/labels", "/api/samples/abc"):
        assert anon_client.get(path).status_code == 401


def test_rights_change_tells_those_who_lost_access(world, channel_reader):
    everyone = channel_reader().join(events.GROUP_ALL)
    members = channel_reader().join(events.member_group(world["lab"].pk))
    client_for(world["owner"]).patch(f"/api/samples/{world['sample'].pk}/rights", {"group_read": False}, format="json")
    assert [(m["operation"], m["data"]) for m in members.messages() if m["interface"] == "samples"] == [
        ("delete", [world["sample"].pk])
    ]
    assert everyone.messages() == []


def test_rights_change_does_not_hide_the_sample_from_who_still_reads_it(world, channel_reader):
    """The lab loses read access: its members see the sample go, but the owner (also in the lab) gets it back."""
    sample = world["sample"]
    world["owner"].groups.add(world["lab"])
    member = channel_reader().join(events.member_group(world["lab"].pk), events.user_group(world["member"].pk))
    owner = channel_reader().join(events.member_group(world["lab"].pk), events.user_group(world["owner"].pk))
    client_for(world["owner"]).patch(f"/api/samples/{sample.pk}/rights", {"group_read": False}, format="json")
    assert [m["operation"] for m in owner.messages() if m["interface"] == "samples"] == ["delete", "update"]
    assert [m["operation"] for m in member.messages() if m["interface"] == "samples"] == ["delete"]


def test_label_counts_follow_their_samples_live(admin_client, admin_user, channel_reader):
    everyone = channel_reader().join(events.GROUP_ALL)
    virus = Label.objects.create(name="Virus")
    bacteria = Label.objects.create(name="Bacteria")
    sample = Sample.objects.create(name="s", user=admin_user, ready=True)
    everyone.messages()

    def counts() -> list[tuple[str, int]]:
        return [
            (m["data"]["name"], m["data"]["count"])
            for m in everyone.messages()
            if m["interface"] == "labels" and m["operation"] == "update"
        ]

    admin_client.patch(f"/api/samples/{sample.pk}", {"labels": [virus.pk]}, format="json")
    assert counts() == [("Virus", 1)]
    admin_client.patch(f"/api/samples/{sample.pk}", {"labels": [bacteria.pk]}, format="json")
    assert sorted(counts()) == [("Bacteria", 1), ("Virus", 0)]
    admin_client.patch(f"/api/samples/{sample.pk}", {"notes": "same labels", "labels": [bacteria.pk]}, format="json")
    assert counts() == []
    assert admin_client.delete(f"/api/samples/{sample.pk}").status_code == 204
    assert counts() == [("Bacteria", 0)]


def test_label_colour_must_be_hex(admin_client):
    response = admin_client.post("/api/labels", {"name": "x", "color": "green"}, format="json")
    assert response.status_code == 400
    assert response.json()[0]["loc"] == ["color"]
    assert response.json()[0]["msg"] == "Enter a colour as # and six hex digits, such as #A0AEC0."
