#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run administrative tasks."""
    if sys.argv[1:2] == ["quality"]:
        # The quality report needs nothing of Django: counted before any of it is imported (about a second less).
        from samples.quality import main as quality

        sys.exit(quality(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "virtool_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
