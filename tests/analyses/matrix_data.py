"""Synthetic but realistic stored PathoScope results for the cross-sample matrix (its tests and bench/matrix.py):
a reference of `otus` OTUs (two segments each, 1-8 kb, as built into a ready index), and `samples` ready samples,
each with one ready analysis whose results are in the workflow's shape (`hits[{id, otu{id, version}, final, initial,
align, coverage, depth}]`): a few OTUs truly present (hundreds to thousands of reads over both segments), a dozen
noise hits (a handful of reads, tiny weights), the depth arrays simulated from 150 nt reads placed at random."""

from __future__ import annotations

from typing import Any

import numpy as np


def _hit(rng: np.random.Generator, sequence: dict, otu_id: str, reads: int, pi: float) -> dict[str, Any]:
    length = len(sequence["sequence"])
    starts = rng.integers(0, max(length - 150, 1), reads)
    diff = np.zeros(length + 1, dtype=np.int64)
    np.add.at(diff, starts, 1)
    np.add.at(diff, np.minimum(starts + 150, length), -1)
    align = np.cumsum(diff[:length])
    numbers = {"pi": round(pi, 10), "best": round(pi, 10), "high": round(pi * 0.9, 10), "low": 0.0, "reads": reads}
    return {
        "id": sequence["_id"],
        "final": numbers,
        "initial": numbers,
        "align": align.tolist(),
        "coverage": round(float(np.count_nonzero(align)) / length, 3),
        "depth": round(float(align.sum()) / length),
        "otu": {"id": otu_id, "version": 0},
    }


def synthetic_matrix(
    *, samples: int, otus: int, user: Any, present: int = 4, noise: int = 12, seed: int = 3, name: str = "Synthetic"
) -> tuple[Any, list[Any]]:
    """Create the reference, its index and OTUs, and the samples with one ready analysis each; returns the
    reference and the analyses (their matrix numbers not computed yet, as for analyses finished before they were
    kept)."""
    from analyses.models import Analysis
    from indexes.models import Index, IndexOTU
    from otus.models import OTU
    from references.models import Reference
    from samples.models import Sample

    rng = np.random.default_rng(seed)
    reference = Reference.objects.create(name=name, user=user)
    documents: dict[str, dict] = {}
    rows = []
    for number in range(otus):
        otu = OTU(reference=reference, name=f"Virus {number:04d}", abbreviation=f"V{number:04d}", verified=True)
        rows.append(otu)
        isolate = {"id": f"i{number:06d}", "source_type": "isolate", "source_name": "A", "default": True}
        sequences = [
            {
                "_id": f"{otu.pk}{segment}",
                "accession": f"NC_{number:05d}{segment}",
                "definition": f"Virus {number:04d} RNA{segment}",
                "segment": None,
                "sequence": "A" * int(rng.integers(1000, 8000 if segment == 1 else 4000)),
            }
            for segment in (1, 2)
        ]
        documents[otu.pk] = {
            "_id": otu.pk,
            "name": otu.name,
            "abbreviation": otu.abbreviation,
            "schema": [],
            "isolates": [{**isolate, "sequences": sequences}],
        }
    OTU.objects.bulk_create(rows, batch_size=500)
    index = Index.objects.create(
        reference=reference, version=0, ready=True, manifest=dict.fromkeys(documents, 0), user=user
    )
    IndexOTU.objects.bulk_create(
        [IndexOTU(index=index, otu_id=otu_id, version=0, document=document) for otu_id, document in documents.items()],
        batch_size=200,
    )
    otu_ids = list(documents)
    made = Sample.objects.bulk_create(
        [Sample(name=f"{name} sample {number:04d}", user=user, ready=True) for number in range(samples)]
    )
    analyses = []
    for sample in made:
        chosen = rng.choice(len(otu_ids), size=min(present + noise, len(otu_ids)), replace=False)
        hits = []
        for rank, position in enumerate(chosen):
            otu_id = otu_ids[position]
            truly = rank < present
            for sequence in documents[otu_id]["isolates"][0]["sequences"]:
                reads = int(rng.integers(200, 3000)) if truly else int(rng.integers(1, 6))
                pi = float(rng.uniform(0.05, 0.5)) if truly else float(rng.uniform(1e-7, 1e-3))
                hits.append(_hit(rng, sequence, otu_id, reads, pi))
        hits.sort(key=lambda hit: -hit["final"]["pi"])
        results = {"read_count": 20_000, "subtracted_count": 0, "hits": hits}
        analyses.append(
            Analysis(
                sample=sample,
                reference=reference,
                reference_name=reference.name,
                index=index,
                index_version=0,
                user=user,
                ready=True,
                results=results,
            )
        )
    Analysis.objects.bulk_create(analyses, batch_size=50)
    return reference, analyses
