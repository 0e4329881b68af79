"""Reconcile the files folder with the upload rows once, and report."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from files.services import files_reconcile


class Command(BaseCommand):
    """`manage.py reconcile_files`."""

    help = "Mark uploads whose file is gone as removed and report files that no upload refers to."

    def handle(self, *args, **options) -> None:
        result = files_reconcile()
        self.stdout.write(f"uploads marked removed (file missing): {result['removed'] or 'none'}")
        self.stdout.write(f"files without an upload (left in place): {result['unreferenced'] or 'none'}")
