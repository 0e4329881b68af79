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
   (goal: under 10 %), with each step's peak RSS of this process and of the tools. `--subtraction` adds a host
   made of random sequence around a fragment of RpRSV RNA2. `--reads-cache DIR` keeps the resampled reads.

`--compare CHECKOUT` runs the same job with another checkout's code (a worktree of an earlier main) in a fresh
process of its own, after this one, on the same resampled reads, and prints both tables side by side
(`_phases.print_comparison`).

Needs Redis (REDIS_URL, default redis://127.0.0.1:6379/10) and bowtie2.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The checkout whose code runs: this one, or `--code` (a side of `--compare`); read before anything imports it.
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv else ROOT
sys.path.insert(0, str(CODE))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _phases import Phases, print_comparison, process_peak_mb, run_sides, step_figures  # noqa: E402 - after the path
from _sandbox import SHARED, sandbox, stored_upload  # noqa: E402


def resample(scale: int, target: Path, seed: int = 1, cache: Path | None = None) -> tuple[Path, Path]:
    """The RpRSV library resampled to `scale` times its pairs (`bench/_reads.py`)."""
    from _reads import resample as resampled

    return resampled(scale, target, seed=seed, cache=cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20, help="pairs = 10,000 x scale")
    parser.add_argument("--subtraction", action="store_true", help="also eliminate against a host genome")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reads-cache", type=Path, help="keep the resampled reads here, and take them from here")
    parser.add_argument("--compare", type=Path, help="also run this checkout's code (a worktree of an earlier main)")
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # the checkout whose code a side runs
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)  # where a side writes its figures
    args = parser.parse_args()
    if args.compare:
        compare(args)
        return
    with sandbox(prefix="virtool-bench-pathoscope", redis_url=args.redis_url, keep=args.keep, root=CODE) as temp:
        figures = run(args, temp)
    if args.json:
        args.json.write_text(json.dumps(figures))


def compare(args: argparse.Namespace) -> None:
    """This checkout's job, then `--compare`'s, each in a fresh process on the same reads; both tables side by side."""
    with tempfile.TemporaryDirectory(prefix="virtool-bench-pathoscope-compare-") as scratch:
        cache = (args.reads_cache or Path(scratch) / "reads").resolve()  # both sides take the same resampled files
        arguments = ["--scale", str(args.scale), "--redis-url", args.redis_url, "--reads-cache", str(cache)]
        arguments += ["--subtraction"] if args.subtraction else []
        sides = run_sides(__file__, {"this": ROOT, "compare": args.compare}, arguments)
    names = (f"this ({sides['this']['commit']})", f"compare ({sides['compare']['commit']})")
    print()
    load = " ".join(f"{n:.1f}" for n in os.getloadavg())
    flags = " --subtraction" if args.subtraction else ""
    print(f"bench/pathoscope.py --scale {args.scale}{flags} --compare {args.compare}: {10_000 * args.scale:,} pairs; "
          f"load average {load} at the end, {os.cpu_count()} cores")  # fmt: skip
    for label, name in zip(("this", "compare"), names, strict=True):
        print(f"- {name}: {sides[label]['summary']}")
    print_comparison(sides, names=names)


def run(args: argparse.Namespace, temp: Path) -> dict:
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

    with mock.patch("jobs.services.job_enqueue"):
        reference_upload = upload(SHARED / "references" / "demo-plant-viruses.json.gz", "reference")
        reference = reference_create(user=admin, data={"import_from": reference_upload.pk, "name": "Demo"})
        assert runner.job_execute(job_id=reference.job_id) == "complete"
        index = index_create(reference=Reference.objects.get(pk=reference.pk), user=admin)
        assert runner.job_execute(job_id=index.job_id) == "complete"
        started = time.perf_counter()
        reads = resample(args.scale, temp, cache=args.reads_cache)
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
        before_job = process_peak_mb()
        phases = Phases()
        with phases.watch():
            t0 = time.perf_counter()
            state = runner.job_execute(job_id=analysis.job_id)
            total = time.perf_counter() - t0
    job = Job.objects.get(pk=analysis.job_id)
    assert state == "complete", job.status[-1]
    records = [r for r in job.status if r["state"] == "running" and r.get("stage")]
    finished = arrow.get(next(r["timestamp"] for r in job.status if r["state"] == "complete"))
    results = Analysis.objects.get(pk=analysis.pk).results
    pairs = 10_000 * args.scale
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=CODE, capture_output=True, text=True, check=False
    ).stdout.strip()
    summary = (
        f"read_count {results['read_count']:,}, subtracted {results['subtracted_count']:,}, {len(results['hits'])} hits"
    )
    print()
    print(
        f"Code: {CODE} ({commit}). Sample: {pairs:,} pairs ({2 * pairs:,} reads, resampled or taken from the "
        f"cache in {resampled:.1f} s); demo reference (24 OTUs); {len(subtractions)} subtraction(s); threads "
        f"{job.proc}; {summary}; "
        f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} cores"
    )
    figures = step_figures(records, finished, phases, total)
    print_phases(figures)
    self_peak, child_peak = process_peak_mb()
    print(
        f"Peak RSS over the run: this process {self_peak:.0f} MB (before the job {before_job[0]:.0f} MB: the "
        f"reference import and the sample's quality report), largest tool {child_peak:.0f} MB."
    )
    return {**figures, "commit": commit, "summary": summary}


def print_phases(figures: dict, goal: float = 0.10) -> None:
    """The table of steps (`_phases.step_figures`), then the share outside the tools."""
    print()
    print("| step | wall s | in tools s | tools | other s | worker CPU s | worker peak MB | tools peak MB |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for name, row in figures["steps"].items():
        print(
            f"| {name} | {row['wall']:.2f} | {row['tools']:.2f} | {row['tool_names']} | {row['other']:.2f} "
            f"| {row['worker_cpu']:.2f} | {row['worker_mb']:.0f} | {row['tools_mb'] or ''} |"
        )
    total = figures["total"]
    share = total["other"] / total["wall"]
    print(
        f"| **whole job** (claim to end) | **{total['wall']:.2f}** | {total['tools']:.2f} | | **{total['other']:.2f} "
        f"({100 * share:.1f} %)** | {total['worker_cpu']:.2f} | {total['worker_mb']:.0f} | {total['tools_mb']:.0f} |"
    )
    print()
    print(
        f"Outside the aligners and samtools: {total['other']:.2f} s of {total['wall']:.2f} s = {100 * share:.1f} % "
        f"({'meets' if share < goal else 'MISSES'} the goal of under {100 * goal:.0f} %)."
    )


if __name__ == "__main__":
    main()
