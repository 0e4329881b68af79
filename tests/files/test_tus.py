"""Resumable uploads (tus 1.0 under /api/uploads/tus), in process: creation, HEAD, PATCH in parts, checksums,
termination, expiry, who may resume, and every malformed header or limit answered 4xx in Virtool's shape."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from files.models import Upload
from files.services import files_reconcile, uploads_claim, uploads_expire
from files.storage import resumable_path
from tests.conftest import client_for
from tests.files.conftest import FASTQ_TEXT, listing, sha256

pytestmark = pytest.mark.django_db

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def create(client, size: int, name: str = "reads.fq", upload_type: str = "reads", **headers):
    extra = {**TUS, "HTTP_UPLOAD_LENGTH": str(size), "HTTP_UPLOAD_METADATA": metadata(name=name, type=upload_type)}
    extra.update(headers)
    return client.post("/api/uploads/tus", **extra)


def patch(client, location: str, offset: int, body: bytes, **headers):
    extra = {**TUS, "HTTP_UPLOAD_OFFSET": str(offset), **headers}
    return client.generic("PATCH", location, body, content_type="application/offset+octet-stream", **extra)


def head(client, location: str):
    return client.head(location, **TUS)


@pytest.fixture
def uploader(make_user):
    return make_user("uploader", permissions=["upload_file"])


@pytest.fixture
def client(uploader):
    return client_for(uploader)


def fastq_bytes(reads: int) -> bytes:
    return b"".join(b"@read%d\nACGTACGTAC\n+\nIIIIIIIIII\n" % index for index in range(reads))


@pytest.mark.django_db(transaction=True)  # each request commits, and its websocket messages go out, as in a server
def test_tus_upload_in_parts_becomes_an_ordinary_upload(client, files_dir, channel_reader):
    reader = channel_reader().join("all")
    row = _upload_in_parts(client, files_dir, reader)
    # The unfinished row was never announced; the finished one once, as new.
    messages = [m for m in reader.messages() if m.get("interface") == "uploads"]
    assert [(m["operation"], m["data"]["id"], m["data"]["ready"]) for m in messages[:-1]] == [("insert", row.pk, True)]
    assert (messages[-1]["operation"], messages[-1]["data"]) == ("delete", [row.pk])  # claimed: it leaves the list


def _upload_in_parts(client, files_dir, reader):
    content = fastq_bytes(5000)  # past the 64 KiB after which a reads upload's start is checked
    response = create(client, len(content), name="run_R1.fq")
    assert response.status_code == 201, response.content
    location = response["Location"]
    assert location.startswith("/api/uploads/tus/")
    assert response["Tus-Resumable"] == "1.0.0"
    assert "Upload-Expires" in response
    row = Upload.objects.get()
    assert (row.ready, row.offset, row.size, row.user.handle) == (False, 0, len(content), "uploader")
    # Unfinished: not listed, not downloadable, not announced.
    assert client.get("/api/uploads").json()["items"] == []
    assert client.get(f"/api/uploads/{row.pk}").status_code == 404

    cuts = [0, len(content) * 3 // 10, len(content) * 6 // 10, len(content) * 9 // 10, len(content)]
    for start, end in itertools.pairwise(cuts):
        response = head(client, location)
        assert response.status_code == 200
        assert int(response["Upload-Offset"]) == start
        assert int(response["Upload-Length"]) == len(content)
        response = patch(client, location, start, content[start:end])
        assert response.status_code == 204, response.content
        assert int(response["Upload-Offset"]) == end

    row.refresh_from_db()
    assert row.ready is True
    assert row.name_on_disk == f"{row.pk}-run_R1.fq"
    assert row.sha256 == sha256(content)
    assert (files_dir / row.name_on_disk).read_bytes() == content
    assert listing(files_dir / ".resumable") == []
    assert response["Virtool-Upload-Id"] == str(row.pk)
    listed = client.get("/api/uploads").json()["items"]
    assert [(item["id"], item["size"], item["sha256"], item["ready"]) for item in listed] == [
        (row.pk, len(content), sha256(content), True)
    ]
    # The resource still answers (a client that lost the last answer learns it is done); ours shows the document.
    response = head(client, location)
    assert (response.status_code, response["Upload-Offset"]) == (200, str(len(content)))
    document = client.get(location).json()
    assert (document["id"], document["offset"], document["ready"]) == (row.pk, len(content), True)
    # Downstream it is an ordinary reads upload.
    with transaction.atomic():
        assert [u.pk for u in uploads_claim(keys=[row.pk], upload_type="reads", purpose="make samples")] == [row.pk]
    return row


def test_tus_small_file_in_one_patch(client, files_dir):
    location = create(client, len(FASTQ_TEXT))["Location"]
    assert patch(client, location, 0, FASTQ_TEXT).status_code == 204
    upload = Upload.objects.get()
    assert (upload.ready, upload.sha256) == (True, sha256(FASTQ_TEXT))


def test_tus_wrong_offset_is_409_and_keeps_the_bytes(client, files_dir):
    location = create(client, len(FASTQ_TEXT))["Location"]
    assert patch(client, location, 0, FASTQ_TEXT[:10]).status_code == 204
    response = patch(client, location, 5, FASTQ_TEXT[5:])
    assert response.status_code == 409
    assert response.json()["id"] == "conflict"
    assert head(client, location)["Upload-Offset"] == "10"
    assert patch(client, location, 10, FASTQ_TEXT[10:]).status_code == 204
    assert Upload.objects.get().sha256 == sha256(FASTQ_TEXT)


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "md5"])
def test_tus_checksum_kept_when_it_matches_refused_460_when_not(client, files_dir, algorithm):
    location = create(client, len(FASTQ_TEXT))["Location"]
    part = FASTQ_TEXT[:20]
    wrong = base64.b64encode(hashlib.new(algorithm, b"other").digest()).decode()
    response = patch(client, location, 0, part, HTTP_UPLOAD_CHECKSUM=f"{algorithm} {wrong}")
    assert response.status_code == 460
    assert response.json()["id"] == "checksum_mismatch"
    assert head(client, location)["Upload-Offset"] == "0"
    assert resumable_path(Upload.objects.get().resume_token).stat().st_size == 0
    right = base64.b64encode(hashlib.new(algorithm, part).digest()).decode()
    assert patch(client, location, 0, part, HTTP_UPLOAD_CHECKSUM=f"{algorithm} {right}").status_code == 204
    assert head(client, location)["Upload-Offset"] == "20"


def test_tus_more_bytes_than_announced_is_413(client, files_dir):
    location = create(client, 10)["Location"]
    response = patch(client, location, 0, FASTQ_TEXT)
    assert response.status_code == 413
    assert response.json()["id"] == "payload_too_large"
    assert head(client, location)["Upload-Offset"] == "0"


def test_tus_larger_than_the_limit_is_413(client, files_dir, settings):
    settings.VIRTOOL_UPLOAD_MAX_SIZE = 1000
    response = create(client, 1001)
    assert response.status_code == 413
    assert response.json()["id"] == "payload_too_large"
    assert Upload.objects.count() == 0
    assert create(client, 1000).status_code == 201


def test_tus_not_fastq_reads_are_refused_and_removed(client, files_dir):
    content = b"this is not FASTQ\n" * 10
    location = create(client, len(content))["Location"]
    response = patch(client, location, 0, content)
    assert response.status_code == 400
    assert "FASTQ" in response.json()["message"]
    assert Upload.objects.count() == 0
    assert listing(files_dir / ".resumable") == []
    assert head(client, location).status_code == 404


TUS_OFF = {"HTTP_TUS_RESUMABLE": ""}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"HTTP_TUS_RESUMABLE": "0.2.2"}, 412),
        ({"HTTP_UPLOAD_LENGTH": "abc"}, 400),
        ({"HTTP_UPLOAD_LENGTH": "-5"}, 400),
        ({"HTTP_UPLOAD_LENGTH": "1e5"}, 400),
        ({"HTTP_UPLOAD_LENGTH": "99999999999999999999999"}, 400),
        ({"HTTP_UPLOAD_LENGTH": "0"}, 400),
        ({"HTTP_UPLOAD_DEFER_LENGTH": "1"}, 400),
        ({"HTTP_UPLOAD_METADATA": "name"}, 400),  # no type
        ({"HTTP_UPLOAD_METADATA": "name !!!,type cmVhZHM="}, 400),
        ({"HTTP_UPLOAD_METADATA": "name /w==,type cmVhZHM="}, 400),  # not UTF-8
        ({"HTTP_UPLOAD_METADATA": metadata(name="a.fq", type="application/gzip")}, 400),
        ({"HTTP_UPLOAD_METADATA": metadata(name="", type="reads")}, 400),
        ({"HTTP_UPLOAD_METADATA": metadata(name="x" * 300, type="reads")}, 400),
        ({"HTTP_UPLOAD_METADATA": "name YS5mcQ==,name YS5mcQ==,type cmVhZHM="}, 400),
    ],
)
def test_tus_create_malformed_headers_are_4xx(client, files_dir, headers, status):
    response = create(client, 100, **headers)
    assert response.status_code == status, response.content
    assert set(response.json()) >= {"id", "message"}
    assert Upload.objects.count() == 0


def test_tus_create_without_tus_resumable_is_412(client, files_dir):
    response = client.post(
        "/api/uploads/tus", HTTP_UPLOAD_LENGTH="10", HTTP_UPLOAD_METADATA=metadata(name="a", type="reads")
    )
    assert response.status_code == 412
    assert response["Tus-Version"] == "1.0.0"
    assert response.json()["id"] == "precondition_failed"


def test_tus_create_accepts_filename_and_ignores_other_metadata(client, files_dir):
    response = create(
        client, 5, HTTP_UPLOAD_METADATA=metadata(filename="b.fa", type="subtraction", filetype="x/y") + ",empty"
    )
    assert response.status_code == 201
    assert Upload.objects.get().name == "b.fa"


@pytest.mark.parametrize(
    ("headers", "content_type", "status"),
    [
        ({"HTTP_UPLOAD_OFFSET": "x"}, "application/offset+octet-stream", 400),
        ({"HTTP_UPLOAD_OFFSET": "-1"}, "application/offset+octet-stream", 400),
        ({}, "application/octet-stream", 415),
        ({"HTTP_UPLOAD_CHECKSUM": "crc32 AAAA"}, "application/offset+octet-stream", 400),
        ({"HTTP_UPLOAD_CHECKSUM": "sha1 not*base64"}, "application/offset+octet-stream", 400),
        ({"HTTP_TUS_RESUMABLE": "2.0.0"}, "application/offset+octet-stream", 412),
    ],
)
def test_tus_patch_malformed_headers_are_4xx(client, files_dir, headers, content_type, status):
    location = create(client, len(FASTQ_TEXT))["Location"]
    extra = {**TUS, "HTTP_UPLOAD_OFFSET": "0", **headers}
    response = client.generic("PATCH", location, FASTQ_TEXT, content_type=content_type, **extra)
    assert response.status_code == status, response.content
    assert set(response.json()) >= {"id", "message"}
    assert head(client, location)["Upload-Offset"] == "0"


def test_tus_patch_without_offset_is_400(client, files_dir):
    location = create(client, len(FASTQ_TEXT))["Location"]
    response = client.generic("PATCH", location, FASTQ_TEXT, content_type="application/offset+octet-stream", **TUS)
    assert response.status_code == 400


def test_tus_options_describes_the_server(client, settings):
    response = client.options("/api/uploads/tus")
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert set(response["Tus-Extension"].split(",")) == {"creation", "expiration", "checksum", "termination"}
    assert response["Tus-Max-Size"] == str(settings.VIRTOOL_UPLOAD_MAX_SIZE)
    assert "sha1" in response["Tus-Checksum-Algorithm"]


def test_tus_another_user_cannot_see_or_resume(client, make_user, files_dir):
    location = create(client, len(FASTQ_TEXT))["Location"]
    assert patch(client, location, 0, FASTQ_TEXT[:10]).status_code == 204
    other = client_for(make_user("mallory", permissions=["upload_file"]))
    assert head(other, location).status_code == 404
    assert other.get(location).status_code == 404
    assert patch(other, location, 10, FASTQ_TEXT[10:]).status_code == 404
    assert other.delete(location, **TUS).status_code == 404
    assert head(client, location)["Upload-Offset"] == "10"


def test_tus_needs_upload_file_and_a_login(make_user, anon_client, client, files_dir):
    location = create(client, len(FASTQ_TEXT))["Location"]
    assert create(anon_client, 10).status_code == 401
    assert head(anon_client, location).status_code == 401
    assert patch(anon_client, location, 0, FASTQ_TEXT).status_code == 401
    without = client_for(make_user("reader"))
    assert create(without, 10).status_code == 403
    assert patch(without, location, 0, FASTQ_TEXT).status_code == 403
    assert Upload.objects.count() == 1


def test_tus_with_an_api_key(make_user, files_dir):
    from rest_framework.test import APIClient

    from core.selectors import settings_get
    from users.services import key_create

    instance = settings_get()
    instance.enable_api = True
    instance.save()
    user = make_user("robot", permissions=["upload_file"])
    _, raw = key_create(user=user, name="sequencer", permissions={"upload_file": True})
    robot = APIClient()
    robot.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"robot:{raw}".encode()).decode())
    location = create(robot, len(FASTQ_TEXT))["Location"]
    assert patch(robot, location, 0, FASTQ_TEXT[:7]).status_code == 204
    # The same user in a browser session continues what the key started: the upload is the user's, not the key's.
    assert patch(client_for(user), location, 7, FASTQ_TEXT[7:]).status_code == 204
    assert Upload.objects.get().ready


def test_tus_termination(client, files_dir):
    location = create(client, len(FASTQ_TEXT))["Location"]
    patch(client, location, 0, FASTQ_TEXT[:10])
    assert client.delete(location, **TUS).status_code == 204
    assert Upload.objects.count() == 0
    assert listing(files_dir / ".resumable") == []
    assert head(client, location).status_code == 404
    finished = create(client, len(FASTQ_TEXT))["Location"]
    patch(client, finished, 0, FASTQ_TEXT)
    response = client.delete(finished, **TUS)
    assert response.status_code == 409
    assert Upload.objects.filter(removed=False, ready=True).count() == 1


def test_tus_abandoned_upload_expires(client, files_dir, settings):
    location = create(client, len(FASTQ_TEXT))["Location"]
    patch(client, location, 0, FASTQ_TEXT[:10])
    row = Upload.objects.get()
    assert row.expires_at > timezone.now() + timedelta(hours=settings.VIRTOOL_UPLOAD_RESUMABLE_HOURS - 1)
    assert uploads_expire() == []
    Upload.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert uploads_expire() == [row.pk]
    assert Upload.objects.count() == 0
    assert listing(files_dir / ".resumable") == []
    assert head(client, location).status_code == 404


def test_tus_each_patch_pushes_the_expiry_back(client, files_dir):
    location = create(client, len(FASTQ_TEXT))["Location"]
    Upload.objects.update(expires_at=timezone.now() + timedelta(minutes=1))
    patch(client, location, 0, FASTQ_TEXT[:10])
    assert Upload.objects.get().expires_at > timezone.now() + timedelta(hours=1)


def test_reconcile_removes_orphaned_partial_files_only(client, files_dir):
    location = create(client, len(FASTQ_TEXT))["Location"]
    patch(client, location, 0, FASTQ_TEXT[:10])
    token = Upload.objects.get().resume_token
    orphan = files_dir / ".resumable" / ("0" * 32)
    orphan.write_bytes(b"left by a crash")
    fresh = files_dir / ".resumable" / ("1" * 32)
    fresh.write_bytes(b"a row may be committing")
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    os.utime(resumable_path(token), (old, old))
    result = files_reconcile()
    assert result["unreferenced"] == []  # the folder is not a file of the files folder
    assert listing(files_dir / ".resumable") == sorted([token, "1" * 32])
    assert head(client, location)["Upload-Offset"] == "10"


def test_tus_patch_after_the_partial_file_vanished_is_404(client, files_dir):
    location = create(client, len(FASTQ_TEXT))["Location"]
    resumable_path(Upload.objects.get().resume_token).unlink()
    assert patch(client, location, 0, FASTQ_TEXT).status_code == 404
    assert Upload.objects.count() == 0


VENDORED = {
    "tus.min.js": "8cbb1b63fccc3bba0ae73ad1deb160ce046c3750851d0c3e94921ae3ef070eb8",
    "tus.min.js.map": "4653a3a430959c4ea0500efb95ed48d4b825efe47654cf22b8c64d35eb2ac81b",
    "LICENSE": "2ec372e137fa65938a6551e9abaa3d3ea21f5ebd398fca00a13354ea881e6539",
}


def test_vendored_tus_js_client_is_the_published_build():
    from tests.conftest import ROOT

    folder = ROOT / "files" / "static" / "files" / "vendor" / "tus-js-client-4.3.1"
    assert {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in VENDORED} == VENDORED
    assert "./vendor/tus-js-client-4.3.1/tus.min.js" in (folder.parent.parent / "resumable.js").read_text()
