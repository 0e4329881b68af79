#!/usr/bin/env python
"""NuVs benchmark: the profile search, pyhmmer in this process against the `hmmscan` command, on the same ORFs.

    .venv/bin/python bench/nuvs.py [--copies 10] [--threads 1,2] [--repeat 3] [--profiles PATH] [--profile-copies 1]

What it does (figures in bench/README.md):

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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


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


# --- Main ---------------------------------------------------------------------------------------------------------

SECTIONS: dict[str, Callable[[argparse.Namespace, Path], None]] = {"search": profile_search}


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
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
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
