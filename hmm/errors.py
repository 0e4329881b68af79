"""The error of HMM data that cannot be installed."""

from __future__ import annotations

from core.errors import BadRequest


class HMMFileError(BadRequest):
    """The files cannot become installed HMM data; the message says why, `errors` lists every problem found."""

    error_id = "invalid_input"
