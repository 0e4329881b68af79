"""Reads of the evidence a PathoScope analysis keeps per hit OTU (`analyses.pathoscope.evidence` writes it).

For each OTU in the result: the reads the EM assigned to it (`reads_<otu id>.fq.gz`) and the consensus of each
sequence of its best isolate (the isolate with the highest weight, first on the result page) from the alignments
of those reads (`consensus.fa.gz`, positions with depth below `results["evidence"]["min_depth"]` as N).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from analyses.constants import OTU_READS_FILE
from analyses.formatting import format_pathoscope, hit_otus
from analyses.models import Analysis
from analyses.selectors import analysis_path
from core import seqio
from core.errors import BadRequest, Conflict, NotFound

BEFORE_EVIDENCE = (
    "This analysis was made before reads and consensus sequences were kept per OTU: analyse the sample again to "
    "get them"
)


def _stem(analysis: Analysis, otu: dict[str, Any]) -> str:
    label = otu.get("abbreviation") or otu.get("name") or otu["id"]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{analysis.sample.name}_{analysis.pk}_{label}").strip("_")


def _evidence(analysis: Analysis, otu_id: str) -> dict[str, Any]:
    """The evidence summary of a hit OTU; 400 for NuVs, 409 before the analysis is ready, 404 when there is none."""
    if analysis.workflow == "nuvs":
        raise BadRequest("Only PathoScope analyses keep reads and consensus sequences per OTU")
    if not analysis.ready or analysis.results is None:
        raise Conflict("Analysis is not ready yet")
    evidence = analysis.results.get("evidence")
    if not isinstance(evidence, dict):
        raise NotFound(BEFORE_EVIDENCE)
    if otu_id not in evidence.get("otus", {}):
        raise NotFound(f"OTU {otu_id} is not among the hits of this analysis")
    return evidence


def _formatted_otu(analysis: Analysis, otu_id: str) -> dict[str, Any]:
    formatted = format_pathoscope(analysis) or {"hits": []}
    otu = next((otu for otu in formatted["hits"] if otu["id"] == otu_id), None)
    if otu is None:
        raise NotFound(f"OTU {otu_id} is not among the hits of this analysis")
    return otu


def otu_reads_file(*, analysis: Analysis, otu_id: str) -> tuple[Path, str]:
    """The FASTQ (gzip) of the reads the EM assigned to a hit OTU, and the name to download it as."""
    _evidence(analysis, otu_id)
    path = analysis_path(analysis) / OTU_READS_FILE.format(otu_id=otu_id)
    if not path.is_file():
        raise NotFound(f"The reads of OTU {otu_id} are missing from the analysis folder")
    return path, f"{_stem(analysis, _formatted_otu(analysis, otu_id))}_reads.fq.gz"


def otu_consensus_fasta(*, analysis: Analysis, otu_id: str) -> tuple[str, str]:
    """The consensus FASTA of every sequence of a hit OTU's best isolate, and the name to download it as."""
    evidence = _evidence(analysis, otu_id)
    path = analysis_path(analysis) / "consensus.fa.gz"
    if not path.is_file():
        raise NotFound("The consensus sequences are missing from the analysis folder")
    otu = _formatted_otu(analysis, otu_id)
    best = otu["isolates"][0]
    document = hit_otus(analysis, [(otu_id, otu["version"])]).get((otu_id, otu["version"]))
    isolate = next((i for i in (document or {}).get("isolates", []) if i["id"] == best["id"]), None)
    # Every sequence of the isolate, segments without a hit too (all N); the hit ones when the OTU is unknown.
    sequences = isolate["sequences"] if isolate is not None else best["sequences"]
    called = {record.name.split()[0]: record.sequence for record in seqio.read_fasta(path)}
    min_depth = evidence.get("min_depth")
    lines = []
    for sequence in sequences:
        bases = called.get(sequence.get("_id") or sequence.get("id"))
        if bases is None:
            raise NotFound(f"The consensus of sequence {sequence.get('accession')} is missing from the analysis")
        segment = f" {sequence['segment']}" if sequence.get("segment") else ""
        lines.append(
            f">{sequence['accession']}_consensus {otu['name']}{segment} ({best['name']}); consensus of the reads "
            f"assigned to the OTU, depth below {min_depth} as N\n"
        )
        lines.extend(bases[i : i + 70] + "\n" for i in range(0, len(bases), 70))
    return "".join(lines), f"{_stem(analysis, otu)}_consensus.fa"
