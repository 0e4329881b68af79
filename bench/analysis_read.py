#!/usr/bin/env python
"""Analysis read benchmark: GET /api/analyses/{id} of a PathoScope analysis with 50 hits, with the hit OTUs
rebuilt from history and its coverage lines drawn on every read (the old path), and read as built into the index
(`indexes.IndexOTU`) with the lines drawn once, when the analysis finished (`Analysis.coverage_lines`).

    .venv/bin/python bench/analysis_read.py [--hits 50] [--gets 30] [--versions 4] [--versions-after 4]

What it does (figures in bench/README.md):

1. makes a throwaway data path with its own SQLite database (`--database-url` for another, empty, one) and runs
   `manage.py migrate`; creates one administrator;
2. imports the demo reference scaled to enough OTUs (`reference_import.scaled_reference`: copies of the 24 demo
   OTUs with new ids and 1 % of their nucleotides changed) with the real `import_reference` job;
3. gives each OTU that the analysis will hit `--versions` edits through the OTU services (abbreviation, sequence
   definition, host, one nucleotide), builds the index with the real `build_index` job (bowtie2-build), then
   makes `--versions-after` more edits of the same kinds: the analysis reads versions that history must patch
   back to, as it must for any analysis older than the latest edits of its OTUs;
4. creates a sample and an analysis of that index and stores results in the workflow's shape (`read_count`,
   `subtracted_count`, `hits[{id, otu{id, version}, final, initial, align, coverage, depth}]`): one hit per
   sequence of those OTUs until `--hits`, each with a depth array from ~200 simulated 150 nt reads; stores them
   with `analysis_finish` (the workflow's last step, which now keeps the hit OTUs with the index);
5. times `--gets` GETs through Django's test client, alternating the two paths (old: `analyses.formatting.hit_otus`
   swapped for `tests.analyses.replay.hit_otus_replayed`, one history replay per OTU per read, as before), checks
   that both answer the same JSON, counts their SQL queries; times `hit_otus` alone both ways (the part of a read
   that changed); and times the reads of an analysis finished before the change (its OTUs not kept yet: the first
   read keeps them);
6. prints the table and removes the temp dir (`--keep` keeps it).

Needs Redis (the job runner's resource limiter; `--redis-url`, default redis://127.0.0.1:6379/10) and bowtie2.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import sandbox, stored_upload
from reference_import import scaled_reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=50, help="hits (sequences) in the analysis")
    parser.add_argument("--gets", type=int, default=30, help="GETs timed per path")
    parser.add_argument("--versions", type=int, default=4, help="edits of each hit OTU before the build")
    parser.add_argument("--versions-after", type=int, default=4, help="edits of each hit OTU after the build")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database-url", help="an empty database to use instead of a temp SQLite file")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"))
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    with sandbox(
        prefix="virtool-bench-read", redis_url=args.redis_url, database_url=args.database_url, keep=args.keep
    ) as temp:
        run(args, temp)


def edit(otu_id: str, step: int, user) -> None:
    """One curation edit of an OTU, through the same services as the API (so one history change each)."""
    from otus.models import OTU
    from otus.services import otu_update, sequence_update

    otu = OTU.objects.get(pk=otu_id)
    sequence = otu.sequences.order_by("position", "id").first()
    kind = step % 4
    if kind == 0:
        base = otu.abbreviation.split("~")[0] or otu_id  # abbreviations are unique within a reference
        otu_update(otu_id=otu_id, data={"abbreviation": f"{base}~{step}"}, user=user)
    elif kind == 1:
        data = {"definition": f"{sequence.definition.split(' (rev')[0]} (rev {step})"}
        sequence_update(otu_id=otu_id, isolate_id=sequence.isolate_id, sequence_id=sequence.pk, data=data, user=user)
    elif kind == 2:
        data = {"host": f"host {step}"}
        sequence_update(otu_id=otu_id, isolate_id=sequence.isolate_id, sequence_id=sequence.pk, data=data, user=user)
    else:  # a corrected base: the diff carries the whole old and new sequence, as Virtool's does
        nucleotides = sequence.sequence
        position = (step * 7919) % len(nucleotides)
        replacement = "A" if nucleotides[position] != "A" else "C"
        data = {"sequence": nucleotides[:position] + replacement + nucleotides[position + 1 :]}
        sequence_update(otu_id=otu_id, isolate_id=sequence.isolate_id, sequence_id=sequence.pk, data=data, user=user)


def simulated_hit(rng: np.random.Generator, sequence, version: int, pi: float, reads: int = 200) -> dict:
    """A hit in the workflow's shape, its depth from `reads` 150 nt reads placed at random."""
    length = len(sequence.sequence)
    starts = rng.integers(0, max(length - 150, 1), reads)
    diff = np.zeros(length + 1, dtype=np.int64)
    np.add.at(diff, starts, 1)
    np.add.at(diff, np.minimum(starts + 150, length), -1)
    align = np.cumsum(diff[:length]).tolist()
    numbers = {"pi": round(pi, 10), "best": round(pi, 10), "high": round(pi, 10), "low": 0.0, "reads": reads}
    return {
        "id": sequence.pk,
        "final": numbers,
        "initial": numbers,
        "align": align,
        "coverage": round(1 - align.count(0) / length, 3),
        "depth": round(sum(align) / length),
        "otu": {"id": sequence.otu_id, "version": version},
    }


def run(args: argparse.Namespace, temp: Path) -> None:
    from unittest import mock

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from analyses.formatting import coverage_line
    from analyses.formatting import hit_otus as formatting_hit_otus
    from analyses.models import Analysis
    from analyses.services import analysis_finish
    from indexes.models import Index, IndexOTU
    from indexes.services import index_create
    from jobs.runner import job_execute
    from otus.models import OTU, Sequence
    from references.models import Reference
    from references.services import reference_create
    from samples.models import Sample
    from tests.analyses.replay import hit_otus_replayed, replaying
    from users.models import User

    admin = User.objects.create_user("bench", "bench-password", administrator_role="full")
    rng = np.random.default_rng(args.seed)
    # Enough OTUs that their sequences give `--hits` hits (the demo has 40 sequences in 24 OTUs).
    document = scaled_reference(otus=24, sequences=args.hits + 40)
    (temp / "reference.json.gz").write_bytes(gzip.compress(json.dumps(document).encode()))
    upload = stored_upload(admin, temp / "reference.json.gz", "reference")

    started = time.perf_counter()
    with mock.patch("jobs.services.job_enqueue"):  # this process runs the jobs itself
        reference = reference_create(user=admin, data={"import_from": upload.name_on_disk, "name": "Bench"})
        assert job_execute(job_id=reference.job_id) == "complete"
        hit_otus: list[str] = []
        count = 0
        for otu in OTU.objects.filter(reference_id=reference.pk).order_by("name", "id"):
            if count >= args.hits:
                break
            hit_otus.append(otu.pk)
            count += otu.sequences.count()
        for step in range(args.versions):
            for otu_id in hit_otus:
                edit(otu_id, step, admin)
        index = index_create(reference=Reference.objects.get(pk=reference.pk), user=admin)
        assert job_execute(job_id=index.job_id) == "complete"
        for step in range(args.versions, args.versions + args.versions_after):
            for otu_id in hit_otus:
                edit(otu_id, step, admin)
    index = Index.objects.get(pk=index.pk)
    prepared = time.perf_counter() - started

    sequences = list(Sequence.objects.filter(otu_id__in=hit_otus).order_by("otu__name", "otu_id", "position"))
    sequences = sequences[: args.hits]
    weights = rng.dirichlet(np.ones(len(sequences)) * 0.5)
    hits = [
        simulated_hit(rng, sequence, index.manifest[sequence.otu_id], float(weight))
        for sequence, weight in zip(sequences, sorted(weights, reverse=True), strict=True)
    ]
    results = {"read_count": 200 * len(hits), "subtracted_count": 0, "hits": hits}
    sample = Sample.objects.create(name="bench", user=admin, ready=True)
    analyses = []
    for _ in range(2):
        analysis = Analysis.objects.create(
            sample=sample, reference=index.reference, index=index, index_version=index.version, user=admin
        )
        analyses.append(analysis)
    finish_started = time.perf_counter()
    analysis_finish(analysis_id=analyses[0].pk, results=results)
    finish = time.perf_counter() - finish_started
    stored_bytes = sum(len(json.dumps(row.document)) for row in IndexOTU.objects.filter(index=index))

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    url = f"/api/analyses/{analyses[0].pk}"

    def get() -> tuple[float, bytes, int]:
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - t0
        assert response.status_code == 200, response.content[:200]
        return elapsed, response.content, len(queries)

    def get_old() -> tuple[float, bytes, int]:
        with replaying():
            return get()

    get()
    get_old()  # warm both paths (imports, caches) before timing
    timings: dict[str, list[float]] = {"old": [], "new": []}
    bodies: dict[str, bytes] = {}
    query_counts: dict[str, int] = {}
    for _ in range(args.gets):
        for name, fetch in (("old", get_old), ("new", get)):
            elapsed, body, queries = fetch()
            timings[name].append(elapsed)
            bodies[name] = body
            query_counts[name] = queries
    same = json.loads(bodies["old"]) == json.loads(bodies["new"])

    # The part of a read that changed: the hit OTUs' documents alone, both ways, on the same analysis.
    analysis = Analysis.objects.select_related("index").get(pk=analyses[0].pk)
    keys = list(dict.fromkeys((hit["otu"]["id"], hit["otu"]["version"]) for hit in hits))
    documents: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(args.gets):
        for name, function in (("old", hit_otus_replayed), ("new", formatting_hit_otus)):
            t0 = time.perf_counter()
            function(analysis, keys)
            documents[name].append(time.perf_counter() - t0)
    # And the other part the old path paid on every read: drawing the coverage lines (change points, then VW).
    lines = []
    for _ in range(5):
        t0 = time.perf_counter()
        for hit in hits:
            coverage_line(hit["align"])
        lines.append(time.perf_counter() - t0)

    # An analysis finished before indexes kept OTUs and analyses their lines: results only, no rows for this index.
    IndexOTU.objects.filter(index=index).delete()
    Analysis.objects.filter(pk=analyses[1].pk).update(results=results, ready=True, coverage_lines=None)
    url = f"/api/analyses/{analyses[1].pk}"
    first_read, first_body, _ = get()
    same_first = json.loads(first_body)["results"] == json.loads(bodies["new"])["results"]
    second_read, _, _ = get()

    old = statistics.median(timings["old"]) * 1000
    new = statistics.median(timings["new"]) * 1000
    print()
    print(
        f"{len(hits)} hits in {len(hit_otus)} OTUs ({args.versions} edits before the build, {args.versions_after} "
        f"after; {sum(len(h['align']) for h in hits) / 1e3:.0f} kb of depth arrays); {args.gets} GETs per path, "
        f"alternating; set-up {prepared:.1f} s; database "
        f"{'SQLite' if not args.database_url else args.database_url.split(':', 1)[0]}"
    )
    print()
    fastest = min(timings["old"]) * 1000
    print("| path | ms per GET: median | min | max | SQL queries per GET | speed-up: median | min |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, name in (
        ("before: each hit OTU rebuilt from history, each line drawn", "old"),
        ("after: OTUs as built into the index, lines as drawn at the end", "new"),
    ):
        values = [t * 1000 for t in timings[name]]
        print(
            f"| {label} | {statistics.median(values):.1f} | {min(values):.1f} | {max(values):.1f} "
            f"| {query_counts[name]} | {old / statistics.median(values):.2f}x | {fastest / min(values):.2f}x |"
        )
    print()
    old_documents = statistics.median(documents["old"]) * 1000
    new_documents = statistics.median(documents["new"]) * 1000
    print(
        f"of which the hit OTUs' documents (`hit_otus`, median of {args.gets}): before {old_documents:.1f} ms, "
        f"after {new_documents:.1f} ms ({old_documents / new_documents:.0f}x); and the coverage lines, drawn on "
        f"every read before, once now (`coverage_line` of the {len(hits)} hits, median of 5: "
        f"{statistics.median(lines) * 1000:.1f} ms)"
    )
    print(f"same JSON on both paths: {'yes' if same else 'NO'}")
    print(
        f"analysis_finish keeping {len(hit_otus)} OTUs: {finish * 1000:.0f} ms, {stored_bytes / 1e3:.0f} kB stored; "
        f"an analysis finished before the change: first GET {first_read * 1000:.1f} ms (keeps its OTUs and lines), "
        f"then {second_read * 1000:.1f} ms; same results: {'yes' if same_first else 'NO'}"
    )
    print(
        f"speed-up: {old / new:.2f}x by medians ({old:.1f} -> {new:.1f} ms per GET), "
        f"{fastest / (min(timings['new']) * 1000):.2f}x by the fastest GETs (less disturbed by other load)"
    )
    if not (same and same_first):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
