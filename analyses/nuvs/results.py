"""NuVs results as Virtool 36.x serves them on `GET /api/analyses/{id}` and its client reads them.

The stored contigs (`analyses.nuvs`) get, per HMM hit, the annotation's `cluster`, `families` and `names` (from
the installed HMMs, one query for the whole analysis; a hit whose HMM was purged since keeps its numbers with an
empty annotation), and per contig Virtool's additions (`vt:packages/data/src/analyses/format.ts`):

- `id`: the contig's index (the client selects contigs by it),
- `annotatedOrfCount`: ORFs with at least one hit,
- `e`: the smallest `full_e` over the ORFs' hits, where an ORF without hits counts as 0 (so a contig with an
  unannotated ORF has `e` 0; a contig without ORFs has none),
- `families`: the families of its hits, first seen first, without Virtool's placeholder "None",
- `names`: the protein names of its hits, first seen first,
- `blast`: the contig's NCBI BLAST search (`analyses.models.NuvsBlast`), or null.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rest_framework.fields import DateTimeField

from analyses.models import Analysis, NuvsBlast
from core.errors import BadRequest, Conflict
from hmm.models import HMM

_DATETIME = DateTimeField()


def _when(value: datetime | None) -> str | None:
    return _DATETIME.to_representation(value) if value is not None else None


def blast_document(blast: NuvsBlast) -> dict[str, Any]:
    """A BLAST search as Virtool sends it (`nuvs_blast` row)."""
    return {
        "id": blast.pk,
        "analysis_id": blast.analysis_id,
        "sequence_index": blast.sequence_index,
        "rid": blast.rid,
        "ready": blast.ready,
        "result": blast.result,
        "error": blast.error,
        "interval": blast.interval,
        "last_checked_at": _when(blast.last_checked_at),
        "created_at": _when(blast.created_at),
        "updated_at": _when(blast.updated_at),
    }


def _annotations(hmm_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    rows = HMM.objects.filter(pk__in=set(hmm_ids)).values("id", "cluster", "families", "names")
    return {row["id"]: {"cluster": row["cluster"], "families": row["families"], "names": row["names"]} for row in rows}


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def minimum_e(orfs: list[dict[str, Any]]) -> float | None:
    """Virtool's contig E-value: the least over its ORFs of their best `full_e`, an ORF without hits counting 0."""
    if not orfs:
        return None
    return min(min(hit["full_e"] for hit in orf["hits"]) if orf["hits"] else 0 for orf in orfs)


def format_contig(
    contig: dict[str, Any], annotations: dict[str, dict[str, Any]], blast: dict[str, Any] | None
) -> dict[str, Any]:
    """One stored contig with its hits annotated and Virtool's per-contig figures."""
    empty: dict[str, Any] = {"cluster": None, "families": {}, "names": []}
    orfs = [
        {
            **orf,
            "hits": [{**hit, **annotations.get(str(hit["hit"]), empty)} for hit in orf.get("hits") or []],
        }
        for orf in contig.get("orfs") or []
    ]
    hits = [hit for orf in orfs for hit in orf["hits"]]
    return {
        **contig,
        "id": contig["index"],
        "orfs": orfs,
        "annotatedOrfCount": sum(1 for orf in orfs if orf["hits"]),
        "e": minimum_e(orfs),
        "families": [family for family in _unique(f for hit in hits for f in hit["families"]) if family != "None"],
        "names": _unique(name for hit in hits for name in hit["names"]),
        "blast": blast,
    }


def format_nuvs(analysis: Analysis) -> dict[str, Any] | None:
    """The stored NuVs results formatted for display, or None while there are none."""
    results = analysis.results
    if results is None:
        return None
    contigs = results.get("hits") or []
    annotations = _annotations(
        str(hit["hit"]) for contig in contigs for orf in contig.get("orfs") or [] for hit in orf.get("hits") or []
    )
    blasts = {blast.sequence_index: blast_document(blast) for blast in NuvsBlast.objects.filter(analysis=analysis)}
    return {
        **{key: value for key, value in results.items() if key != "hits"},
        "hits": [format_contig(contig, annotations, blasts.get(contig["index"])) for contig in contigs],
    }


# --- FASTA downloads ------------------------------------------------------------------------------------------

FASTA_WIDTH = 80


def nuvs_contigs(analysis: Analysis) -> list[dict[str, Any]]:
    """The stored contigs of a ready NuVs analysis: 400 for another workflow, 409 while it is not ready."""
    if analysis.workflow != "nuvs":
        raise BadRequest("Not a NuVs analysis")
    if not analysis.ready or analysis.results is None:
        raise Conflict("Analysis is not ready yet")
    return list(analysis.results.get("hits") or [])


def nuvs_contig(contigs: list[dict[str, Any]], sequence_index: int | str) -> dict[str, Any] | None:
    """The contig with this index, or None."""
    return next((contig for contig in contigs if str(contig["index"]) == str(sequence_index)), None)


def fasta_stem(analysis: Analysis) -> str:
    """`{sample name}_{analysis id}` with only letters, digits, `_`, `.` and `-`, for headers and file names."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{analysis.sample.name}_{analysis.pk}").strip("_")


def _wrapped(header: str, sequence: str) -> str:
    lines = [sequence[i : i + FASTA_WIDTH] for i in range(0, len(sequence), FASTA_WIDTH)] or [""]
    return "\n".join([f">{header}", *lines]) + "\n"


def contigs_fasta(analysis: Analysis, contigs: list[dict[str, Any]]) -> str:
    """Contigs as FASTA: `>{sample}_{analysis}_contig_{index} length={bp}`."""
    stem = fasta_stem(analysis)
    return "".join(_wrapped(f"{stem}_contig_{c['index']} length={len(c['sequence'])}", c["sequence"]) for c in contigs)


def orfs_fasta(analysis: Analysis, contigs: list[dict[str, Any]]) -> str:
    """The ORF translations as FASTA: `>{sample}_{analysis}_contig_{i}_orf_{j} strand=… frame=… pos=a-b length=…`,
    with the best HMM hit's cluster and protein name when the ORF has one."""
    stem = fasta_stem(analysis)
    hits = [hit for contig in contigs for orf in contig.get("orfs") or [] for hit in orf.get("hits") or []]
    annotations = _annotations(str(hit["hit"]) for hit in hits)
    records = []
    for contig in contigs:
        for orf in contig.get("orfs") or []:
            start, end = orf["pos"]
            header = (
                f"{stem}_contig_{contig['index']}_orf_{orf['index']} strand={'+' if orf['strand'] >= 0 else '-'} "
                f"frame={orf['frame']} pos={start}-{end} length={len(orf['pro'])}"
            )
            if orf.get("hits"):
                best = min(orf["hits"], key=lambda hit: hit["full_e"])
                annotation = annotations.get(str(best["hit"]))
                if annotation is not None:
                    name = (annotation["names"] or ["unnamed"])[0]
                    header += f" hmm=vFam_{annotation['cluster']} e={best['full_e']:.3g} name={name}"
            records.append(_wrapped(header, orf["pro"]))
    return "".join(records)
