"""Upload services: expiry (and its beat task), reservations, reconciling the files folder, unique names, and
`upload_create` leaving nothing behind when it fails."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import Conflict
from files import selectors, services
from files.models import FileReport, Upload
from tests.files.conftest import FASTQ_TEXT, listing, sha256

pytestmark = pytest.mark.django_db


def removed(upload: Upload) -> bool:
    upload.refresh_from_db()
    return upload.removed


# --- Expiry -------------------------------------------------------------------------------------------------------


@pytest.fixture
def expiry_case(make_upload):
    past, future = timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=1)
    return {
        "expired": make_upload("expired.fq", expires_at=past),
        "expired_reserved": make_upload("reserved.fq", expires_at=past, reserved=True),
        "unexpired": make_upload("fresh.fq", expires_at=future),
        "never": make_upload("forever.fq"),
        "already_removed": make_upload("gone.fq", expires_at=past, removed=True),
    }


def assert_only_expired_removed(case, files_dir) -> None:
    assert removed(case["expired"])
    assert case["expired"].removed_at is not None
    assert not (files_dir / case["expired"].name_on_disk).exists()
    for key in ("expired_reserved", "unexpired", "never"):
        assert not removed(case[key]), key
        assert (files_dir / case[key].name_on_disk).read_bytes() == FASTQ_TEXT, key


def test_uploads_expire(expiry_case, files_dir):
    assert services.uploads_expire() == [expiry_case["expired"].pk]
    assert_only_expired_removed(expiry_case, files_dir)
    assert services.uploads_expire() == []


def test_uploads_expire_beat_task(expiry_case, files_dir):
    from files.tasks import uploads_expire_task

    result = uploads_expire_task.apply()
    assert result.successful(), result.traceback
    assert result.result == [expiry_case["expired"].pk]
    assert_only_expired_removed(expiry_case, files_dir)


def test_expire_task_is_scheduled_by_beat(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "files.tasks.uploads_expire_task" in tasks


# --- Reservations ---------------------------------------------------------------------------------------------------


def test_reserve_and_release(make_upload, files_dir):
    first, second, other = make_upload("1.fq"), make_upload("2.fq"), make_upload("3.fq")

    services.uploads_reserve(upload_ids=[first.pk, second.pk])
    assert set(Upload.objects.filter(reserved=True).values_list("pk", flat=True)) == {first.pk, second.pk}
    assert list(selectors.upload_list()) == [other]
    first.refresh_from_db()
    with pytest.raises(Conflict):
        services.upload_remove(upload=first)
    assert not removed(first)
    assert (files_dir / first.name_on_disk).exists()
    # Reserved uploads never expire.
    Upload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.uploads_expire() == [other.pk]

    services.uploads_release(upload_ids=[first.pk])
    first.refresh_from_db()
    assert first.reserved is False
    assert list(selectors.upload_list()) == [first]
    services.upload_remove(upload=first)
    assert removed(first)
    assert not (files_dir / first.name_on_disk).exists()
    second.refresh_from_db()
    assert second.reserved is True


def test_mark_removed_reports_only_newly_removed(make_upload, files_dir):
    upload = make_upload()
    assert services.uploads_mark_removed(upload_ids=[upload.pk], delete_files=False) == [upload.pk]
    assert services.uploads_mark_removed(upload_ids=[upload.pk], delete_files=True) == []
    assert (files_dir / upload.name_on_disk).exists()  # delete_files=False kept it; the second call did nothing


def test_uploads_delete_removes_rows_and_files_on_commit(make_upload, files_dir, django_capture_on_commit_callbacks):
    upload = make_upload()
    with django_capture_on_commit_callbacks(execute=True):
        services.uploads_delete(uploads=[upload])
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert listing(files_dir) == []


# --- Reconciliation ---------------------------------------------------------------------------------------------


def test_files_reconcile(make_upload, files_dir):
    intact = make_upload("intact.fq")
    lost = make_upload("lost.fq")
    (files_dir / lost.name_on_disk).unlink()
    (files_dir / "stray.fq").write_bytes(b"12345")
    old_partial, new_partial = files_dir / ".partial-old", files_dir / ".partial-new"
    old_partial.write_bytes(b"old")
    new_partial.write_bytes(b"new")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old_partial, (two_days_ago, two_days_ago))

    result = services.files_reconcile()

    assert result == {"removed": [lost.pk], "unreferenced": ["stray.fq"]}
    assert removed(lost)
    assert not removed(intact)
    assert (files_dir / intact.name_on_disk).read_bytes() == FASTQ_TEXT
    assert (files_dir / "stray.fq").read_bytes() == b"12345"  # reported, never adopted nor deleted
    assert not old_partial.exists()
    assert new_partial.read_bytes() == b"new"
    report = FileReport.objects.get()
    assert (report.kind, report.path, report.size) == ("unreferenced", str(files_dir / "stray.fq"), 5)
    assert Upload.objects.count() == 2  # no row was made for the stray file

    # Running again changes nothing and reports once.
    assert services.files_reconcile() == {"removed": [], "unreferenced": ["stray.fq"]}
    assert FileReport.objects.count() == 1

    # Once the stray file is gone, its report goes too.
    (files_dir / "stray.fq").unlink()
    assert services.files_reconcile() == {"removed": [], "unreferenced": []}
    assert FileReport.objects.count() == 0


def test_files_reconcile_reports_file_of_removed_upload(make_upload, files_dir):
    upload = make_upload(removed=True)
    assert services.files_reconcile() == {"removed": [], "unreferenced": [upload.name_on_disk]}
    assert (files_dir / upload.name_on_disk).exists()


def test_files_reconcile_spares_upload_created_while_it_runs(make_upload, files_dir, monkeypatch):
    real_scandir = os.scandir
    created = []

    def scandir_then_upload(path):
        entries = list(real_scandir(path))
        if not created:  # an API upload completes right after the listing
            created.append(make_upload("concurrent.fq"))
        return iter(entries)

    monkeypatch.setattr(os, "scandir", scandir_then_upload)
    try:
        result = services.files_reconcile()
    finally:
        monkeypatch.undo()
    assert result["removed"] == []
    assert not removed(created[0])


def test_files_reconcile_tolerates_partial_file_finishing_mid_scan(files_dir, monkeypatch):
    partial = files_dir / ".partial-in-flight"
    partial.write_bytes(b"data")
    real_scandir = os.scandir

    def scandir_then_finish(path):
        entries = list(real_scandir(path))
        partial.unlink()  # the upload completes (or is refused) right after the listing
        return iter(entries)

    monkeypatch.setattr(os, "scandir", scandir_then_finish)
    try:
        result = services.files_reconcile()
    finally:
        monkeypatch.undo()
    assert result == {"removed": [], "unreferenced": []}


# --- Names and creation ---------------------------------------------------------------------------------------------


def test_upload_unique_name(make_upload):
    assert services.upload_unique_name("x.fq.gz") == "x.fq.gz"
    make_upload("x.fq.gz")
    assert services.upload_unique_name("x.fq.gz") == "x (1).fq.gz"
    make_upload("x (1).fq.gz")
    assert services.upload_unique_name("x.fq.gz") == "x (2).fq.gz"
    make_upload("notes.txt", b"x", upload_type="reference")
    assert services.upload_unique_name("notes.txt") == "notes (1).txt"
    make_upload("README", b"x", upload_type="reference")
    assert services.upload_unique_name("README") == "README (1)"
    make_upload("old.fastq.gz", removed=True)
    assert services.upload_unique_name("old.fastq.gz") == "old.fastq.gz"  # removed uploads free their name


def test_upload_create_unique_name(files_dir):
    names = []
    for _ in range(3):
        temp = files_dir / f".partial-{len(names)}"
        temp.write_bytes(FASTQ_TEXT)
        upload = services.upload_create(
            name="a.fq.gz",
            upload_type="reads",
            user=None,
            temp_path=temp,
            size=len(FASTQ_TEXT),
            sha256=sha256(FASTQ_TEXT),
            unique_name=True,
        )
        names.append(upload.name)
    assert names == ["a.fq.gz", "a (1).fq.gz", "a (2).fq.gz"]
    assert listing(files_dir) == sorted(upload.name_on_disk for upload in Upload.objects.all())


def create_from(temp) -> Upload:
    return services.upload_create(
        name="a.fq", upload_type="reads", user=None, temp_path=temp, size=len(FASTQ_TEXT), sha256=sha256(FASTQ_TEXT)
    )


def test_upload_create_leaves_nothing_when_rename_fails(files_dir):
    with pytest.raises(FileNotFoundError):
        create_from(files_dir / ".partial-does-not-exist")
    assert Upload.objects.count() == 0
    assert listing(files_dir) == []


def test_upload_create_leaves_nothing_when_failing_after_rename(files_dir, monkeypatch):
    real_replace = os.replace

    def replace_then_fail(source, destination):
        real_replace(source, destination)
        raise RuntimeError("the database went away")

    temp = files_dir / ".partial-1"
    temp.write_bytes(FASTQ_TEXT)
    monkeypatch.setattr(services.os, "replace", replace_then_fail)
    try:
        with pytest.raises(RuntimeError):
            create_from(temp)
    finally:
        monkeypatch.undo()
    assert Upload.objects.count() == 0
    assert listing(files_dir) == []


def test_file_report_is_recorded_once(files_dir, caplog):
    path = files_dir / "odd.bin"
    path.write_bytes(b"abc")
    with caplog.at_level("WARNING", logger="files.services"):
        services.file_report(kind=FileReport.Kind.UNREFERENCED, path=path, detail="first")
        path.write_bytes(b"abcdef")
        services.file_report(kind=FileReport.Kind.UNREFERENCED, path=path, detail="second")
    report = FileReport.objects.get()
    assert (report.size, report.detail) == (6, "second")
    assert len([record for record in caplog.records if "odd.bin" in record.getMessage()]) == 1


def test_files_reconcile_forgets_reports_of_watch_folder_files_taken_away(files_dir, tmp_path):
    from files.models import FileReport
    from files.services import file_report, files_reconcile

    gone = tmp_path / "notes.txt"
    gone.write_text("not reads")
    kept = tmp_path / "still-here.txt"
    kept.write_text("not reads either")
    for path in (gone, kept):
        file_report(kind=FileReport.Kind.NOT_FASTQ, path=path, detail="not FASTQ")
    gone.unlink()
    files_reconcile()
    assert list(FileReport.objects.values_list("path", flat=True)) == [str(kept)]
