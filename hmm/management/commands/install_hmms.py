"""Install HMM data from a folder or a release archive, in this process, with a progress bar."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError


class Command(BaseCommand):
    """`manage.py install_hmms PATH [--user HANDLE]`."""

    help = (
        "Install HMM profiles and annotations from a folder holding profiles.hmm and annotations.json(.gz), or from "
        "a release archive (vthmm.tar.gz). The installed HMMs are replaced only when everything checked out."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="a folder or a release archive")
        parser.add_argument("--user", help="handle of the user the install is recorded for")

    def handle(self, *args, path: Path, user: str | None, **options) -> None:
        from hmm.services import hmm_install_path

        if not path.exists():
            raise CommandError(f"{path} does not exist")
        User = get_user_model()
        if user:
            owner = User.objects.filter(handle=user).first()
            if owner is None:
                raise CommandError(f"no user with handle {user!r}")
        else:
            owner = User.objects.filter(administrator_role="full").order_by("pk").first()
        started = time.monotonic()
        try:
            count = hmm_install_path(path=path, user=owner, progress=self._bar)
        except ApplicationError as error:
            sys.stderr.write("\n")
            for problem in error.errors or []:
                self.stderr.write(f"  {'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}")
            raise CommandError(f"{error.message}") from None
        sys.stderr.write("\n")
        plural = "s" if count != 1 else ""
        self.stdout.write(f"Installed {count} HMM profile{plural} from {path} in {time.monotonic() - started:.1f} s")

    def _bar(self, stage: str, fraction: float) -> None:
        width = 40
        filled = int(width * max(0.0, min(1.0, fraction)))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {stage:<14}")
        sys.stderr.flush()
