#!/usr/bin/env python
"""PathoScope EM benchmark: the vectorised `em` against the loop transcription `em_loop` on one generated SAM.

    .venv/bin/python bench/pathoscope_em.py --records 1000000

What it does (figures in bench/README.md):

1. writes a bowtie2-like SAM (`-k 100 --local`, unpaired, 150 nt reads, ~5 % 100-149 nt) into a temp dir:
   `--otus` OTUs of 4-12 isolates each (hundreds of references, 3-12 kb), OTU abundances skewed (Zipf-like),
   every read drawn from one "true" isolate of an OTU and aligned to a random subset of that OTU's isolates
   (about a quarter of the reads unique), scores `AS = 2*aligned - 8*mismatches - 2*softclip` with
   more mismatches on isolates far from the true one (bowtie2 --local: +2 per match, -6 per mismatch),
   clamped at bowtie2's `--score-min L,20,1.0`; ~2 % of reads have a second alignment to the same reference;
   records carry bowtie2's tags (AS, XS, XN, XM, XO, XG, NM, YT) and real-length SEQ/QUAL, until at least
   `--records` records are written;
2. runs each implementation in its own fresh process (so that peak RSS is its own; `os.wait4`):
   `em` = `read_sam` (numpy block parser) + `em` (vectorised);
   `loop` = `read_sam_by_line` (in tests/analyses/pathoscope_loop.py: one `split` per line, as PathoScope 2
   parses) + `em_loop` (PathoScope 2 style dicts and lists); it also times the numpy parser once, for a "same
   parser on both sides" figure; both time parsing and EM separately and dump their result;
3. checks that both results are equal (refs, read_count exactly; every float to 1e-9 relative; coverage exactly)
   and prints a table: wall time (parse, EM, total), peak RSS, and the speed-ups (parse + EM, EM alone, and
   parse + EM with the numpy parser on both sides).

Local work only: no network, no database, no Django settings.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def generate(path: Path, records: int, otus: int, seed: int) -> dict:
    """Write the SAM file; return a few numbers describing it."""
    rng = np.random.default_rng(seed)
    isolates_per_otu = rng.integers(4, 13, size=otus)
    refs = []  # (name, length, otu)
    for otu in range(otus):
        base_length = int(rng.integers(3000, 12000))
        for isolate in range(isolates_per_otu[otu]):
            refs.append((f"otu{otu:03d}_iso{isolate:02d}", base_length + int(rng.integers(-50, 50)), otu))
    otu_refs = [[i for i, ref in enumerate(refs) if ref[2] == otu] for otu in range(otus)]
    # Zipf-like abundance: a few OTUs take most reads, as in a real sample.
    abundance = 1.0 / np.arange(1, otus + 1) ** 1.1
    abundance /= abundance.sum()
    # Divergence of each isolate from its OTU's "true" isolate (the first): extra mismatches per read.
    divergence = [0 if refs[i][0].endswith("iso00") else int(rng.integers(1, 8)) for i in range(len(refs))]

    bases = rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=1_000_000).tobytes().decode()
    quals = rng.integers(35, 74, size=1_000_000, dtype=np.uint8).tobytes().decode()

    written = 0
    reads = 0
    with open(path, "w", buffering=1 << 22) as out:
        out.write("@HD\tVN:1.0\tSO:unsorted\n")
        for name, length, _ in refs:
            out.write(f"@SQ\tSN:{name}\tLN:{length}\n")
        out.write("@PG\tID:bowtie2\tPN:bowtie2\tVN:2.5.4\tCL:bench\n")
        while written < records:
            n = 50_000
            otu_of = rng.choice(otus, size=n, p=abundance)
            length_of = np.where(rng.random(n) < 0.05, rng.integers(100, 150, size=n), 150)
            error_of = rng.poisson(1.5, size=n)
            lines = []
            for j in range(n):
                members = otu_refs[otu_of[j]]
                # A quarter unique; the others hit 2..all isolates of the OTU (bowtie2 -k 100 reports them all).
                k = 1 if rng.random() < 0.25 else int(rng.integers(2, len(members) + 1))
                hits = rng.choice(members, size=k, replace=False).tolist()
                if rng.random() < 0.02:
                    hits.append(hits[0])  # a second locus on the same reference
                read_len = int(length_of[j])
                offset = int(rng.integers(0, 1_000_000 - read_len))
                seq = bases[offset : offset + read_len]
                qual = quals[offset : offset + read_len]
                qname = f"SIM:{reads}:{otu_of[j]}:{j}"
                start = int(rng.integers(1, 2500))
                scores = []
                for hit in hits:
                    mismatches = int(error_of[j]) + divergence[hit] + int(rng.integers(0, 2))
                    clip = int(rng.integers(0, 6)) if rng.random() < 0.2 else 0
                    score = max(2 * (read_len - clip) - 8 * mismatches - 2 * clip, 20 + read_len)
                    scores.append((hit, score, mismatches, clip))
                best = max(s for _, s, _, _ in scores)
                for index, (hit, score, mismatches, clip) in enumerate(scores):
                    flag = (256 if index else 0) | (16 if rng.random() < 0.5 else 0)
                    cigar = f"{clip}S{read_len - clip}M" if clip else f"{read_len}M"
                    pos = min(start + int(rng.integers(-3, 4)), refs[hit][1] - 10)
                    lines.append(
                        f"{qname}\t{flag}\t{refs[hit][0]}\t{max(pos, 1)}\t{1 if k > 1 else 42}\t{cigar}\t*\t0\t0\t"
                        f"{seq}\t{qual}\tAS:i:{score}\tXS:i:{best}\tXN:i:0\tXM:i:{mismatches}\tXO:i:0\tXG:i:0\t"
                        f"NM:i:{mismatches}\tYT:Z:UU\n"
                    )
                reads += 1
            out.writelines(lines)
            written += len(lines)
    return {"records": written, "reads": reads, "refs": len(refs), "bytes": path.stat().st_size}


def worker(which: str, sam: str, out: str, traced: bool, previous: str | None = None) -> None:
    """Run one implementation (in its own process) and pickle its result, timings and memory.

    `new`: `read_sam` (compiled parser) + `em` (classes, compiled), coverage as int32 arrays; `previous`: the
    `read_sam` and `em` of another checkout (`previous`, e.g. a worktree of 1623910: the numpy block parser and
    vectorised EM), imported from there; `loop`: PathoScope 2's way (`read_sam_by_line` + `em_loop`). With
    `traced`, tracemalloc runs (slower; for the peak only)."""
    import tracemalloc

    sys.path.insert(0, str(ROOT))
    if which == "previous":
        assert previous is not None
        sys.path.insert(0, previous)  # its `analyses` and `core` packages shadow this checkout's
        from analyses.pathoscope.em import em as previous_em
        from analyses.pathoscope.sam import read_sam as previous_read_sam

        parse, run_em = previous_read_sam, previous_em
    else:
        from analyses.pathoscope.em import em
        from analyses.pathoscope.sam import read_sam
        from tests.analyses.pathoscope_loop import em_loop, read_sam_by_line

        parse, run_em = {
            "new": (read_sam, lambda a: em(a, coverage_arrays=True)),
            "loop": (read_sam_by_line, em_loop),
        }[which]
    # RSS now (not the import's peak): what parse + EM add to it is theirs.
    with open("/proc/self/status") as status:
        rss_before = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    alignments = parse(sam)
    parsed = time.perf_counter()
    result = run_em(alignments)
    done = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    result["coverage"] = {name: np.asarray(depth, dtype=np.int64) for name, depth in result["coverage"].items()}
    with open(out, "wb") as handle:
        pickle.dump(
            {
                "result": result,
                "parse": parsed - started,
                "em": done - parsed,
                "traced_peak": peak,
                "rss_before_kb": rss_before,
                "records": len(alignments),
            },
            handle,
        )


def run(which: str, sam: Path, tmp: Path, traced: bool = False, previous: str | None = None) -> dict:
    """Start a worker process; wall time, peak RSS (wait4) and its pickled numbers."""
    out = tmp / f"{which}.pickle"
    started = time.perf_counter()
    command = [sys.executable, __file__, "--worker", which, str(sam), str(out)] + (["--traced"] if traced else [])
    if previous:
        command += ["--previous", previous]
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{which} worker failed with status {status}")
    with open(out, "rb") as handle:
        numbers = pickle.load(handle)
    numbers.update(wall=wall, rss_mb=usage.ru_maxrss / 1024)
    return numbers


def compare(a: dict, b: dict, rel: float = 1e-9) -> list[str]:
    """Differences between two em results (empty when equal to `rel` relative)."""
    problems = []
    if a["refs"] != b["refs"]:
        problems.append("refs differ")
    if a["read_count"] != b["read_count"]:
        problems.append(f"read_count {a['read_count']} != {b['read_count']}")
    for key, values in a.items():
        if key in ("refs", "read_count", "coverage"):
            continue
        worst = max(
            (abs(x - y) / max(abs(x), abs(y)) if x != y else 0.0 for x, y in zip(values, b[key], strict=True)),
            default=0.0,
        )
        if worst > rel:
            problems.append(f"{key}: relative difference {worst:.3g}")
    if a["coverage"].keys() != b["coverage"].keys() or any(
        not np.array_equal(a["coverage"][name], b["coverage"][name]) for name in a["coverage"]
    ):
        problems.append("coverage differs")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="at least this many SAM records")
    parser.add_argument("--otus", type=int, default=50, help="OTUs (4-12 isolates, i.e. references, each)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (SAM and results)")
    parser.add_argument("--worker", nargs=3, metavar=("WHICH", "SAM", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--previous",
        help="another checkout whose read_sam + em are timed beside (e.g. `git worktree add --detach "
        "/tmp/em-before 1623910`: the numpy code before the compiled kernel); without it, loop and new only",
    )
    args = parser.parse_args()
    if args.previous:
        args.previous = str(Path(args.previous).resolve())
    if args.worker:
        worker(*args.worker, traced=args.traced, previous=args.previous)
        return

    tmp = Path(tempfile.mkdtemp(prefix="bench-pathoscope-em-"))
    try:
        sam = tmp / "isolates.sam"
        started = time.perf_counter()
        shape = generate(sam, args.records, args.otus, args.seed)
        print(
            f"SAM: {shape['records']:,} records, {shape['reads']:,} reads, {shape['refs']} references, "
            f"{shape['bytes'] / 1e6:.0f} MB (generated in {time.perf_counter() - started:.1f} s); "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        compared = ("new", "previous") if args.previous else ("new",)
        timed = {which: run(which, sam, tmp, previous=args.previous) for which in (*compared, "loop")}
        traced = {which: run(which, sam, tmp, traced=True, previous=args.previous) for which in compared}
        loop = timed["loop"]
        problems = {which: compare(timed[which]["result"], loop["result"]) for which in compared}
        result = timed["new"]["result"]
        multi = sum(1 for x in result["level_2_final"] if x) if result else 0
        records = shape["records"]
        print(f"matrix: {result['read_count']:,} reads, {len(result['refs'])} references ({multi} with low hits)")
        print()
        print(
            "| implementation | parse s | EM s | parse + EM s | speed-up vs loop | peak RSS MB | RSS B/record "
            "| tracemalloc peak MB | traced B/record | equal to loop |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        names = {
            "loop": "PathoScope 2 loop: `read_sam_by_line` + `em_loop`",
            "previous": f"previous: `{args.previous}`'s read_sam + em",
            "new": "new: compiled parser + EM over classes",
        }
        loop_total = loop["parse"] + loop["em"]
        for which in ("loop", *reversed(compared)):
            numbers = timed[which]
            total = numbers["parse"] + numbers["em"]
            rss_bytes = (numbers["rss_mb"] * 1024 - numbers["rss_before_kb"]) * 1024
            peak = traced[which]["traced_peak"] if which in traced else None
            print(
                f"| {names[which]} | {numbers['parse']:.2f} | {numbers['em']:.2f} | {total:.2f} "
                f"| {loop_total / total:.1f}x | {numbers['rss_mb']:.0f} | {rss_bytes / records:.0f} "
                f"| {'' if peak is None else f'{peak / 1e6:.0f}'} | {'' if peak is None else f'{peak / records:.1f}'} "
                f"| {'(reference)' if which == 'loop' else ('yes' if not problems[which] else 'NO')} |"
            )
        print()
        print(
            "RSS B/record: (peak RSS - RSS after imports) / records; traced: tracemalloc's peak over parse + EM "
            "(a separate run) / records. Goals: parse + EM >= 30x the loop, <= 50 B/record."
        )
        for which, found in problems.items():
            if found:
                print(f"{which} differs from the loop: " + "; ".join(found))
        top = sorted(zip(result["pi"], result["refs"], strict=True), reverse=True)[:3]
        print("top pi:", ", ".join(f"{ref} {pi:.4f}" for pi, ref in top))
        if any(problems.values()):
            raise SystemExit(1)
    finally:
        if args.keep:
            print("kept", tmp)
        else:
            for child in tmp.iterdir():
                child.unlink()
            tmp.rmdir()


if __name__ == "__main__":
    main()
