"""`python -m virtool_cli upload --url URL --key KEY [--user HANDLE] FILES_OR_FOLDERS...`."""

from __future__ import annotations

import sys

from virtool_cli.upload import main

if __name__ == "__main__":
    sys.exit(main())
