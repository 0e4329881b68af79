"""Virtool-shaped identifiers: 8 random lowercase alphanumerics."""

from __future__ import annotations

import secrets
import string

ALPHABET = string.ascii_lowercase + string.digits


def new_id(length: int = 8) -> str:
    """A new random id such as `zxbbvngc` (Virtool's `get_new_id`)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))
