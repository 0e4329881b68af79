"""Create a user from the command line (for scripted set-ups and recovering administrator access)."""

from __future__ import annotations

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from users.constants import AdministratorRole
from users.services import user_create


class Command(BaseCommand):
    """`manage.py create_user HANDLE [--role full] [--password-stdin]`."""

    help = "Create a user; with --role the user is an administrator."

    def add_arguments(self, parser) -> None:
        parser.add_argument("handle")
        parser.add_argument("--role", choices=AdministratorRole.values, default=None)
        parser.add_argument("--force-reset", action="store_true", help="Ask for a new password at first login.")
        parser.add_argument("--password-stdin", action="store_true", help="Read the password from standard input.")

    def handle(self, *args, handle: str, role: str | None, force_reset: bool, password_stdin: bool, **options):
        password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")
        try:
            user = user_create(handle=handle, password=password, force_reset=force_reset, administrator_role=role)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"created user {user.handle} (id {user.pk})")
