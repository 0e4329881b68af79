"""`manage.py import_virtool --dump DIR --data PATH [--check]`: bring a running Virtool's data over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from virtool_import.models import ImportReport
from virtool_import.services import virtool_import, virtool_import_check

BAR_WIDTH = 30


class Command(BaseCommand):
    """Import a Virtool MongoDB dump and data folder, or only check them (`--check`)."""

    help = "Import a Virtool mongodump folder and data folder, keeping Virtool's ids; --check only lists problems."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dump", required=True, type=Path, help="The mongodump folder (one .bson per collection).")
        parser.add_argument(
            "--data", required=True, type=Path, help="Virtool's data folder (samples/, references/...)."
        )
        parser.add_argument("--check", action="store_true", help="List every problem; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        dump, data = options["dump"], options["data"]
        if not dump.is_dir():
            raise CommandError(f"--dump {dump} is not a folder")
        if not data.is_dir():
            raise CommandError(f"--data {data} is not a folder")
        if options["check"]:
            report = virtool_import_check(dump=dump, data=data)
        else:
            report = virtool_import(dump=dump, data=data, progress=self._bar)
        self._print(report)

    def _bar(self, collection: str, done: int, total: int) -> None:
        """One progress bar per collection, redrawn in place, finished with a newline."""
        filled = BAR_WIDTH * done // max(total, 1)
        line = f"\r{collection:<12} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}"
        self.stdout.write(line, ending="\n" if done >= total else "")
        self.stdout.flush()

    def _print(self, report: ImportReport) -> None:
        """The report: counts per collection, then every problem, then the legacy samples."""
        title = "Check" if report.check_only else "Import"
        self.stdout.write(f"{title} of {report.dump} ({report.shape or 'no'} document shape)")
        self.stdout.write(
            f"{'collection':<12} {'read':>6} {'created':>8} {'updated':>8} {'unchanged':>10} {'skipped':>8}"
        )
        for row in report.collections:
            self.stdout.write(
                f"{row['collection']:<12} {row['read']:>6} {row['created']:>8} {row['updated']:>8} "
                f"{row['unchanged']:>10} {row['skipped']:>8}"
            )
        for problem in report.problems:
            kind = "skipped" if problem["skipped"] else "note"
            self.stdout.write(f"{kind}: {problem['collection']} {problem['id']}: {problem['reason']}")
        for sample in report.legacy_samples:
            job = f" (update_sample job {sample['job']})" if sample["job"] else ""
            self.stdout.write(f"legacy sample {sample['id']} {sample['name']}{job}: {'; '.join(sample['reasons'])}")
        skipped = sum(1 for problem in report.problems if problem["skipped"])
        self.stdout.write(f"{len(report.problems)} problem(s), {skipped} document(s) left out")
