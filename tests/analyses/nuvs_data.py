"""NuVs analyses for tests: the real vFam HMMs installed, a contig cut from Raspberry ringspot virus RNA 2 (the
virus the rprsv sample carries), results in the stored shape and the result files in the analysis folder."""

from __future__ import annotations

import gzip
import json
from typing import Any

from analyses.models import Analysis
from analyses.selectors import analysis_path
from samples.models import Sample
from tests.conftest import SHARED

HMM_DATA = SHARED / "data" / "hmm"
DEMO = SHARED / "data" / "references" / "demo-plant-viruses.json.gz"


def install_hmms() -> dict[int, str]:
    """Install the real vFam HMMs (profiles and annotations) in this process; their annotation id by cluster."""
    from hmm.models import HMM
    from hmm.services import hmm_install_path

    hmm_install_path(path=HMM_DATA, user=None)
    return dict(HMM.objects.values_list("cluster", "id"))


def rprsv_rna2(start: int = 0, length: int = 1200) -> str:
    """A stretch of Raspberry ringspot virus RNA 2 (GenBank AY310445) from the demo reference."""
    data = json.loads(gzip.decompress(DEMO.read_bytes()))
    for otu in data["otus"]:
        for isolate in otu["isolates"]:
            for sequence in isolate["sequences"]:
                if sequence["accession"] == "AY310445":
                    return sequence["sequence"][start : start + length]
    raise LookupError("AY310445 is not in the demo reference")


def hmm_hit(hmm_id: str, full_e: float, score: float = 100.0) -> dict[str, Any]:
    """An HMM hit of an ORF as the workflow stores it."""
    return {
        "hit": hmm_id,
        "full_e": full_e,
        "full_score": score,
        "full_bias": 0.1,
        "best_e": full_e * 2,
        "best_bias": 0.2,
        "best_score": score - 1,
    }


def orf(index: int, pos: list[int], hits: list[dict[str, Any]], *, strand: int = 1, frame: int = 1) -> dict:
    """An ORF as the workflow stores it (the protein is a plausible one of the right length)."""
    length = abs(pos[1] - pos[0]) // 3
    return {
        "index": index,
        "frame": frame,
        "strand": strand,
        "pos": pos,
        "pro": "M" + "KVL" * (length // 3),
        "hits": hits,
    }


def nuvs_results(clusters: dict[int, str], *, purged: str = "purged00") -> dict[str, Any]:
    """Three contigs: annotated ORFs and an unannotated one; one ORF hit; no ORF. `purged`: an HMM gone since."""
    first, second = sorted(clusters)[:2]
    return {
        "hits": [
            {
                "index": 0,
                "sequence": rprsv_rna2(0, 1200),
                "orfs": [
                    orf(0, [10, 910], [hmm_hit(clusters[first], 1e-30, 120.5), hmm_hit(clusters[second], 3e-12)]),
                    orf(1, [1150, 400], [hmm_hit(purged, 4e-6, 30.0)], strand=-1, frame=2),
                    orf(2, [500, 800], [], frame=3),
                ],
            },
            {
                "index": 1,
                "sequence": rprsv_rna2(1500, 900),
                "orfs": [orf(0, [0, 600], [hmm_hit(clusters[second], 2e-8), hmm_hit(clusters[first], 5e-9)])],
            },
            {"index": 2, "sequence": rprsv_rna2(2600, 400), "orfs": []},
        ]
    }


def nuvs_analysis(
    user, results: dict[str, Any] | None, *, ready: bool = True, sample: Sample | None = None
) -> Analysis:
    """A NuVs analysis of a real sample row holding `results`, with NuVs' result files in its folder."""
    if sample is None:
        sample = Sample.objects.create(name="Raspberry leaf 7", user=user, ready=True)
    analysis = Analysis.objects.create(workflow="nuvs", sample=sample, user=user, ready=ready, results=results)
    if results is not None:
        folder = analysis_path(analysis)
        folder.mkdir(parents=True, exist_ok=True)
        contigs = "".join(f">NODE_{c['index']}\n{c['sequence']}\n" for c in results["hits"])
        (folder / "assembly.fa.gz").write_bytes(gzip.compress(contigs.encode()))
        orfs = "".join(f">sequence_{c['index']}.{o['index']}\n{o['pro']}\n" for c in results["hits"] for o in c["orfs"])
        (folder / "orfs.fa.gz").write_bytes(gzip.compress(orfs.encode()))
        (folder / "hmm.tsv").write_text("\t".join(["hit", "sequence_index", "orf_index", "full_e"]) + "\n")
    return analysis
