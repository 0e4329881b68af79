"""Reading analysis results the way it was done before indexes kept their OTUs and analyses their coverage lines:
every hit OTU rebuilt at its indexed version by patching back through its history, and every coverage line
simplified, on every read. The old path, for the tests that compare
both and for `bench/analysis_read.py`; nothing in the application imports it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from otus.documents import Document
from otus.selectors import otu_at_version


def hit_otus_replayed(analysis, keys: list[tuple[str | None, int | None]]) -> dict[tuple, Document | None]:
    """`analyses.formatting.hit_otus` as it was: one history replay per (otu id, version), nothing stored."""
    return {
        (otu_id, version): otu_at_version(otu_id=otu_id, version=version) if otu_id and version is not None else None
        for otu_id, version in keys
    }


@contextmanager
def replaying() -> Iterator[None]:
    """Within the block, analyses are formatted as before: history replayed and coverage lines drawn on every read,
    nothing kept."""
    with (
        mock.patch("analyses.formatting.hit_otus", hit_otus_replayed),
        mock.patch("analyses.formatting.stored_lines", side_effect=lambda analysis: {}),  # a fresh dict each read
        mock.patch("analyses.formatting.store_lines", return_value=None),
    ):
        yield
