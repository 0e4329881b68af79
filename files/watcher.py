"""The file manager: keeps the files folder and the upload rows in agreement, and imports the watch folder.

- A file deleted from `<data_path>/files` by hand marks its upload removed within seconds.
- A file appearing there without an upload is reported (log and Django admin), never adopted.
- FASTQ files written into the watch folder are imported as `reads` uploads once no process has them open for
  writing and their size has stayed the same for VIRTOOL_WATCH_SETTLE_SECONDS: copied into the files folder,
  checked, then removed from the watch folder. Anything else there is reported and left alone.

A full reconciliation runs at start-up and every minute, so that nothing missed while the service was down (or
an event the operating system dropped) stays wrong for long.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from files.constants import FASTQ_EXTENSIONS, PARTIAL_PREFIX, UploadType
from files.models import FileReport, Upload
from files.services import file_report, files_reconcile, upload_create, uploads_mark_removed
from files.storage import files_path, looks_like_fastq, sha256_of

log = logging.getLogger(__name__)

RECONCILE_SECONDS = 60.0
UNREFERENCED_GRACE_SECONDS = 5.0  # an upload's file appears a moment before its row is committed


def is_fastq_name(name: str) -> bool:
    """Whether a file name has one of the FASTQ extensions Virtool imports."""
    return name.lower().endswith(FASTQ_EXTENSIONS)


def import_watched_file(path: Path) -> Upload | None:
    """Import one settled watch-folder file as a reads upload; returns None if it is not (yet) importable."""
    if not path.is_file():
        return None
    if not is_fastq_name(path.name) or not looks_like_fastq(path):
        file_report(
            kind=FileReport.Kind.NOT_FASTQ,
            path=path,
            detail="Not a FASTQ file (.fq, .fastq, .fq.gz, .fastq.gz starting with '@'): left in place.",
        )
        return None
    size = path.stat().st_size
    temp = files_path() / f"{PARTIAL_PREFIX}{os.getpid()}-{time.monotonic_ns()}"
    try:
        shutil.copyfile(path, temp)
        copied = sha256_of(temp)
        # Verify the copy against the source as it is now: a file still changing is left for a later attempt.
        if temp.stat().st_size != size or path.stat().st_size != size or sha256_of(path) != copied:
            temp.unlink(missing_ok=True)
            return None
        upload = upload_create(
            name=path.name,
            upload_type=UploadType.READS,
            user=None,
            temp_path=temp,
            size=size,
            sha256=copied,
            unique_name=True,
        )
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    path.unlink(missing_ok=True)
    log.info("imported %s from the watch folder as upload %s", path.name, upload.pk)
    return upload


def open_for_writing(path: Path) -> bool:
    """Whether any process has `path` open for writing (read from /proc: a writer that merely paused counts)."""
    try:
        target = path.resolve()
    except OSError:
        return False
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                if fd.readlink() != target:
                    continue
                flags = int((fd_dir.parent / "fdinfo" / fd.name).read_text().split("flags:")[1].split()[0], 8)
                if flags & (os.O_WRONLY | os.O_RDWR):
                    return True
        except (OSError, ValueError, IndexError):
            continue
    return False


class _Pending:
    """Watch-folder files waiting to settle: imported once closed and unchanged in size for a while."""

    def __init__(self, settle: float) -> None:
        self.settle = settle
        self.files: dict[Path, tuple[int, float]] = {}
        self.lock = threading.Lock()

    def touch(self, path: Path) -> None:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            with self.lock:
                self.files.pop(path, None)
            return
        with self.lock:
            self.files[path] = (size, time.monotonic())

    def due(self) -> list[Path]:
        ready = []
        now = time.monotonic()
        with self.lock:
            for path, (size, seen) in list(self.files.items()):
                try:
                    current = path.stat().st_size
                except FileNotFoundError:
                    del self.files[path]
                    continue
                if current != size:
                    self.files[path] = (current, now)
                elif now - seen >= self.settle and not open_for_writing(path):
                    del self.files[path]
                    ready.append(path)
                elif now - seen >= self.settle:
                    self.files[path] = (current, now)  # a writer still holds it open: wait for it to close
        return ready


class _FilesFolderHandler(FileSystemEventHandler):
    def __init__(self, manager: FileManager) -> None:
        self.manager = manager

    def on_deleted(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.manager.file_gone(Path(os.fsdecode(event.src_path)).name)

    def on_moved(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.manager.file_gone(Path(os.fsdecode(event.src_path)).name)
            self.manager.file_appeared(Path(os.fsdecode(event.dest_path)).name)

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.manager.file_appeared(Path(os.fsdecode(event.src_path)).name)


class _WatchFolderHandler(FileSystemEventHandler):
    def __init__(self, manager: FileManager) -> None:
        self.manager = manager

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("deleted", "opened", "closed_no_write"):
            return
        path = Path(os.fsdecode(getattr(event, "dest_path", "") or event.src_path))
        self.manager.pending.touch(path)


class FileManager:
    """The long-lived service behind `manage.py watch_files`."""

    def __init__(self, *, settle: float | None = None) -> None:
        self.files = files_path()
        self.watch = Path(settings.WATCH_PATH)
        self.watch.mkdir(parents=True, exist_ok=True)
        self.pending = _Pending(settings.VIRTOOL_WATCH_SETTLE_SECONDS if settle is None else settle)
        self.appeared: dict[str, float] = {}
        self.lock = threading.Lock()
        self.observer = Observer()
        self.stopping = threading.Event()

    def file_gone(self, name: str) -> None:
        if name.startswith(PARTIAL_PREFIX):
            return
        close_old_connections()
        ids = list(Upload.objects.filter(name_on_disk=name, removed=False).values_list("pk", flat=True))
        if ids:
            uploads_mark_removed(upload_ids=ids, delete_files=False)
            log.warning("%s was deleted from the files folder: upload %s marked removed", name, ids[0])
        FileReport.objects.filter(kind=FileReport.Kind.UNREFERENCED, path=str(self.files / name)).delete()

    def file_appeared(self, name: str) -> None:
        if not name.startswith(PARTIAL_PREFIX):
            with self.lock:
                self.appeared[name] = time.monotonic()

    def _check_appeared(self) -> None:
        now = time.monotonic()
        with self.lock:
            due = [name for name, seen in self.appeared.items() if now - seen >= UNREFERENCED_GRACE_SECONDS]
            for name in due:
                del self.appeared[name]
        for name in due:
            path = self.files / name
            if path.exists() and not Upload.objects.filter(name_on_disk=name, removed=False).exists():
                file_report(
                    kind=FileReport.Kind.UNREFERENCED,
                    path=path,
                    detail="No upload refers to this file; it was left in place.",
                )

    def tick(self) -> None:
        """One round of the deferred work: settled watch-folder files and files that appeared. Never raises."""
        try:
            close_old_connections()
            due = self.pending.due()
        except Exception:
            log.exception("could not check the watch folder")
            return
        for path in due:
            try:
                import_watched_file(path)
            except Exception:
                log.exception("could not import %s; it will be tried again when it changes", path)
        try:
            self._check_appeared()
        except Exception:
            log.exception("could not check new files in the files folder")

    def start(self) -> None:
        """Reconcile, queue what is already in the watch folder, and start watching both folders."""
        result = files_reconcile()
        log.info(
            "files folder reconciled: %d uploads without a file, %d files without an upload",
            len(result["removed"]),
            len(result["unreferenced"]),
        )
        for entry in self.watch.iterdir():
            if entry.is_file():
                self.pending.touch(entry)
        self.observer.schedule(_FilesFolderHandler(self), str(self.files), recursive=False)
        self.observer.schedule(_WatchFolderHandler(self), str(self.watch), recursive=False)
        self.observer.start()
        log.info("watching %s and %s", self.files, self.watch)

    def run_forever(self, poll: float = 0.5) -> None:
        """Run until `stop()`."""
        self.start()
        last_reconcile = time.monotonic()
        try:
            while not self.stopping.wait(poll):
                self.tick()
                if time.monotonic() - last_reconcile >= RECONCILE_SECONDS:
                    last_reconcile = time.monotonic()
                    try:
                        files_reconcile()
                    except Exception:  # a database hiccup must not stop the service; the next round retries
                        log.exception("reconciling the files folder failed")
        finally:
            self.observer.stop()
            self.observer.join(5)

    def stop(self) -> None:
        """Ask `run_forever` to return."""
        self.stopping.set()
