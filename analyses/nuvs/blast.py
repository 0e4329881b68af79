"""Writes for NCBI BLAST searches of NuVs contigs: start one (replacing the contig's previous one), remove it, and
take it one step further (submit, check, fetch the result), which the BLAST task calls until the search ends.

Every change is saved with `last_checked_at` and `updated_at`, touches the analysis's `updated_at` and is
dispatched as an `analyses` update, so that an open analysis page follows the search.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analyses.models import Analysis, NuvsBlast
from analyses.nuvs import ncbi
from analyses.nuvs.results import nuvs_contig, nuvs_contigs
from analyses.tasks import nuvs_blast_task
from core import events
from core.errors import ApplicationError, BadRequest

log = logging.getLogger(__name__)

# `sequence_index` is a 32-bit column: a larger index names no contig (and must not reach the database).
INDEX_MAX = 2**31 - 1


@dataclass(frozen=True)
class BlastStep:
    """When and how to take the next step of a search: None when the search has ended (or is gone)."""

    delay: float
    checks: int
    failures: int


def _contig_sequence(analysis: Analysis, sequence_index: int) -> str:
    contig = nuvs_contig(nuvs_contigs(analysis), sequence_index) if 0 <= sequence_index <= INDEX_MAX else None
    if contig is None:
        raise BadRequest(f"Sequence {sequence_index} does not exist in this analysis")
    return str(contig["sequence"])


def _touch(analysis_id: str) -> None:
    """The analysis changed with its search: newer `updated_at`, and open pages are told (after commit)."""
    Analysis.objects.filter(pk=analysis_id).update(updated_at=timezone.now())
    events.dispatch(interface="analyses", operation="update", ids=[analysis_id])


@transaction.atomic
def nuvs_blast_create(*, analysis: Analysis, sequence_index: int) -> NuvsBlast:
    """Start a BLAST search of one contig at NCBI (replacing its last one); the BLAST task submits and follows it."""
    _contig_sequence(analysis, sequence_index)
    NuvsBlast.objects.filter(analysis=analysis, sequence_index=sequence_index).delete()
    now = timezone.now()
    blast = NuvsBlast.objects.create(
        analysis=analysis,
        sequence_index=sequence_index,
        ready=False,
        interval=math.ceil(settings.VIRTOOL_BLAST_INTERVAL),
        last_checked_at=now,
        created_at=now,
        updated_at=now,
    )
    _touch(analysis.pk)
    transaction.on_commit(lambda: nuvs_blast_task.delay(blast.pk, 0, 0))
    return blast


@transaction.atomic
def nuvs_blast_delete(*, analysis: Analysis, sequence_index: int) -> None:
    """Forget the BLAST search of one contig (its task stops at its next step)."""
    if analysis.workflow != "nuvs":
        raise BadRequest("Not a NuVs analysis")
    if (
        0 <= sequence_index <= INDEX_MAX
        and NuvsBlast.objects.filter(analysis=analysis, sequence_index=sequence_index).delete()[0]
    ):
        _touch(analysis.pk)


@transaction.atomic
def _save(blast: NuvsBlast, **fields: Any) -> bool:
    now = timezone.now()
    changed = NuvsBlast.objects.filter(pk=blast.pk).update(last_checked_at=now, updated_at=now, **fields)
    if changed:
        _touch(blast.analysis_id)
    return bool(changed)


def _fail(blast: NuvsBlast, error: str) -> None:
    log.info("BLAST %s of analysis %s ended in error: %s", blast.rid, blast.analysis_id, error)
    _save(blast, error=error, ready=False)


def _interval(seconds: float) -> int:
    """The interval shown to people: whole seconds, at least one."""
    return max(1, math.ceil(seconds))


def nuvs_blast_check(*, blast_id: int, checks: int, failures: int) -> BlastStep | None:
    """Take the search one step: submit it, or ask NCBI where it is and fetch the result once ready.

    `checks` is the number of steps taken so far: a step is claimed by moving it on with a conditional UPDATE, so a
    message delivered twice takes one step. `failures` counts the transient failures in a row, which back off
    doubling and end the search in an error past `VIRTOOL_BLAST_RETRIES`.
    """
    claimed = NuvsBlast.objects.filter(pk=blast_id, checks=checks, ready=False, error__isnull=True).update(
        checks=checks + 1
    )
    if not claimed:
        return None  # gone (replaced, removed), ended, or this step was taken by another delivery
    blast = NuvsBlast.objects.select_related("analysis").get(pk=blast_id)
    try:
        return _step(blast, checks=checks, failures=failures)
    except Exception as error:  # a step that breaks (or runs out of time) must not leave the search running forever
        log.exception("BLAST %s of analysis %s broke", blast.rid, blast.analysis_id)
        _fail(blast, f"The BLAST search stopped on an unexpected error ({error.__class__.__name__}). Try again.")
        return None


def _step(blast: NuvsBlast, *, checks: int, failures: int) -> BlastStep | None:
    base, cap = settings.VIRTOOL_BLAST_INTERVAL, settings.VIRTOOL_BLAST_MAX_INTERVAL
    if timezone.now() - blast.created_at > timedelta(seconds=settings.VIRTOOL_BLAST_TIMEOUT):
        minutes = max(1, round(settings.VIRTOOL_BLAST_TIMEOUT / 60))
        which = f"request {blast.rid}" if blast.rid else "NCBI never accepted it"
        _fail(blast, f"NCBI BLAST did not finish within {minutes} minutes ({which}). Try again later.")
        return None
    try:
        if blast.rid is None:
            rid, rtoe = ncbi.blast_submit(sequence=_contig_sequence(blast.analysis, blast.sequence_index))
            delay = min(max(float(rtoe), base), cap)
            _save(blast, rid=rid, interval=_interval(delay))
            log.info("BLAST %s submitted for contig %s of analysis %s", rid, blast.sequence_index, blast.analysis_id)
            return BlastStep(delay=delay, checks=checks + 1, failures=0)
        info = ncbi.blast_status(rid=blast.rid)
        if info.status == "WAITING":
            delay = min(base * (checks + 1), cap)
            _save(blast, interval=_interval(delay))
            return BlastStep(delay=delay, checks=checks + 1, failures=0)
        if info.status == "READY":
            result = ncbi.blast_result(rid=blast.rid)
            _save(blast, ready=True, result=result, error=None)
            log.info("BLAST %s ready with %d hits", blast.rid, len(result["hits"]))
            return None
        if info.status == "FAILED":
            _fail(blast, f"NCBI reports that the BLAST search {blast.rid} failed. Try again later.")
            return None
        # UNKNOWN: NCBI may not know a search it has just accepted yet; later it means the search expired.
        if failures >= settings.VIRTOOL_BLAST_RETRIES:
            _fail(blast, f"NCBI no longer knows the BLAST search {blast.rid} (it may have expired). Try again.")
            return None
        raise ncbi.NCBIUnavailable(f"NCBI does not know the search {blast.rid} yet")
    except ApplicationError as error:
        _fail(blast, f"The contig cannot be searched: {error.message}")
        return None
    except ncbi.NCBIUnavailable as error:
        if failures >= settings.VIRTOOL_BLAST_RETRIES:
            _fail(blast, f"NCBI BLAST could not be reached: {error}. Try again later.")
            return None
        delay = min(base * 2**failures, cap)
        log.info("BLAST %s: NCBI unavailable (%s); next try in %.1f s", blast.rid, error, delay)
        _save(blast, interval=_interval(delay))
        return BlastStep(delay=delay, checks=checks + 1, failures=failures + 1)
    except ncbi.NCBIError as error:
        _fail(blast, f"NCBI BLAST gave an answer that cannot be read: {error}.")
        return None
