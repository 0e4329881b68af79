"""The file manager (`manage.py watch_files`) as a real process: the files folder kept in sync with the upload rows,
and FASTQ files imported from the watch folder only once they are complete."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from files import services
from files.models import FileReport, Upload
from tests.conftest import ROOT, process_env, stop, wait_for
from tests.files.conftest import listing, sha256

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

SETTLE = 1.0


@pytest.fixture
def watch_dir(tmp_path) -> Path:
    path = tmp_path / "watch"
    path.mkdir()
    return path


@pytest.fixture
def file_manager(data_path, watch_dir, tmp_path):
    """Start `manage.py watch_files --settle 1` on this test's data and watch folders; stopped with SIGTERM."""
    started = []

    def start() -> subprocess.Popen:
        log_path = tmp_path / f"watch_files-{len(started)}.log"
        log = log_path.open("w")
        process = subprocess.Popen(
            [sys.executable, "manage.py", "watch_files", "--settle", str(SETTLE)],
            cwd=ROOT,
            env=process_env(VIRTOOL_WATCH_PATH=str(watch_dir)),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log_path = log_path
        started.append((process, log))
        deadline = time.monotonic() + 30
        while "watching" not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"watch_files did not start:\n{log_path.read_text()}")
            time.sleep(0.05)
        return process

    yield start
    for process, log in started:
        stop(process)
        log.close()
        assert process.returncode == 0, process.log_path.read_text()


def imported(name: str | None = None) -> Upload | None:
    queryset = Upload.objects.filter(type="reads", removed=False)
    return (queryset.filter(name=name) if name else queryset).first()


# --- The files folder follows the rows, and the rows follow the files folder ------------------------------------


def test_file_deleted_by_hand_marks_upload_removed(file_manager, make_upload, files_dir):
    file_manager()
    keep, lose = make_upload("keep.fq"), make_upload("lose.fq")
    (files_dir / lose.name_on_disk).unlink()
    wait_for(lambda: Upload.objects.get(pk=lose.pk).removed, timeout=10)
    assert Upload.objects.get(pk=lose.pk).removed_at is not None
    assert not Upload.objects.get(pk=keep.pk).removed
    assert listing(files_dir) == [keep.name_on_disk]


def test_removed_upload_loses_its_file(file_manager, make_upload, files_dir, admin_client):
    file_manager()
    by_service, by_api = make_upload("service.fq"), make_upload("api.fq")
    services.upload_remove(upload=by_service)
    assert admin_client.delete(f"/api/uploads/{by_api.pk}").status_code == 204
    assert listing(files_dir) == []
    time.sleep(1.0)  # the service sees both deletions: nothing is reported, the rows stay removed
    assert set(Upload.objects.values_list("pk", "removed")) == {(by_service.pk, True), (by_api.pk, True)}
    assert not FileReport.objects.exists()


def test_file_without_upload_is_reported_and_left(file_manager, files_dir, fastq):
    file_manager()
    stray = files_dir / "stray.fq.gz"
    shutil.copyfile(fastq, stray)
    report = wait_for(lambda: FileReport.objects.filter(kind="unreferenced").first(), timeout=15)
    assert report.path == str(stray)
    assert report.size == fastq.stat().st_size
    assert stray.read_bytes() == fastq.read_bytes()
    assert not Upload.objects.exists()
    # When the administrator deletes it, the report goes too.
    stray.unlink()
    wait_for(lambda: not FileReport.objects.exists(), timeout=10)


# --- The watch folder -----------------------------------------------------------------------------------------


def test_slowly_written_fastq_is_imported_once_complete(file_manager, watch_dir, files_dir, fastq):
    file_manager()
    source = fastq.read_bytes()
    step = len(source) // 8 + 1
    target = watch_dir / "slow.fq.gz"
    with target.open("wb") as handle:
        for start in range(0, len(source), step):
            handle.write(source[start : start + step])
            handle.flush()
            time.sleep(0.4)
            assert not Upload.objects.exists(), "imported while still being written"

    upload = wait_for(imported, timeout=15)
    wait_for(lambda: not target.exists(), timeout=5)
    assert (upload.name, upload.type, upload.user) == ("slow.fq.gz", "reads", None)
    assert upload.size == len(source)
    assert upload.sha256 == sha256(source)
    assert (files_dir / upload.name_on_disk).read_bytes() == source
    time.sleep(SETTLE + 0.5)  # a second round of the loop imports nothing more
    assert Upload.objects.count() == 1
    assert listing(files_dir) == [upload.name_on_disk]
    assert listing(watch_dir) == []


def test_stalled_writer_is_not_imported_before_close(file_manager, watch_dir, fastq):
    file_manager()
    source = fastq.read_bytes()
    target = watch_dir / "stalled.fq.gz"
    with target.open("wb") as handle:
        handle.write(source[: len(source) // 2])
        handle.flush()
        time.sleep(SETTLE + 2)  # the writer pauses (a slow network copy) while keeping the file open
        early = Upload.objects.exists()
        handle.write(source[len(source) // 2 :])
    assert not early, "a half-written file was imported"
    upload = wait_for(imported, timeout=15)
    assert upload.sha256 == sha256(source)


def test_files_that_are_not_fastq_are_reported_and_left(file_manager, watch_dir):
    file_manager()
    notes, fake = watch_dir / "notes.txt", watch_dir / "fake.fq"
    notes.write_text("sample sheet\n")
    fake.write_text("this is not FASTQ\n")
    wait_for(lambda: FileReport.objects.filter(kind="not_fastq").count() == 2, timeout=15)
    assert set(FileReport.objects.values_list("path", flat=True)) == {str(notes), str(fake)}
    assert not Upload.objects.exists()
    assert notes.read_text() == "sample sheet\n"
    assert fake.read_text() == "this is not FASTQ\n"


def test_name_clash_imports_under_a_new_name(file_manager, make_upload, watch_dir, files_dir, fastq):
    existing = make_upload("a.fq.gz")
    file_manager()
    shutil.copyfile(fastq, watch_dir / "a.fq.gz")
    upload = wait_for(lambda: imported("a (1).fq.gz"), timeout=15)
    assert upload.sha256 == sha256(fastq.read_bytes())
    assert (files_dir / existing.name_on_disk).read_bytes() != fastq.read_bytes()  # never overwritten
    assert (files_dir / upload.name_on_disk).read_bytes() == fastq.read_bytes()
    wait_for(lambda: listing(watch_dir) == [], timeout=5)


def test_files_present_at_start_are_imported(file_manager, watch_dir, files_dir, fastq, make_upload):
    shutil.copyfile(fastq, watch_dir / "early.fq.gz")
    (watch_dir / "readme.txt").write_text("not reads")
    lost = make_upload("lost.fq")  # its file goes while the service is down: start-up reconciliation notices
    (files_dir / lost.name_on_disk).unlink()

    file_manager()
    upload = wait_for(lambda: imported("early.fq.gz"), timeout=15)
    assert upload.sha256 == sha256(fastq.read_bytes())
    assert Upload.objects.get(pk=lost.pk).removed
    wait_for(lambda: FileReport.objects.filter(kind="not_fastq").exists(), timeout=10)
    wait_for(lambda: listing(watch_dir) == ["readme.txt"], timeout=5)
    assert listing(files_dir) == [upload.name_on_disk]


# --- One-off reconciliation and the service loop ----------------------------------------------------------------


def test_reconcile_files_command(run_manage, make_upload, files_dir):
    intact, lost = make_upload("intact.fq"), make_upload("lost.fq")
    (files_dir / lost.name_on_disk).unlink()
    (files_dir / "stray.fq").write_bytes(b"@r\nA\n+\nI\n")

    result = run_manage("reconcile_files")
    assert result.returncode == 0, result.stderr
    assert f"uploads marked removed (file missing): [{lost.pk}]" in result.stdout
    assert "files without an upload (left in place): ['stray.fq']" in result.stdout
    assert Upload.objects.get(pk=lost.pk).removed
    assert not Upload.objects.get(pk=intact.pk).removed
    assert (files_dir / "stray.fq").exists()
    assert FileReport.objects.get().path == str(files_dir / "stray.fq")

    result = run_manage("reconcile_files")
    assert "uploads marked removed (file missing): none" in result.stdout


def test_service_survives_a_failed_periodic_reconciliation(files_dir, monkeypatch):
    from files import watcher

    calls = []

    def flaky_reconcile():
        calls.append(time.monotonic())
        if len(calls) > 1:
            raise FileNotFoundError(".partial-123 vanished")
        return {"removed": [], "unreferenced": []}

    monkeypatch.setattr(watcher, "files_reconcile", flaky_reconcile)
    monkeypatch.setattr(watcher, "RECONCILE_SECONDS", 0.0)
    manager = watcher.FileManager(settle=SETTLE)
    errors = []

    def run():
        try:
            manager.run_forever(poll=0.05)
        except Exception as error:
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(calls) >= 2, timeout=5)
        time.sleep(0.3)
        assert thread.is_alive(), f"the service stopped: {errors!r}"
    finally:
        manager.stop()
        thread.join(5)
