"""Domain errors raised by services and rendered by the API as Virtool's `{id, message}` envelope."""

from __future__ import annotations

from typing import TypedDict


class Problem(TypedDict):
    """One of several problems found at once (e.g. in an imported file): where, as a path, and what."""

    loc: list[str | int]
    msg: str


class ApplicationError(Exception):
    """A refusal a client can act on; `error_id` and `status` follow Virtool's API."""

    error_id = "bad_request"
    status = 400

    def __init__(self, message: str, errors: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Every problem found, when there are several (e.g. in an imported file); rendered as `errors`.
        self.errors = errors


class BadRequest(ApplicationError):
    """The request is well-formed but cannot be honoured (400)."""


class NotFound(ApplicationError):
    """The object does not exist or is not visible to the client (404)."""

    error_id = "not_found"
    status = 404

    def __init__(self, message: str = "Not found") -> None:
        super().__init__(message)


class InsufficientRights(ApplicationError):
    """The client is known but may not do this (403)."""

    error_id = "insufficient_rights"
    status = 403

    def __init__(self, message: str = "Insufficient rights") -> None:
        super().__init__(message)


class Conflict(ApplicationError):
    """The object's current state forbids the change (409)."""

    error_id = "conflict"
    status = 409


class ServiceUnavailable(ApplicationError):
    """A service the request needs (the job queue, Redis) cannot be reached now; trying later may work (503)."""

    error_id = "service_unavailable"
    status = 503


class BadGateway(ApplicationError):
    """A server outside this one that the request needs (GitHub, NCBI) could not be reached or answered wrongly
    (502); the message says which and why."""

    error_id = "bad_gateway"
    status = 502


class PayloadTooLarge(ApplicationError):
    """The body, or the file it belongs to, is larger than this server accepts (413)."""

    error_id = "payload_too_large"
    status = 413


class Locked(ApplicationError):
    """Another request is changing the object right now; trying again shortly works (423)."""

    error_id = "locked"
    status = 423


class ChecksumMismatch(ApplicationError):
    """The bytes received do not have the checksum the client sent with them (tus's 460); nothing was kept."""

    error_id = "checksum_mismatch"
    status = 460
