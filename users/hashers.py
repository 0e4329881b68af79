"""Password hashers for accounts brought over from Virtool."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare


class VirtoolSHA512PasswordHasher(BasePasswordHasher):
    """Virtool 2019's legacy hashes: one SHA-512 of salt + password, stored as `virtool_sha512$<salt>$<digest>`, the
    digest in unpadded base64 (its hex form would not fit Django's 128-character password field with the salt).

    Accepted only so imported users can log in with their old password; Django rehashes it with the preferred
    hasher at that first login (this hasher is never first in PASSWORD_HASHERS), so it never makes new hashes.
    """

    algorithm = "virtool_sha512"

    def encode(self, password: str, salt: str) -> str:
        """The stored form of `password` with `salt` (Virtool's `hashlib.sha512(salt + password).hexdigest()`)."""
        if password is None or not salt or "$" in salt:
            raise ValueError("A password and a salt without $ are needed")
        digest = hashlib.sha512(salt.encode() + password.encode()).digest()
        return f"{self.algorithm}${salt}${self.pack(digest)}"

    @staticmethod
    def pack(digest: bytes) -> str:
        """A SHA-512 digest as stored: unpadded base64."""
        return base64.b64encode(digest).decode().rstrip("=")

    def decode(self, encoded: str) -> dict[str, Any]:
        """The parts of a stored hash."""
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        """Whether `password` matches."""
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        """What the Django admin shows of the hash."""
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"]),
            "hash": mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        """Always: a single unstretched SHA-512 is too weak to keep."""
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        """Nothing to even out: there are no iterations."""
