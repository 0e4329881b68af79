"""Run the file manager: the files folder kept in sync with uploads, and the watch folder imported."""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand

from files.watcher import FileManager


class Command(BaseCommand):
    """`manage.py watch_files` (started by `make run`)."""

    help = "Keep the files folder and uploads in sync and import FASTQ files from the watch folder."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--settle", type=float, default=None, help="Seconds a watch-folder file must stay unchanged before import."
        )

    def handle(self, *args, settle: float | None, **options) -> None:
        manager = FileManager(settle=settle)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: manager.stop())
        manager.run_forever()
