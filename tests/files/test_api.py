"""The uploads API: permissions, streamed uploads (multipart and raw), refusals that leave nothing behind, list
filters, downloads with ranges, and removal."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from files.models import Upload
from tests.conftest import client_for
from tests.files.conftest import FASTQ_TEXT, listing, sha256

pytestmark = pytest.mark.django_db

DOCUMENT_KEYS = {
    "id",
    "name",
    "name_on_disk",
    "type",
    "user",
    "size",
    "sha256",
    "ready",
    "reserved",
    "removed",
    "removed_at",
    "created_at",
    "uploaded_at",
    "expires_at",
}


def url(name: str = "reads.fq", upload_type: str = "reads") -> str:
    return "/api/uploads?" + urlencode({"name": name, "type": upload_type})


def post_raw(client, body: bytes, name: str = "reads.fq", upload_type: str = "reads", **extra):
    return client.post(url(name, upload_type), data=body, content_type="application/octet-stream", **extra)


def post_multipart(client, body: bytes, name: str = "reads.fq", upload_type: str = "reads", field: str = "file"):
    return client.post(url(name, upload_type), {field: SimpleUploadedFile(name, body)}, format="multipart")


def read_body(response) -> bytes:
    try:
        return b"".join(response.streaming_content) if response.streaming else response.content
    finally:
        response.close()


@pytest.fixture
def uploader(make_user):
    user = make_user("uploader", permissions=["upload_file", "remove_file"])
    return client_for(user)


def assert_nothing_left(files_dir) -> None:
    assert Upload.objects.count() == 0
    assert listing(files_dir) == []


# --- Permissions ------------------------------------------------------------------------------------------------


MATRIX = [
    ("get", "/api/uploads", None),
    ("post", "/api/uploads?name=perm.fq&type=reads", "upload_file"),
    ("get", "/api/uploads/{id}", None),
    ("delete", "/api/uploads/{id}", "remove_file"),
    ("tus", "/api/uploads/tus", "upload_file"),
]


def call(client, method: str, path: str):
    if method == "tus":  # creating a resumable upload: headers, no body
        tus = {"HTTP_TUS_RESUMABLE": "1.0.0", "HTTP_UPLOAD_LENGTH": "10"}
        return client.post(path, HTTP_UPLOAD_METADATA="name YS5mcQ==,type cmVhZHM=", **tus)
    if method == "post":
        return client.post(path, data=FASTQ_TEXT, content_type="application/octet-stream")
    return getattr(client, method)(path)


@pytest.mark.parametrize(("method", "path", "permission"), MATRIX)
def test_permission_matrix(anon_client, make_user, make_upload, files_dir, method, path, permission):
    upload = make_upload("perm-target.fq")
    path = path.format(id=upload.pk)

    response = call(anon_client, method, path)
    assert response.status_code == 401
    assert response.json() == {"id": "unauthorized", "message": "Requires authorization"}

    if permission:
        response = call(client_for(make_user("nobody")), method, path)
        assert response.status_code == 403
        assert response.json()["id"] == "insufficient_rights"
        # A refused request changed nothing.
        assert list(Upload.objects.values_list("pk", "removed")) == [(upload.pk, False)]
        assert listing(files_dir) == [upload.name_on_disk]

    allowed = client_for(make_user("allowed", permissions=[permission] if permission else []))
    response = call(allowed, method, path)
    read_body(response)
    assert 200 <= response.status_code < 300, response.content


def test_upload_needs_permission_even_with_other_rights(make_user, files_dir):
    client = client_for(make_user("remover", permissions=["remove_file"]))
    assert post_raw(client, FASTQ_TEXT).status_code == 403
    assert_nothing_left(files_dir)


# --- Uploading ------------------------------------------------------------------------------------------------


def test_upload_multipart_real_fastq(uploader, files_dir, fastq):
    source = fastq.read_bytes()
    response = post_multipart(uploader, source, name=fastq.name)
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/uploads/{body['id']}"
    assert set(body) == DOCUMENT_KEYS
    assert body["name"] == fastq.name
    assert body["name_on_disk"] == f"{body['id']}-{fastq.name}"
    assert body["type"] == "reads"
    assert body["user"]["handle"] == "uploader"
    assert body["size"] == len(source)
    assert body["sha256"] == sha256(source)
    assert body["ready"] is True
    assert body["reserved"] is False
    assert body["removed"] is False
    assert body["removed_at"] is None
    assert body["uploaded_at"] is not None
    assert body["expires_at"] is None  # VIRTOOL_UPLOAD_LIFETIME_DAYS = 0: uploads never expire

    assert listing(files_dir) == [body["name_on_disk"]]  # no .partial-* left over
    assert (files_dir / body["name_on_disk"]).read_bytes() == source

    row = Upload.objects.get()
    assert (row.pk, row.name, row.size, row.sha256) == (body["id"], fastq.name, len(source), sha256(source))


def test_upload_raw_octet_stream(uploader, files_dir, fastq):
    source = fastq.read_bytes()
    response = post_raw(uploader, source, name="raw.fq.gz")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == sha256(source)
    assert body["size"] == len(source)
    assert listing(files_dir) == [body["name_on_disk"]]
    assert (files_dir / body["name_on_disk"]).read_bytes() == source


def test_upload_plain_fastq_and_lifetime(uploader, files_dir, settings):
    settings.VIRTOOL_UPLOAD_LIFETIME_DAYS = 7
    response = post_raw(uploader, FASTQ_TEXT, name="plain.fastq")
    assert response.status_code == 201, response.content
    row = Upload.objects.get()
    assert row.expires_at - row.created_at == timedelta(days=7)


def test_upload_of_other_types_is_not_sniffed(uploader, files_dir):
    response = post_raw(
        uploader, b'{"data": [], "name": "Plant viruses"}', name="reference.json", upload_type="reference"
    )
    assert response.status_code == 201, response.content
    assert response.json()["type"] == "reference"
    assert listing(files_dir) == [response.json()["name_on_disk"]]


def test_upload_exactly_max_size_is_accepted(uploader, files_dir, settings):
    body = FASTQ_TEXT * 20
    settings.VIRTOOL_UPLOAD_MAX_SIZE = len(body)
    assert post_raw(uploader, body).status_code == 201


def test_upload_name_with_folders_keeps_base_name(uploader, files_dir, data_path, tmp_path):
    response = post_raw(uploader, FASTQ_TEXT, name="../../etc/passwd.fq")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "passwd.fq"
    assert body["name_on_disk"] == f"{body['id']}-passwd.fq"
    assert listing(files_dir) == [body["name_on_disk"]]
    assert not (tmp_path / "etc").exists()
    assert not (data_path / "etc").exists()

    response = post_raw(uploader, FASTQ_TEXT, name="..\\..\\windows\\evil.fq")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "evil.fq"
    assert (files_dir / response.json()["name_on_disk"]).read_bytes() == FASTQ_TEXT


# --- Refusals: a clear 4xx, and neither row nor file remains ---------------------------------------------------


def query_error(response) -> list[dict]:
    assert response.status_code == 400, response.content
    errors = response.json()
    assert isinstance(errors, list)
    assert all(error["in"] == "query string" for error in errors)
    return errors


def test_refuse_wrong_type(uploader, files_dir):
    errors = query_error(post_raw(uploader, FASTQ_TEXT, upload_type="genome"))
    assert [error["loc"] for error in errors] == [["type"]]
    assert errors[0]["type"] == "type_error.enum"
    assert_nothing_left(files_dir)


def test_refuse_missing_name(uploader, files_dir):
    response = uploader.post("/api/uploads?type=reads", data=FASTQ_TEXT, content_type="application/octet-stream")
    errors = query_error(response)
    assert [error["loc"] for error in errors] == [["name"]]
    assert errors[0]["type"] == "value_error.missing"
    assert_nothing_left(files_dir)


@pytest.mark.parametrize("name", ["", "/", "../", "\x00\x01"])
def test_refuse_empty_name(uploader, files_dir, name):
    errors = query_error(post_raw(uploader, FASTQ_TEXT, name=name))
    assert [error["loc"] for error in errors] == [["name"]]
    assert_nothing_left(files_dir)


@pytest.mark.parametrize("post", [post_raw, post_multipart])
def test_refuse_empty_file(uploader, files_dir, post):
    response = post(uploader, b"", name="empty.fq")
    assert response.status_code == 400, response.content
    assert response.json() == {"id": "bad_request", "message": "empty.fq is empty"}
    assert_nothing_left(files_dir)


NOT_FASTQ = {
    "small text": b">seq1\nACGT\n",
    "large text": b"this is a note, not reads\n" * 5000,  # over 64 KiB: refused while streaming
}


@pytest.mark.parametrize("post", [post_raw, post_multipart])
@pytest.mark.parametrize("content", NOT_FASTQ.values(), ids=NOT_FASTQ.keys())
def test_refuse_reads_that_are_not_fastq(uploader, files_dir, post, content):
    response = post(uploader, content, name="notes.fq")
    assert response.status_code == 400, response.content
    assert response.json()["id"] == "bad_request"
    assert "notes.fq is not a FASTQ file" in response.json()["message"]
    assert_nothing_left(files_dir)


def test_refuse_gzipped_text_that_is_not_fastq(uploader, files_dir):
    import gzip

    response = post_raw(uploader, gzip.compress(b"hello world\n" * 10), name="hello.fq.gz")
    assert response.status_code == 400
    assert "is not a FASTQ file" in response.json()["message"]
    assert_nothing_left(files_dir)


BAD_GZIP = {
    "small": b"\x1f\x8bthis is not gzip data at all",
    "large": b"\x1f\x8b" + b"garbage!" * 10000,
}


@pytest.mark.parametrize("post", [post_raw, post_multipart])
@pytest.mark.parametrize("content", BAD_GZIP.values(), ids=BAD_GZIP.keys())
def test_refuse_invalid_gzip(uploader, files_dir, post, content):
    response = post(uploader, content, name="broken.fq.gz")
    assert response.status_code == 400, response.content
    assert response.json() == {"id": "bad_request", "message": "broken.fq.gz is not a valid gzip file"}
    assert_nothing_left(files_dir)


def test_refuse_multipart_without_file_field(uploader, files_dir):
    response = post_multipart(uploader, FASTQ_TEXT, field="upload")
    assert response.status_code == 400, response.content
    assert "multipart field 'file'" in response.json()["message"]
    assert_nothing_left(files_dir)


def test_refuse_content_length_over_max_with_413(uploader, files_dir, settings):
    settings.VIRTOOL_UPLOAD_MAX_SIZE = 1000
    response = post_raw(uploader, b"@" + b"A" * (1000 + 64 * 1024 + 10))
    assert response.status_code == 413
    assert response.json()["id"] == "payload_too_large"
    assert "1000 bytes" in response.json()["message"]
    assert_nothing_left(files_dir)


@pytest.mark.parametrize("post", [post_raw, post_multipart])
def test_refuse_stream_over_max_with_400(uploader, files_dir, settings, post):
    body = FASTQ_TEXT * 100
    settings.VIRTOOL_UPLOAD_MAX_SIZE = len(body) - 1  # Content-Length is within the allowance: the stream decides
    response = post(uploader, body, name="big.fq")
    assert response.status_code == 400, response.content
    assert response.json() == {
        "id": "bad_request",
        "message": f"big.fq is larger than the {len(body) - 1} bytes this server accepts",
    }
    assert_nothing_left(files_dir)


def test_refuse_name_too_long_for_the_file_system(uploader, files_dir):
    uploader.raise_request_exception = False
    response = post_raw(uploader, FASTQ_TEXT, name="é" * 190 + ".fq")
    assert 400 <= response.status_code < 500, response.status_code
    assert_nothing_left(files_dir)


def test_long_non_ascii_name_leaves_nothing_behind(uploader, files_dir):
    """Whatever the status, a failed rename leaves neither row nor temporary file."""
    uploader.raise_request_exception = False
    response = post_raw(uploader, FASTQ_TEXT, name="é" * 190 + ".fq")
    if response.status_code == 201:
        assert listing(files_dir) == [Upload.objects.get().name_on_disk]
    else:
        assert_nothing_left(files_dir)


# --- Listing ----------------------------------------------------------------------------------------------------


def test_list_filters_counts_and_hidden_uploads(uploader, make_user, make_upload, files_dir):
    alice, bob = make_user("alice"), make_user("bob")
    reads = make_upload("a.fq.gz", user=alice)
    reference = make_upload("ref.json.gz", b"{}", upload_type="reference", user=bob)
    make_upload("reserved.fq", user=alice, reserved=True)
    make_upload("removed.fq", user=alice, removed=True, removed_at=timezone.now())

    body = uploader.get("/api/uploads").json()
    assert [item["id"] for item in body["items"]] == [reference.pk, reads.pk]  # newest first
    assert (body["found_count"], body["total_count"], body["page"], body["per_page"]) == (2, 2, 1, 25)
    assert set(body["items"][0]) == DOCUMENT_KEYS
    assert body["items"][0]["user"] == {"id": bob.pk, "handle": "bob"}

    body = uploader.get("/api/uploads?type=reads").json()
    assert [item["id"] for item in body["items"]] == [reads.pk]
    assert (body["found_count"], body["total_count"]) == (1, 2)

    body = uploader.get(f"/api/uploads?user={bob.pk}").json()
    assert [item["id"] for item in body["items"]] == [reference.pk]
    assert (body["found_count"], body["total_count"]) == (1, 2)

    body = uploader.get(f"/api/uploads?user={bob.pk}&type=reads").json()
    assert (body["items"], body["found_count"]) == ([], 0)


def test_list_refuses_unknown_type(uploader, files_dir):
    errors = query_error(uploader.get("/api/uploads?type=genome"))
    assert errors[0]["loc"] == ["type"]


# --- Downloading --------------------------------------------------------------------------------------------------


CONTENT = bytes(range(256)) * 4


@pytest.fixture
def stored(make_upload):
    return make_upload("data.bin", CONTENT, upload_type="subtraction")


def test_download_whole_file(uploader, stored):
    response = uploader.get(f"/api/uploads/{stored.pk}")
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(CONTENT))
    assert 'filename="data.bin"' in response["Content-Disposition"]
    assert response["Accept-Ranges"] == "bytes"
    assert read_body(response) == CONTENT


def test_download_real_fastq_after_upload(uploader, files_dir, fastq):
    upload_id = post_multipart(uploader, fastq.read_bytes(), name=fastq.name).json()["id"]
    response = uploader.get(f"/api/uploads/{upload_id}")
    assert response.status_code == 200
    assert read_body(response) == fastq.read_bytes()


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=-5", 1019, 1023),
        ("bytes=1000-", 1000, 1023),
        ("bytes=1000-5000", 1000, 1023),
        ("bytes=-5000", 0, 1023),
        ("bytes=1023-1023", 1023, 1023),
    ],
)
def test_download_range(uploader, stored, header, first, last):
    response = uploader.get(f"/api/uploads/{stored.pk}", HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(CONTENT)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert read_body(response) == CONTENT[first : last + 1]


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0"])
def test_download_unsatisfiable_range(uploader, stored, header):
    response = uploader.get(f"/api/uploads/{stored.pk}", HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"


def test_download_ignores_malformed_range(uploader, stored):
    response = uploader.get(f"/api/uploads/{stored.pk}", HTTP_RANGE="lines=1-2")
    assert response.status_code == 200
    assert read_body(response) == CONTENT


def test_download_missing_file_or_upload_is_404(uploader, stored, files_dir):
    (files_dir / stored.name_on_disk).unlink()
    response = uploader.get(f"/api/uploads/{stored.pk}")
    assert response.status_code == 404
    assert response.json() == {"id": "not_found", "message": "The file of this upload is missing"}
    assert uploader.get("/api/uploads/999999").status_code == 404


# --- Removing ---------------------------------------------------------------------------------------------------


def test_delete_removes_file_and_marks_row(uploader, stored, files_dir):
    response = uploader.delete(f"/api/uploads/{stored.pk}")
    assert response.status_code == 204
    stored.refresh_from_db()
    assert stored.removed is True
    assert stored.removed_at is not None
    assert listing(files_dir) == []
    assert uploader.get(f"/api/uploads/{stored.pk}").status_code == 404
    assert uploader.delete(f"/api/uploads/{stored.pk}").status_code == 404
    assert uploader.get("/api/uploads").json()["items"] == []


def test_delete_reserved_upload_is_409(uploader, make_upload, files_dir):
    upload = make_upload("held.fq", reserved=True)
    response = uploader.delete(f"/api/uploads/{upload.pk}")
    assert response.status_code == 409
    assert response.json()["id"] == "conflict"
    upload.refresh_from_db()
    assert (upload.removed, upload.reserved, upload.removed_at) == (False, True, None)
    assert listing(files_dir) == [upload.name_on_disk]
    assert (files_dir / upload.name_on_disk).read_bytes() == FASTQ_TEXT
