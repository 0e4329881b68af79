#!/usr/bin/env python
"""Reference benchmark: import a large Virtool reference file, then build its index.

    .venv/bin/python bench/reference_import.py --otus 1500 --sequences 2000

What it does (see bench/README.md for the figures):

1. makes a throwaway data path with its own SQLite database (`--database-url` to use another, empty, database)
   and runs `manage.py migrate`; creates one administrator;
2. scales the demo reference (`../shared/data/references/demo-plant-viruses.json.gz`, 24 OTUs, 40 sequences) up to
   at least `--otus` OTUs and `--sequences` sequences: copy k of each OTU gets new OTU, isolate and sequence ids,
   the name suffix " #k", the abbreviation suffix "-k", and 1 % of its nucleotides substituted at random (so that
   bowtie2 indexes distinct genomes); written as `reference.json.gz` and stored as a `reference` upload;
3. imports it the way the API does (`references.services.reference_create(import_from=...)`, which reads and
   validates the whole file before anything is created) and then runs the `import_reference` job in this process
   (`jobs.runner.job_execute`, the code a Celery worker runs);
4. starts a build (`indexes.services.index_create`) and runs the `build_index` job the same way; its steps' start
   times (the job's status records) give the time of each step, including bowtie2-build's;
5. runs `bowtie2-build --threads P` alone on the same FASTA, as the reference point for "the build is mostly
   bowtie2";
6. prints the table and removes the temp dir (`--keep` keeps it).

Needs Redis (REDIS_URL, default redis://127.0.0.1:6379/10: the job runner's per-host resource limiter) and bowtie2.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import SHARED, sandbox, stored_upload

DEMO = SHARED / "references" / "demo-plant-viruses.json.gz"
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def scaled_reference(otus: int, sequences: int, seed: int = 1) -> dict:
    """The demo reference copied until it has at least `otus` OTUs and `sequences` sequences."""
    demo = json.loads(gzip.decompress(DEMO.read_bytes()))
    per_copy_sequences = sum(len(i["sequences"]) for o in demo["otus"] for i in o["isolates"])
    copies = max(-(-otus // len(demo["otus"])), -(-sequences // per_copy_sequences))
    rng = np.random.default_rng(seed)
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)
    counter = 0

    def new_id() -> str:
        nonlocal counter
        counter += 1
        value, out = counter, []
        for _ in range(8):
            value, digit = divmod(value, 36)
            out.append(ALPHABET[digit])
        return "".join(reversed(out))

    out = []
    for k in range(copies):
        for otu in demo["otus"]:
            isolates = []
            for isolate in otu["isolates"]:
                sequences_out = []
                for sequence in isolate["sequences"]:
                    nucleotides = np.frombuffer(sequence["sequence"].encode(), dtype=np.uint8).copy()
                    if k:
                        positions = rng.random(nucleotides.size) < 0.01
                        nucleotides[positions] = bases[rng.integers(0, 4, int(positions.sum()))]
                    sequences_out.append({**sequence, "_id": new_id(), "sequence": nucleotides.tobytes().decode()})
                isolates.append({**isolate, "id": new_id(), "sequences": sequences_out})
            out.append(
                {
                    **otu,
                    "_id": new_id(),
                    "name": otu["name"] if k == 0 else f"{otu['name']} #{k}",
                    "abbreviation": (otu["abbreviation"] and f"{otu['abbreviation']}-{k}")
                    if k
                    else otu["abbreviation"],
                    "isolates": isolates,
                }
            )
    return {**demo, "name": "Scaled demo", "otus": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--otus", type=int, default=1500)
    parser.add_argument("--sequences", type=int, default=2000)
    parser.add_argument("--database-url", help="an empty database to use instead of a temp SQLite file")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"))
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()

    with sandbox(
        prefix="virtool-bench-ref", redis_url=args.redis_url, database_url=args.database_url, keep=args.keep
    ) as temp:
        run(args, temp)


def run(args: argparse.Namespace, temp: Path) -> None:
    from unittest import mock

    from indexes.models import Index
    from indexes.selectors import index_path
    from indexes.services import index_create
    from jobs.models import Job
    from jobs.runner import job_execute
    from references.services import reference_create
    from users.models import User

    admin = User.objects.create_user("bench", "bench-password", administrator_role="full")

    started = time.perf_counter()
    document = scaled_reference(args.otus, args.sequences)
    data = gzip.compress(json.dumps(document).encode(), compresslevel=6)
    generated = time.perf_counter() - started
    otu_count = len(document["otus"])
    sequence_count = sum(len(i["sequences"]) for o in document["otus"] for i in o["isolates"])
    nucleotides = sum(len(s["sequence"]) for o in document["otus"] for i in o["isolates"] for s in i["sequences"])
    (temp / "reference.json.gz").write_bytes(data)
    upload = stored_upload(admin, temp / "reference.json.gz", "reference")

    with mock.patch("jobs.services.job_enqueue"):  # this process runs the jobs itself
        t0 = time.perf_counter()
        reference = reference_create(user=admin, data={"import_from": upload.name_on_disk, "name": "Scaled"})
        t1 = time.perf_counter()
        assert job_execute(job_id=reference.job_id) == "complete"
        t2 = time.perf_counter()
        reference.refresh_from_db()
        index = index_create(reference=reference, user=admin)
        t3 = time.perf_counter()
        state = job_execute(job_id=index.job_id)
        t4 = time.perf_counter()
    assert state == "complete", Job.objects.get(pk=index.job_id).status[-1]
    steps = {
        record["stage"]: record["timestamp"]
        for record in Job.objects.get(pk=index.job_id).status
        if record.get("stage") and record["state"] == "running"
    }
    import arrow

    def step_seconds(name: str, following: str) -> float:
        return (arrow.get(steps[following]) - arrow.get(steps[name])).total_seconds()

    finished = next(r["timestamp"] for r in Job.objects.get(pk=index.job_id).status if r["state"] == "complete")
    bowtie_step = step_seconds("bowtie_build", "finalize")
    fasta_step = step_seconds("write_fasta", "bowtie_build")
    finalize_step = (arrow.get(finished) - arrow.get(steps["finalize"])).total_seconds()

    folder = index_path(Index.objects.get(pk=index.pk))
    alone = temp / "alone"
    alone.mkdir()
    with gzip.open(folder / "reference.fa.gz", "rb") as source, (alone / "reference.fa").open("wb") as target:
        shutil.copyfileobj(source, target)
    proc = Job.objects.get(pk=index.job_id).proc
    t5 = time.perf_counter()
    subprocess.run(
        ["bowtie2-build", "--threads", str(proc), "reference.fa", "reference"],
        cwd=alone,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bowtie_alone = time.perf_counter() - t5

    import_total = t2 - t0
    build_total = t4 - t3
    database = "SQLite" if not args.database_url else args.database_url.split(":", 1)[0]
    print()
    print(
        f"Reference: {otu_count} OTUs, {sequence_count} sequences, {nucleotides / 1e6:.1f} Mnt, "
        f"file {len(data) / 1e6:.1f} MB gzip (generated in {generated:.1f} s); database {database}; "
        f"build threads {proc}"
    )
    print()
    print(f"| {'phase':<46} | {'seconds':>8} | {'share':>7} |")
    print(f"|{'-' * 48}|{'-' * 10}|{'-' * 9}|")
    rows = [
        ("import: read + validate + create (request)", t1 - t0, import_total),
        ("import: import_reference job", t2 - t1, import_total),
        ("import total (goal < 20 s)", import_total, None),
        ("build: start (manifest, stamp changes)", t3 - t2, None),
        ("build job: write FASTA + JSON", fasta_step, build_total),
        ("build job: bowtie2-build", bowtie_step, build_total),
        ("build job: finalize (gzip FASTA, checks)", finalize_step, build_total),
        ("build total (job, claim to complete)", build_total, None),
        (f"bowtie2-build alone, --threads {proc}", bowtie_alone, None),
    ]
    for label, seconds, whole in rows:
        share = f"{100 * seconds / whole:6.1f}%" if whole else ""
        print(f"| {label:<46} | {seconds:>8.2f} | {share:>7} |")
    print()
    print(
        f"Import {import_total:.1f} s ({'meets' if import_total < 20 else 'MISSES'} the 20 s goal); "
        f"bowtie2-build is {100 * bowtie_step / build_total:.0f} % of the build "
        f"(alone it takes {bowtie_alone:.1f} s, the build {build_total:.1f} s)."
    )


if __name__ == "__main__":
    main()
