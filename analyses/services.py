"""Writes for analyses: start (one sample or many), finish, discard, delete."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from analyses.base import AnalysisWorkflow
from analyses.models import Analysis, AnalysisFile
from analyses.selectors import analysis_path
from analyses.summary import summary_fill
from core.errors import BadRequest, Conflict
from indexes.models import Index
from indexes.selectors import index_current
from jobs.constants import ACTIVE_STATES
from jobs.services import job_attach, job_refuse_delete
from jobs.workflow import analysis_workflows, get_workflow
from references.models import Reference
from samples.models import Sample
from subtractions.models import Subtraction
from subtractions.selectors import subtractions_get

if TYPE_CHECKING:
    from users.models import User


def _workflow_class(name: str) -> type[AnalysisWorkflow]:
    """The class of an analysis workflow, whose hooks say whether it may start; the defaults for one that is not
    an `AnalysisWorkflow` (or no longer registered)."""
    try:
        workflow = get_workflow(name)
    except KeyError:
        return AnalysisWorkflow
    return workflow if issubclass(workflow, AnalysisWorkflow) else AnalysisWorkflow


def _checked(data: dict[str, Any]) -> tuple[str, Reference, Index, list[Subtraction]]:
    available = analysis_workflows()
    workflow = available.get(data.get("workflow", "pathoscope_bowtie"))
    if workflow is None:
        names = ", ".join(sorted(set(available.values())))
        raise BadRequest(f"Unknown workflow: {data.get('workflow')} (available: {names})")
    hooks = _workflow_class(workflow)
    if problem := hooks.start_problem():
        raise BadRequest(problem)
    reference = Reference.objects.filter(pk=data["ref_id"]).first()
    if reference is None:
        raise BadRequest("Reference does not exist")
    index = index_current(reference_id=reference.pk)
    if index is None:
        raise BadRequest("The reference has no ready index: build one first")
    if problem := hooks.reference_problem(reference):
        raise BadRequest(problem)
    return workflow, reference, index, _subtractions(data.get("subtractions") or [])


def _subtractions(ids: list[str]) -> list[Subtraction]:
    subtractions = subtractions_get(ids=ids)
    not_ready = [s.name for s in subtractions if not s.ready]
    if not_ready:
        raise BadRequest(f"Subtractions are not ready yet: {', '.join(not_ready)}")
    return subtractions


def _create(
    *, user: User, sample: Sample, workflow: str, reference: Reference, index: Index, subtractions: list[Subtraction]
) -> Analysis:
    if not sample.ready:
        raise Conflict(f"Sample {sample.name} is not ready yet")
    if sample.is_legacy:
        # Its reads are still in an older release's form (uncompressed reads_1.fastq, ...), which no workflow reads.
        raise Conflict(f"Sample {sample.name} is a legacy sample: update it first (its Update button)")
    if problem := _workflow_class(workflow).sample_problem(sample):
        raise BadRequest(problem)
    analysis = Analysis.objects.create(
        workflow=workflow,
        sample=sample,
        reference=reference,
        reference_name=reference.name,
        index=index,
        index_version=index.version,
        user=user,
    )
    analysis.subtractions.set(subtractions)
    job_attach(
        instance=analysis,
        workflow=workflow,
        args={
            "analysis_id": analysis.pk,
            "ref_id": reference.pk,
            "sample_id": sample.pk,
            "sample_name": sample.name,
            "index_id": index.pk,
            "subtractions": [s.pk for s in subtractions],
        },
        user=user,
    )
    _sample_workflows_changed(sample_id=sample.pk)
    return analysis


def _sample_workflows_changed(*, sample_id: str) -> None:
    """The sample's `workflows` (and legacy `nuvs`/`pathoscope` tags) follow its analyses: tell its readers."""
    from core import events

    events.dispatch(interface="samples", operation="update", ids=[sample_id])


@transaction.atomic
def analysis_create(*, user: User, sample: Sample, data: dict[str, Any]) -> Analysis:
    """Start an analysis of one sample with the newest ready index of a reference (write right on the sample)."""
    workflow, reference, index, subtractions = _checked(data)
    return _create(
        user=user, sample=sample, workflow=workflow, reference=reference, index=index, subtractions=subtractions
    )


@transaction.atomic
def analyses_create(*, user: User, samples: list[Sample], data: dict[str, Any]) -> list[Analysis]:
    """Start the same analysis on several samples at once (all or none).

    Without `subtractions`, each sample is analysed with its own default subtractions.
    """
    workflow, reference, index, chosen = _checked(data)
    own = data.get("subtractions") is None
    return [
        _create(
            user=user,
            sample=sample,
            workflow=workflow,
            reference=reference,
            index=index,
            subtractions=_subtractions([s.pk for s in sample.subtractions.all()]) if own else chosen,
        )
        for sample in samples
    ]


@transaction.atomic
def analysis_finish(*, analysis_id: str, results: dict[str, Any]) -> None:
    """The workflow finished: store the results, mark it ready, and let the workflow add its own finish (PathoScope
    keeps the OTUs hit as built into the index and draws the coverage lines)."""
    Analysis.objects.filter(pk=analysis_id).update(
        results=results,
        ready=True,
        updated_at=timezone.now(),
        coverage_lines=None,
        otu_numbers=None,
        summary=None,
        headline=None,
    )
    analysis = Analysis.objects.select_related("index").filter(pk=analysis_id).first()
    if analysis is not None:
        _workflow_class(analysis.workflow).finished(analysis, results)
        summary_fill(analysis)  # the overview's headline (PathoScope's formatting above already kept it)
        _sample_workflows_changed(sample_id=analysis.sample_id)
    from core import events

    events.dispatch(interface="analyses", operation="update", ids=[analysis_id])


def analysis_summary_fill(analysis: Analysis) -> None:
    """Keep the overview's summary of a ready analysis that has none (one finished before summaries were kept)."""
    summary_fill(analysis)


def analysis_fail(*, analysis_id: str) -> None:
    """The workflow failed, was cancelled or was lost: the analysis stays listed, failed (its job says why), without
    its partial files, to be tried again or removed."""
    analysis = Analysis.objects.filter(pk=analysis_id).first()
    if analysis is None:
        return
    shutil.rmtree(analysis_path(analysis), ignore_errors=True)
    AnalysisFile.objects.filter(analysis_id=analysis_id).delete()
    from core import events

    events.dispatch(interface="analyses", operation="update", ids=[analysis_id])
    _sample_workflows_changed(sample_id=analysis.sample_id)


@transaction.atomic
def analysis_retry(*, analysis: Analysis, user: User) -> Analysis:
    """Run a failed analysis again with what it was started with (sample, index, subtractions): a new job."""
    # The row alone is locked (PostgreSQL refuses FOR UPDATE across the outer joins of nullable job and index).
    analysis = Analysis.objects.select_for_update().get(pk=analysis.pk)
    if analysis.ready:
        raise Conflict("The analysis is ready: there is nothing to try again")
    job = analysis.job
    if job is None or job.state in ACTIVE_STATES:
        raise Conflict("Analysis is still running")
    if analysis.index is None or not analysis.index.ready:
        raise BadRequest("The index the analysis used was removed: start a new analysis")
    missing = [s for s in job.args.get("subtractions", []) if not Subtraction.objects.filter(pk=s, ready=True).exists()]
    if missing:
        raise BadRequest(f"Subtractions no longer exist: {', '.join(missing)}")
    if problem := _workflow_class(analysis.workflow).start_problem():
        raise BadRequest(problem)
    job_attach(instance=analysis, workflow=analysis.workflow, args=dict(job.args), user=user)
    _sample_workflows_changed(sample_id=analysis.sample_id)
    return analysis


def analysis_delete(*, analysis: Analysis) -> None:
    """Delete an analysis (409 while it runs)."""
    job_refuse_delete(instance=analysis, busy="Analysis is still running")
    folder = analysis_path(analysis)
    analysis.delete()
    shutil.rmtree(folder, ignore_errors=True)
    _sample_workflows_changed(sample_id=analysis.sample_id)


@transaction.atomic
def analysis_files_record(*, analysis_id: str) -> list[AnalysisFile]:
    """Record every known result file present in the analysis folder (again: sizes are refreshed, nothing doubles)."""
    from analyses.constants import OTU_READS_DESCRIPTION, OTU_READS_FILE, RESULT_FILES

    analysis = Analysis.objects.select_for_update().filter(pk=analysis_id).first()
    if analysis is None:
        return []
    folder = analysis_path(analysis)
    for name, known in RESULT_FILES.items():
        path = folder / name
        if path.is_file():
            AnalysisFile.objects.update_or_create(
                analysis=analysis,
                name=name,
                defaults={
                    "name_on_disk": name,
                    "format": known.format,
                    "size": path.stat().st_size,
                    "description": known.description,
                },
            )
    for path in sorted(folder.glob(OTU_READS_FILE.format(otu_id="*"))):
        otu_id = path.name[len("reads_") : -len(".fq.gz")]
        AnalysisFile.objects.update_or_create(
            analysis=analysis,
            name=path.name,
            defaults={
                "name_on_disk": path.name,
                "format": AnalysisFile.Format.FASTQ,
                "size": path.stat().st_size,
                "description": OTU_READS_DESCRIPTION.format(otu_id=otu_id),
            },
        )
    return list(AnalysisFile.objects.filter(analysis=analysis).order_by("id"))
