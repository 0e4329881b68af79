#!/usr/bin/env python
"""PathoScope workflow benchmark: the whole `pathoscope_bowtie` job on the RpRSV sample scaled up.

    .venv/bin/python bench/pathoscope.py --scale 20

What it does (see bench/README.md for the figures):

1. a throwaway data path with its own SQLite database (`manage.py migrate`) and one administrator;
2. imports the demo reference and builds its index (the real `import_reference` and `build_index` jobs);
3. resamples the RpRSV library (`../shared/data/samples/rprsv_{1,2}.fq.gz`, 10,000 pairs) with replacement to
   `--scale` times as many pairs (mates stay together; each copy gets a unique read name), and makes a sample
   of it with the real `create_sample` job;
4. runs the `pathoscope_bowtie` job in this process (`jobs.runner.job_execute`, the code a worker runs), timing
   every external program it starts (bowtie2, bowtie2-build) by wrapping `JobContext.run`;
5. prints, per step: wall time, time inside bowtie2 / bowtie2-build, and the rest (Python: SAM parsing, EM,
   coverage, report, FASTQ filtering, database); then the share of the whole run that is not bowtie2
   (goal: under a quarter). `--subtraction` adds a host made of random sequence around a fragment of RpRSV RNA2.

Needs Redis (REDIS_URL, default redis://127.0.0.1:6379/10) and bowtie2.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import SHARED, sandbox, stored_upload


def read_fastq(path: Path) -> list[tuple[bytes, bytes, bytes]]:
    """(name, sequence, quality) of every record."""
    with gzip.open(path, "rb") as handle:
        lines = handle.read().splitlines()
    return [(lines[i][1:].split()[0], lines[i + 1], lines[i + 3]) for i in range(0, len(lines), 4)]


def resample(scale: int, target: Path, seed: int = 1) -> tuple[Path, Path]:
    """Write reads_1/2.fq.gz with `scale` times the pairs of the RpRSV library, drawn with replacement."""
    first = read_fastq(SHARED / "samples" / "rprsv_1.fq.gz")
    second = read_fastq(SHARED / "samples" / "rprsv_2.fq.gz")
    rng = random.Random(seed)
    paths = (target / "scaled_1.fq.gz", target / "scaled_2.fq.gz")
    with gzip.open(paths[0], "wb", compresslevel=1) as out1, gzip.open(paths[1], "wb", compresslevel=1) as out2:
        for number in range(len(first) * scale):
            index = rng.randrange(len(first))
            name = b"%s_%d" % (first[index][0], number)
            for out, reads in ((out1, first), (out2, second)):
                _, sequence, quality = reads[index]
                out.write(b"@%s\n%s\n+\n%s\n" % (name, sequence, quality))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20, help="pairs = 10,000 x scale")
    parser.add_argument("--subtraction", action="store_true", help="also eliminate against a host genome")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with sandbox(prefix="virtool-bench-pathoscope", redis_url=args.redis_url, keep=args.keep) as temp:
        run(args, temp)


def run(args: argparse.Namespace, temp: Path) -> None:
    from unittest import mock

    import arrow

    from analyses.models import Analysis
    from analyses.services import analysis_create
    from indexes.services import index_create
    from jobs import runner
    from jobs.models import Job
    from references.models import Reference
    from references.services import reference_create
    from samples.models import Sample
    from samples.services import sample_create
    from subtractions.services import subtraction_create
    from users.models import User

    admin = User.objects.create_user("bench", "bench-password", administrator_role="full")

    def upload(path: Path, kind: str):
        return stored_upload(admin, path, kind)

    tool_seconds: dict[str, float] = {}
    original_run = runner.JobContext.run

    def timed_run(self, command, **kwargs):
        started = time.perf_counter()
        try:
            return original_run(self, command, **kwargs)
        finally:
            step = self.workflow.steps()[self.step_index].name
            tool_seconds[step] = tool_seconds.get(step, 0.0) + time.perf_counter() - started

    with mock.patch("jobs.services.job_enqueue"):
        reference_upload = upload(SHARED / "references" / "demo-plant-viruses.json.gz", "reference")
        reference = reference_create(user=admin, data={"import_from": reference_upload.pk, "name": "Demo"})
        assert runner.job_execute(job_id=reference.job_id) == "complete"
        index = index_create(reference=Reference.objects.get(pk=reference.pk), user=admin)
        assert runner.job_execute(job_id=index.job_id) == "complete"
        started = time.perf_counter()
        reads = resample(args.scale, temp)
        resampled = time.perf_counter() - started
        uploads = [upload(path, "reads") for path in reads]
        sample = sample_create(user=admin, data={"name": "RpRSV scaled", "files": [u.pk for u in uploads]})
        assert runner.job_execute(job_id=sample.job_id) == "complete"
        subtractions = []
        if args.subtraction:
            import json

            demo = json.loads(gzip.decompress((SHARED / "references" / "demo-plant-viruses.json.gz").read_bytes()))
            rna2 = next(
                s["sequence"]
                for o in demo["otus"]
                for i in o["isolates"]
                for s in i["sequences"]
                if s["accession"] == "NC_005267"
            )
            rng = random.Random(7)
            genome = "".join(rng.choice("ACGT") for _ in range(200_000)) + rna2[2000:3500]
            genome += "".join(rng.choice("ACGT") for _ in range(200_000))
            host = temp / "host.fa"
            host.write_text(">host\n" + "\n".join(genome[i : i + 70] for i in range(0, len(genome), 70)) + "\n")
            subtraction = subtraction_create(
                user=admin, data={"name": "Host", "upload_id": upload(host, "subtraction").pk}
            )
            assert runner.job_execute(job_id=subtraction.job_id) == "complete"
            subtractions = [subtraction.pk]
        analysis = analysis_create(
            user=admin,
            sample=Sample.objects.get(pk=sample.pk),
            data={"ref_id": reference.pk, "subtractions": subtractions},
        )
        with mock.patch.object(runner.JobContext, "run", timed_run):
            t0 = time.perf_counter()
            state = runner.job_execute(job_id=analysis.job_id)
            total = time.perf_counter() - t0
    job = Job.objects.get(pk=analysis.job_id)
    assert state == "complete", job.status[-1]
    records = [r for r in job.status if r["state"] == "running" and r.get("stage")]
    finished = arrow.get(next(r["timestamp"] for r in job.status if r["state"] == "complete"))
    results = Analysis.objects.get(pk=analysis.pk).results
    pairs = 10_000 * args.scale
    print()
    print(
        f"Sample: {pairs:,} pairs ({2 * pairs:,} reads, resampled in {resampled:.1f} s); demo reference (24 OTUs); "
        f"{len(subtractions)} subtraction(s); threads {job.proc}; read_count {results['read_count']:,}, "
        f"subtracted {results['subtracted_count']:,}, {len(results['hits'])} hits"
    )
    print()
    print(f"| {'step':<26} | {'wall s':>8} | {'bowtie2 s':>9} | {'other s':>8} |")
    print(f"|{'-' * 28}|{'-' * 10}|{'-' * 11}|{'-' * 10}|")
    bowtie_total = 0.0
    for position, record in enumerate(records):
        end = arrow.get(records[position + 1]["timestamp"]) if position + 1 < len(records) else finished
        wall = (end - arrow.get(record["timestamp"])).total_seconds()
        tool = tool_seconds.get(record["stage"], 0.0)
        bowtie_total += tool
        print(f"| {record['stage']:<26} | {wall:>8.2f} | {tool:>9.2f} | {wall - tool:>8.2f} |")
    print(f"| {'whole job (claim to end)':<26} | {total:>8.2f} | {bowtie_total:>9.2f} | {total - bowtie_total:>8.2f} |")
    other = (total - bowtie_total) / total
    print()
    print(
        f"Steps other than bowtie2 take {100 * other:.1f} % of the run "
        f"({'meets' if other < 0.25 else 'MISSES'} the goal of under 25 %)."
    )


if __name__ == "__main__":
    main()
