#!/usr/bin/env python
"""NuVs benchmark: the whole workflow on a scaled-up RpRSV sample, and the profile search, pyhmmer in this
process against the `hmmscan` command, on the same ORFs.

    .venv/bin/python bench/nuvs.py [--sections search,workflow]
        search:   [--copies 10] [--threads 1,2] [--repeat 3] [--profiles PATH] [--profile-copies 1]
        workflow: [--scale 20] [--cached] [--redis-url URL]

What the `workflow` section does (figures in bench/README.md):

1. a throwaway data path with its own SQLite database (`bench/_sandbox.py`), one administrator; installs the vFam
   HMMs of `../shared/data/hmm/` (`hmm.services.hmm_install_files`, as the tests do);
2. imports `../shared/data/references/virtool-export-20-otus.json.gz` (no RpRSV in it, so the RpRSV reads survive
   elimination and get assembled) and builds its index, with the real `import_reference` and `build_index` jobs;
3. resamples the RpRSV library (10,000 pairs) with replacement to `--scale` times as many pairs (as
   `bench/pathoscope.py` does) and makes a sample of it with the real `create_sample` job;
4. starts a NuVs analysis with `analysis_create` (the service behind POST /api/samples/{id}/analyses) and runs its
   job in this process (`jobs.runner.job_execute`), timing every external program (wrapping `JobContext.run`),
   pyhmmer's search (`hmm_search`), the ORF finder (`find_orfs`) and the pair reuniting (`reunite_pairs`);
5. prints per step: wall time, time in each tool, in the timed Python, and the rest; the share outside the
   aligners and the assembler; the result's size; peak RSS of this process and of its largest child; `proc`/`mem`.
   Then Virtool's `hmmscan` command on the job's own ORFs (`orfs.fa.gz`) and installed profiles, timed against the
   job's pyhmmer search, its table compared with the job's `hmm.tsv`.
   With `--cached` a second NuVs of the same sample follows, which reuses the trimmed reads the first one cached.
   Every run of the section makes a fresh sandbox, so the first analysis never finds a cache.

Needs Redis (default redis://127.0.0.1:6379/12), skewer, bowtie2 and SPAdes.

What the `search` section does:

1. finds the ORFs of every sequence of the demo reference (`../shared/data/references/demo-plant-viruses.json.gz`:
   24 plant-virus OTUs and a 231 kb nudivirus genome, 40 sequences) with NuVs's ORF finder, about 670 ORFs, and
   repeats them `--copies` times under distinct names (`sequence_{contig}.{orf}`, as NuVs names them), so that the
   search takes a few seconds; adds proteins sampled from each profile by HMMER's `hmmemit` (fixed seed), so that
   there are hits to report (the plant-virus ORFs hit none of the shipped vFam profiles);
2. copies the profiles (`--profiles`, default the three real vFam profiles of `../shared/data/hmm/profiles.hmm`)
   into a temp dir and presses them with `hmmpress`; both sides search that one pressed database.
   `--profile-copies K` writes each profile K times (renamed), to stand for a database of real size;
3. for each thread count: times `hmmscan --tblout hmm.tsv --noali --cpu N profiles.hmm orfs.fa` (Virtool's
   command; orfs.fa written beforehand, as NuVs writes it anyway) and `analyses.nuvs.hmmer.hmm_search(orfs,
   cpus=N)` (from the ORF list to the table text, the pressed database loaded on each call), `--repeat` times,
   alternating; checks that both tables have the same data lines; prints one table, medians.

Local work only: no network, no database, no Django settings.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
# The checkout whose code runs: this one, or `--code` (a side of `--compare`); read before anything imports it.
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv else ROOT
sys.path.insert(0, str(CODE))


# --- Inputs -------------------------------------------------------------------------------------------------------


def reference_proteins() -> list[list[str]]:
    """The ORF proteins of each sequence of the demo reference that has any, by NuVs's ORF finder."""
    from analyses.nuvs.orfs import find_orfs

    demo = json.loads(gzip.decompress((SHARED / "references" / "demo-plant-viruses.json.gz").read_bytes()))
    contigs = [
        [orf["pro"] for orf in find_orfs(sequence["sequence"])]
        for otu in demo["otus"]
        for isolate in otu["isolates"]
        for sequence in isolate["sequences"]
    ]
    return [proteins for proteins in contigs if proteins]


def sampled_proteins(profiles: Path, *, count: int, seed: int = 11) -> list[list[str]]:
    """`count` proteins sampled from each profile by `hmmemit`, one contig each."""
    text = subprocess.run(
        ["hmmemit", "-N", str(count), "--seed", str(seed), str(profiles)], check=True, capture_output=True, text=True
    ).stdout
    return [[block.split("\n", 1)[1].replace("\n", "")] for block in text.split(">")[1:]]


def search_orfs(sample_from: Path, *, copies: int, sampled: int) -> tuple[list[tuple[str, str]], int]:
    """The ORFs to search, named as NuVs names them; and how many of them come from the reference."""
    reference = reference_proteins()
    contigs = [proteins for _ in range(copies) for proteins in reference]
    from_reference = sum(len(proteins) for proteins in contigs)
    contigs += sampled_proteins(sample_from, count=sampled)
    orfs = [(f"sequence_{c}.{o}", protein) for c, proteins in enumerate(contigs) for o, protein in enumerate(proteins)]
    return orfs, from_reference


def pressed_copy(profiles: Path, folder: Path, *, copies: int = 1) -> Path:
    """`profiles` copied into `folder` (each profile `copies` times, renamed `<name>c<k>` past the first, to stand
    for a larger database) and pressed by `hmmpress`."""
    target = folder / "profiles.hmm"
    if copies == 1:
        shutil.copyfile(profiles, target)
    else:
        ends = re.compile(r"^//[ \t]*\n?", re.MULTILINE)  # the last profile's `//` may end the file unterminated
        models = [model + "//\n" for model in ends.split(profiles.read_text()) if model.strip()]
        with target.open("w") as out:
            for copy in range(copies):
                for model in models:
                    out.write(model if copy == 0 else model.replace("\nNAME  ", f"\nNAME  c{copy}_", 1))
    subprocess.run(["hmmpress", str(target)], check=True, capture_output=True)
    return target


# --- Section: the profile search ------------------------------------------------------------------------------


def data_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("#")]


def timed(work: Callable[[], str]) -> tuple[float, str]:
    start = time.perf_counter()
    text = work()
    return time.perf_counter() - start, text


def profile_search(args: argparse.Namespace, temp: Path) -> None:
    """pyhmmer's `hmm_search` against `hmmscan` on the same ORFs and pressed profiles, per thread count."""
    from analyses.nuvs.hmmer import hmm_search

    profiles = pressed_copy(args.profiles, temp, copies=args.profile_copies)
    orfs, from_reference = search_orfs(args.profiles, copies=args.copies, sampled=args.sampled)
    fasta = temp / "orfs.fa"
    fasta.write_text("".join(f">{name}\n{protein}\n" for name, protein in orfs))
    residues = sum(len(protein) for _, protein in orfs)
    models = subprocess.run(["grep", "-c", "^NAME", str(profiles)], check=True, capture_output=True, text=True)
    print(
        f"{len(orfs):,} ORFs ({from_reference:,} from {args.copies} copies of the demo reference's ORFs, "
        f"{len(orfs) - from_reference} sampled from the profiles), {residues:,} residues; "
        f"{models.stdout.strip()} profiles ({args.profiles}"
        + (f", each {args.profile_copies} times" if args.profile_copies > 1 else "")
        + ")"
    )

    def hmmscan(cpus: int) -> str:
        table = temp / "hmm.tsv"
        command = ["hmmscan", "--tblout", str(table), "--noali", "--cpu", str(cpus), str(profiles), str(fasta)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return table.read_text()

    print()
    print(
        "| threads | hmmscan s (median) | pyhmmer s (median) | pyhmmer speed-up | ORFs/s hmmscan | ORFs/s pyhmmer "
        "| hits | tables equal |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for cpus in args.threads:
        cli: list[float] = []
        ours: list[float] = []
        equal = True
        hits = 0
        for _ in range(args.repeat):
            seconds, expected = timed(lambda cpus=cpus: hmmscan(cpus))
            cli.append(seconds)
            seconds, text = timed(lambda cpus=cpus: hmm_search(orfs, profiles=profiles, cpus=cpus))
            ours.append(seconds)
            equal = equal and data_lines(text) == data_lines(expected)
            hits = len(data_lines(expected))
        cli_s, ours_s = statistics.median(cli), statistics.median(ours)
        print(
            f"| {cpus} | {cli_s:.2f} | {ours_s:.2f} | {cli_s / ours_s:.2f}x | {len(orfs) / cli_s:,.0f} "
            f"| {len(orfs) / ours_s:,.0f} | {hits} | {'yes' if equal else 'NO'} |"
        )


# --- Section: the workflow -------------------------------------------------------------------------------------

ALIGNERS = ("skewer", "bowtie2", "bowtie2-build", "spades.py", "samtools")
TIMED_PYTHON = ("reunite_pairs", "find_orfs", "hmm_search")


class StopBench(Exception):
    """Raised where SPAdes would start, with `--stop-before-assembly`: the steps before it are measured."""


def workflow(args: argparse.Namespace, temp: Path) -> None:
    """The whole NuVs job on the RpRSV sample resampled to `--scale` times its pairs, in a fresh sandbox; with
    `--compare`, the same job with the other checkout's code in a fresh process of its own, side by side."""
    if args.compare:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _phases import print_comparison, run_sides

        arguments = ["--sections", "workflow", "--scale", str(args.scale), "--redis-url", args.redis_url]
        arguments += ["--reads-cache", str(args.reads_cache.resolve())] if args.reads_cache else []
        arguments += ["--stop-before-assembly"] if args.stop_before_assembly else []
        sides = run_sides(__file__, {"this": ROOT, "compare": args.compare}, arguments)
        print_comparison(sides, names=(f"this ({ROOT.name})", f"compare ({Path(args.compare).name})"))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _sandbox import sandbox

    with sandbox(prefix="virtool-bench-nuvs", redis_url=args.redis_url, keep=args.keep, root=CODE) as box:
        run_workflow(args, box)


def run_workflow(args: argparse.Namespace, temp: Path) -> None:
    from unittest import mock

    from _reads import resample
    from _sandbox import stored_upload

    from analyses.services import analysis_create
    from hmm.services import hmm_install_files
    from indexes.services import index_create
    from jobs import runner
    from references.models import Reference
    from references.services import reference_create
    from samples.models import Sample
    from samples.services import sample_create
    from users.models import User

    admin = User.objects.create_user("bench", "bench-password", administrator_role="full")
    with mock.patch("jobs.services.job_enqueue"):
        hmm_install_files(
            profiles=SHARED / "hmm" / "profiles.hmm", annotations=SHARED / "hmm" / "annotations.json.gz", user=None
        )
        export = SHARED / "references" / "virtool-export-20-otus.json.gz"
        reference = reference_create(
            user=admin, data={"import_from": stored_upload(admin, export, "reference").pk, "name": "20 OTUs"}
        )
        assert runner.job_execute(job_id=reference.job_id) == "complete"
        index = index_create(reference=Reference.objects.get(pk=reference.pk), user=admin)
        assert runner.job_execute(job_id=index.job_id) == "complete"
        started = time.perf_counter()
        reads = resample(args.scale, temp, cache=args.reads_cache)
        resampled = time.perf_counter() - started
        uploads = [stored_upload(admin, path, "reads") for path in reads]
        sample = sample_create(user=admin, data={"name": "RpRSV scaled", "files": [u.pk for u in uploads]})
        started = time.perf_counter()
        assert runner.job_execute(job_id=sample.job_id) == "complete"
        created = time.perf_counter() - started
        pairs = 10_000 * args.scale
        print()
        print(
            f"Code: {CODE}. Sample: {pairs:,} pairs ({2 * pairs:,} reads; resampled or taken from the cache in "
            f"{resampled:.1f} s, sample created in {created:.1f} s); reference {export.name} "
            f"({len(otu_names(export))} OTUs, no RpRSV); load average "
            f"{' '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} cores"
        )
        runs = ["cold (skewer runs)", "cached (trimmed reads reused)"] if args.cached else ["cold (skewer runs)"]
        for label in runs:
            analysis = analysis_create(
                user=admin, sample=Sample.objects.get(pk=sample.pk), data={"ref_id": reference.pk, "workflow": "nuvs"}
            )
            figures = timed_analysis(label, analysis, stop_before_assembly=args.stop_before_assembly)
            if args.json:
                args.json.write_text(json.dumps(figures))


def otu_names(export: Path) -> list[str]:
    return [otu["name"] for otu in json.loads(gzip.decompress(export.read_bytes()))["otus"]]


def timed_analysis(label: str, analysis, *, stop_before_assembly: bool = False) -> dict:
    """Run one NuVs job in this process, print its table and return its figures."""
    from unittest import mock

    import arrow
    from _phases import Phases, process_peak_mb, step_figures

    import analyses.nuvs.hmmer
    import analyses.nuvs.orfs
    import analyses.nuvs.workflow
    from analyses.models import Analysis
    from analyses.selectors import analysis_path
    from core import seqio
    from jobs.models import Job
    from jobs.runner import job_execute

    seconds: dict[str, float] = {}  # timed function -> seconds
    counts: dict[str, int] = {}

    def timed_function(module, name: str):
        original = getattr(module, name)

        def wrapper(*a, **k):
            started = time.perf_counter()
            try:
                result = original(*a, **k)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
            if name == "reunite_pairs":
                counts["pairs kept"] = result
            return result

        return mock.patch.object(module, name, wrapper)

    def stop(**_):
        raise StopBench("stopped before SPAdes (--stop-before-assembly)")

    phases = Phases()
    before_job = process_peak_mb()
    with (
        phases.watch(),
        timed_function(analyses.nuvs.workflow, "reunite_pairs"),
        timed_function(analyses.nuvs.orfs, "find_orfs"),
        timed_function(analyses.nuvs.hmmer, "hmm_search"),
        mock.patch.object(analyses.nuvs.workflow, "spades_command", stop) if stop_before_assembly else nullcontext(),
    ):
        t0 = time.perf_counter()
        state = job_execute(job_id=analysis.job_id)
        total = time.perf_counter() - t0
    job = Job.objects.get(pk=analysis.job_id)
    stopped = stop_before_assembly and state == "error" and job.status[-1]["error"]["type"] == "StopBench"
    assert state == "complete" or stopped, job.status[-1]
    self_peak, children_peak = process_peak_mb()
    records = [r for r in job.status if r["state"] == "running" and r.get("stage")]
    finished = arrow.get(job.status[-1]["timestamp"])
    if stopped:  # the assembly step only began: leave it out
        records = records[:-1]
        finished = arrow.get(next(r["timestamp"] for r in job.status if r.get("stage") == "assemble"))
        total = (finished - arrow.get(records[0]["timestamp"])).total_seconds()
    python_step = {"reunite_pairs": "reunite_pairs", "find_orfs": "process_assembly", "hmm_search": "vfam"}
    print()
    print(f"NuVs, {label}: job proc {job.proc}, mem {job.mem} GB" + (" (stopped before SPAdes)" if stopped else ""))
    print()
    print("| step | wall s | in tools s | tools | timed Python s | other s | worker peak MB | tools peak MB |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    figures = {**step_figures(records, finished, phases, total), "stopped": bool(stopped)}
    for stage, row in figures["steps"].items():
        timed = sum(v for name, v in seconds.items() if python_step[name] == stage)
        print(
            f"| {stage} | {row['wall']:.2f} | {row['tools']:.2f} | {row['tool_names']} | {timed:.2f} "
            f"| {row['other'] - timed:.2f} | {row['worker_mb']:.0f} | {row['tools_mb']:.0f} |"
        )
    whole = figures["total"]
    print(
        f"| **whole job** (claim to end) | **{total:.2f}** | {whole['tools']:.2f} | | {sum(seconds.values()):.2f} "
        f"| | {whole['worker_mb']:.0f} | {whole['tools_mb']:.0f} |"
    )
    other = whole["other"]
    print()
    print(
        f"Outside skewer/bowtie2/SPAdes/samtools: {other:.2f} s of {total:.2f} s = {100 * other / total:.1f} % "
        f"({'meets' if other / total < 0.10 else 'MISSES'} the goal of under 10 %; pyhmmer "
        f"{seconds.get('hmm_search', 0):.2f} s, ORF finder {seconds.get('find_orfs', 0):.2f} s, reuniting pairs "
        f"{seconds.get('reunite_pairs', 0):.2f} s)."
    )
    print(
        f"Peak RSS: this process {self_peak:.0f} MB over its life ({before_job[0]:.0f} MB before the job: the "
        f"imports and the sample's quality report); largest tool {children_peak:.0f} MB."
    )
    if stopped:
        return figures
    done = Analysis.objects.get(pk=analysis.pk)
    contigs = done.results["hits"]
    orfs = [orf for contig in contigs for orf in contig["orfs"]]
    scaffolds = [len(record.sequence) for record in seqio.read_fasta(analysis_path(done) / "assembly.fa.gz")]
    hits = sum(1 for orf in orfs if orf.get("hits"))
    print(
        f"Result: {counts.get('pairs kept', 0):,} pairs reunited for assembly; SPAdes made {len(scaffolds)} "
        f"scaffolds ({sum(scaffolds):,} nt, longest {max(scaffolds, default=0):,}); "
        f"{len(contigs)} contigs of 300 nt or more with ORFs, {len(orfs)} ORFs, {hits} ORFs with HMM hits "
        f"({sum(len(orf.get('hits') or []) for orf in orfs)} hits)."
    )
    same_orfs_search(done, cpus=job.proc, pyhmmer_seconds=seconds.get("hmm_search", 0.0))
    return figures


def same_orfs_search(analysis, *, cpus: int, pyhmmer_seconds: float) -> None:
    """Virtool's `hmmscan` command on this analysis's ORFs (its `orfs.fa.gz`) and installed profiles, against the
    job's pyhmmer search: time, and whether the table is the job's `hmm.tsv`."""
    from analyses.selectors import analysis_path
    from hmm.selectors import hmm_files

    files = hmm_files()
    assert files is not None
    folder = analysis_path(analysis)
    proteins = gzip.decompress((folder / "orfs.fa.gz").read_bytes())
    with tempfile.TemporaryDirectory(prefix="virtool-bench-nuvs-hmmscan-") as scratch:
        fasta, table = Path(scratch) / "orfs.fa", Path(scratch) / "hmm.tsv"
        fasta.write_bytes(proteins)
        command = ["hmmscan", "--tblout", str(table), "--noali", "--cpu", str(cpus), str(files.profiles), str(fasta)]

        def hmmscan() -> str:
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            return table.read_text()

        seconds, expected = timed(hmmscan)
    equal = data_lines(expected) == data_lines((folder / "hmm.tsv").read_text())
    orfs = proteins.count(b">")
    print(
        f"Same ORFs ({orfs}), same profiles: hmmscan --cpu {cpus} {seconds:.2f} s, the job's pyhmmer search "
        f"{pyhmmer_seconds:.2f} s; tables {'equal' if equal else 'DIFFER'} ({len(data_lines(expected))} hit lines)."
    )


# --- Main ---------------------------------------------------------------------------------------------------------

SECTIONS: dict[str, Callable[[argparse.Namespace, Path], None]] = {"search": profile_search, "workflow": workflow}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated, of: " + ", ".join(SECTIONS))
    parser.add_argument("--copies", type=int, default=10, help="times the demo reference's ORFs are searched")
    parser.add_argument("--sampled", type=int, default=20, help="proteins sampled from each profile")
    parser.add_argument("--threads", type=lambda text: [int(n) for n in text.split(",")], default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profiles", type=Path, default=SHARED / "hmm" / "profiles.hmm", help="HMMER3 text profiles")
    parser.add_argument(
        "--profile-copies", type=int, default=1, help="search each profile this many times (a larger database)"
    )
    parser.add_argument("--scale", type=int, default=20, help="workflow: pairs = 10,000 x scale")
    parser.add_argument("--cached", action="store_true", help="workflow: a second NuVs that reuses the trimmed reads")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"))
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs")
    parser.add_argument("--reads-cache", type=Path, help="workflow: keep the resampled reads here, take them from here")
    parser.add_argument(
        "--stop-before-assembly", action="store_true", help="workflow: measure the steps before SPAdes only"
    )
    parser.add_argument("--compare", type=Path, help="workflow: also run this checkout's code (a worktree of main)")
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # the checkout whose code a side runs
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)  # where a side writes its figures
    args = parser.parse_args()
    temp = Path(tempfile.mkdtemp(prefix="virtool-bench-nuvs-"))
    try:
        for name in args.sections.split(","):
            SECTIONS[name](args, temp)
    finally:
        if args.keep:
            print("kept", temp)
        else:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
