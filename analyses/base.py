"""What every analysis workflow shares: the checks before it may start, the hook when it finishes, its inputs.

`analyses.services` starts and finishes analyses without knowing any workflow by name: it asks the workflow's
class (`start_problem`, `reference_problem`, `sample_problem`) whether it may start, and lets it add its own
work to the finish (`finished`). PathoScope (`analyses.workflows`) and NuVs (`analyses.nuvs.workflow`) implement
these hooks.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from core import seqio
from indexes.selectors import index_path
from jobs.workflow import Workflow
from samples.constants import READS_NAMES, LibraryType
from samples.selectors import samples_path

if TYPE_CHECKING:
    from analyses.models import Analysis
    from indexes.models import Index
    from jobs.runner import JobContext
    from references.models import Reference
    from samples.models import Sample


class AnalysisError(Exception):
    """The analysis cannot run; the message says why."""


class AnalysisWorkflow(Workflow):
    """Base class of the workflows `POST /api/samples/{id}/analyses` may start."""

    analysis = True

    @classmethod
    def start_problem(cls) -> str | None:
        """Why no analysis of this workflow may start now (something the instance lacks), or None."""
        return None

    @classmethod
    def reference_problem(cls, reference: Reference) -> str | None:
        """Why this workflow cannot use `reference`, or None."""
        return None

    @classmethod
    def sample_problem(cls, sample: Sample) -> str | None:
        """Why this workflow cannot analyse `sample`, or None. Amplicon libraries are refused (Virtool allows
        only AODP on them)."""
        if sample.library_type == LibraryType.AMPLICON:
            return f"Sample {sample.name} is an amplicon library: {cls.display_name or cls.name} does not apply"
        return None

    @classmethod
    def finished(cls, analysis: Analysis, results: dict[str, Any]) -> None:
        """Called inside `analysis_finish`'s transaction once the results are stored."""
        return

    def cleanup(self, ctx: JobContext) -> None:
        """A failed, cancelled or lost analysis keeps its row (failed, to be tried again or removed), not its files."""
        from analyses.services import analysis_fail

        analysis_fail(analysis_id=ctx.args["analysis_id"])


def job_analysis(ctx: JobContext) -> tuple[Analysis, Index]:
    """The analysis being run and its index, both of which must still exist."""
    from analyses.models import Analysis

    analysis = Analysis.objects.select_related("index", "sample").filter(pk=ctx.args["analysis_id"]).first()
    if analysis is None:
        raise AnalysisError("The analysis was deleted while it was running")
    if analysis.index is None:
        raise AnalysisError("The index of the analysis was removed")
    return analysis, analysis.index


def sample_reads(ctx: JobContext, *, paired: bool | None = None) -> list[str]:
    """The sample's read files (one, or two when paired); an error when they are missing."""
    folder = samples_path(ctx.args["sample_id"])
    reads = [folder / name for name in READS_NAMES if (folder / name).exists()]
    if not reads or (paired and len(reads) < 2):
        raise AnalysisError("The sample's read files are missing")
    return [str(path) for path in reads]


def index_reference(index: Index) -> dict[str, Any]:
    """The reference document the index was built from (`reference.json.gz`: data type and OTUs)."""
    path = index_path(index) / "reference.json.gz"
    if not path.exists():
        raise AnalysisError(f"The files of index {index.version} are missing: rebuild the index")
    with seqio.open_read(path) as handle:
        document: dict[str, Any] = json.load(handle)
    return document
