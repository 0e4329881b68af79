#!/usr/bin/env python
"""Quality benchmark: `manage.py quality` against FastQC 0.11.9 on the same FASTQ file, time, memory and numbers.

    .venv/bin/python bench/quality.py --reads 1000000 --repeat 3 --compare /tmp/quality-main

What it does (see bench/README.md for the figures and how to read them):

1. writes one FASTQ file of `--reads` random reads of `--min-length`..`--max-length` nt into a temp dir (numpy,
   vectorised, written in blocks by a thread while the next is made): gzip level 1 (ISA-L's if installed, else
   zlib's) by default, plain with `--plain`. Reads have about 0.4 % N and every seventh read has some lowercase
   bases; qualities are Phred 2-41 (a per-read level, noise, a slow decline along the read), Phred+33;
2. runs, `--repeat` times and alternating (ours, FastQC, ours, FastQC, ...), each tool as a fresh process under
   `/usr/bin/time -v` (or, without it, `os.wait4` on the child), so that both are measured the same way:
   - ours:   `python manage.py quality FILE` (the JSON goes to a file), with VIRTOOL_DATA_PATH in the temp dir
             (`--ours-command` runs another command instead, FILE appended: to measure a variant);
   - before: with `--compare CHECKOUT`, that checkout's `python manage.py quality FILE` run from it with this
             Python (e.g. a worktree of main: `git worktree add --detach /tmp/quality-main main`), so that the
             implementation before and after are timed side by side in one run; its JSON must equal ours;
   - FastQC: `/usr/bin/fastqc -q -f fastq --extract -o DIR FILE` (DIR emptied before each run);
   the wall time (perf_counter around the process), user and system CPU time and the peak RSS (`ru_maxrss` of
   the waited process and its waited descendants: the largest single process, here `python` or `java`; the
   fastqc Perl wrapper `exec`s java);
3. compares the numbers: FastQC's `fastqc_data.txt` read with `tests/samples/fastqc.py::fastqc_quality` (its
   parser, without running FastQC again) against our JSON. FastQC groups the cycles after the 9th into ranges
   for reads longer than 75 nt, so the per-cycle rows (`bases`, `composition`) are compared in full only when
   `--max-length` is at most 75, otherwise for the first 9 cycles;
4. prints the tables (every run, medians with the speed-up and the memory ratio, the comparison) and removes
   the temp dir (`--keep` keeps it, with the last FastQC report and our JSON). SIGTERM/SIGINT stop the running
   tool (its whole process group) and clean up the same way.

Only local work: no network, no database (Django's settings only create the data dir, inside the temp dir).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np

try:  # ISA-L (a dnaio dependency) compresses several times faster than zlib at level 1
    from isal.igzip import open as gzip_open
except ImportError:
    from gzip import open as gzip_open

ROOT = Path(__file__).resolve().parent.parent
FASTQC = "/usr/bin/fastqc"
GNU_TIME = "/usr/bin/time"
OURS = [sys.executable, "manage.py", "quality"]
MIB = 1024 * 1024
GOAL = 10  # times faster than FastQC (issue 16)
BLOCK = 100_000  # reads generated and written at a time
HEADER = b"@bench"
DIGITS = 10
UNBINNED_MAX_LENGTH = 75  # FastQC 0.11.9 reports every cycle on its own up to this read length
FIRST_CYCLES = 9  # ... and always for the first 9 cycles

# --- The file -----------------------------------------------------------------------------------------------


def fastq_block(rng: np.random.Generator, first: int, n: int, min_length: int, max_length: int) -> np.ndarray:
    """`n` FASTQ records (`@benchNNNNNNNNNN`, sequence, `+`, qualities) as one uint8 array."""
    lengths = rng.integers(min_length, max_length + 1, n, dtype=np.int64)
    total = int(lengths.sum())
    header_length = len(HEADER) + DIGITS + 1
    record_lengths = header_length + 2 * lengths + 4
    offsets = np.zeros(n, dtype=np.int64)
    np.cumsum(record_lengths[:-1], out=offsets[1:])
    out = np.empty(int(record_lengths.sum()), dtype=np.uint8)

    index = np.arange(first, first + n, dtype=np.int64)
    headers = np.empty((n, header_length), dtype=np.uint8)
    headers[:, : len(HEADER)] = np.frombuffer(HEADER, dtype=np.uint8)
    headers[:, len(HEADER) : -1] = index[:, None] // 10 ** np.arange(DIGITS - 1, -1, -1, dtype=np.int64) % 10 + 48
    headers[:, -1] = ord("\n")
    out[offsets[:, None] + np.arange(header_length)] = headers

    read_starts = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1], out=read_starts[1:])
    cycle = np.arange(total, dtype=np.int64) - np.repeat(read_starts, lengths)
    draws = np.frombuffer(rng.bytes(2 * total), dtype=np.uint8).reshape(2, total)
    # first byte: bits 0-1 the base, bit 2 lowercase (in every seventh read), bits 3-7 the quality noise;
    # second byte: 0 makes an N (1/256, about 0.4 %)
    sequence = np.frombuffer(b"ACGT", dtype=np.uint8)[draws[0] & 3]
    sequence[np.repeat(index % 7 == 0, lengths) & (draws[0] & 4 > 0)] += 32
    sequence[draws[1] == 0] = ord("N")
    noise = (draws[0] >> 3).astype(np.int16) % 21 - 15  # -15..5
    level = np.repeat(rng.integers(20, 41, n, dtype=np.int16), lengths)
    phred = np.clip(level + noise - (cycle // 20).astype(np.int16), 2, 41)

    sequence_at = np.repeat(offsets + header_length, lengths) + cycle
    out[sequence_at] = sequence
    separator = offsets + header_length + lengths
    out[separator] = ord("\n")
    out[separator + 1] = ord("+")
    out[separator + 2] = ord("\n")
    out[sequence_at + np.repeat(lengths + 3, lengths)] = (phred + 33).astype(np.uint8)
    out[offsets + record_lengths - 1] = ord("\n")
    return out


def write_fastq(path: Path, *, reads: int, min_length: int, max_length: int, seed: int, compress: bool) -> int:
    """Write the file; returns the uncompressed size in bytes. A thread writes (and compresses, which releases the
    GIL) one block while the next is generated."""
    rng = np.random.default_rng(seed)
    size = 0
    with (
        gzip_open(path, "wb", compresslevel=1) if compress else path.open("wb") as handle,
        ThreadPoolExecutor(1) as writer,
    ):
        pending = None
        for first in range(0, reads, BLOCK):
            block = fastq_block(rng, first, min(BLOCK, reads - first), min_length, max_length)
            if pending:
                pending.result()
            pending = writer.submit(handle.write, memoryview(block))
            size += block.size
        if pending:
            pending.result()
    return size


# --- Running a tool -----------------------------------------------------------------------------------------


@dataclass
class Run:
    tool: str
    number: int
    wall: float = float("nan")
    user: float = float("nan")
    system: float = float("nan")
    max_rss: int = 0  # bytes
    status: str = ""

    @property
    def cpu(self) -> float:
        return self.user + self.system

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def parse_gnu_time(text: str) -> tuple[float, float, int]:
    """User s, system s and max RSS (bytes) from `/usr/bin/time -v` output."""

    def field(name: str) -> str:
        match = re.search(rf"^\s*{re.escape(name)}: (.+)$", text, re.MULTILINE)
        if not match:
            raise RuntimeError(f"`{name}` missing from /usr/bin/time output:\n{text[-1000:]}")
        return match.group(1)

    return (
        float(field("User time (seconds)")),
        float(field("System time (seconds)")),
        int(field("Maximum resident set size (kbytes)")) * 1024,
    )


def measure(
    tool: str,
    number: int,
    command: list[str],
    *,
    env: dict[str, str],
    stdout: Path,
    tmp: Path,
    timeout: float,
    cwd: Path = ROOT,
) -> Run:
    """Run `command` as a fresh process (in its own process group), with its wall time, CPU time and peak RSS.
    On a timeout, an error or an interrupt (SIGINT/SIGTERM), the whole group is killed."""
    run = Run(tool=tool, number=number)
    use_gnu_time = os.access(GNU_TIME, os.X_OK)
    time_file = tmp / "time.txt"
    if use_gnu_time:
        command = [GNU_TIME, "-v", "-o", str(time_file), *command]
    stderr = tmp / f"{tool}.stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True)
        try:
            while True:
                pid, wait_status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    run.wall = time.perf_counter() - started
                    process.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here, not by Popen
                    break
                if time.perf_counter() > started + timeout:
                    run.status = f"timed out after {timeout:g} s"
                    return run
                time.sleep(0.01)
        finally:
            kill_group(process)
    if process.returncode:
        tail = stderr.read_text(errors="replace")[-1500:]
        run.status = f"exit {process.returncode}"
        print(f"--- {tool} run {number} failed ({process.returncode}); stderr (tail) ---\n{tail}", file=sys.stderr)
        return run
    if use_gnu_time:
        run.user, run.system, run.max_rss = parse_gnu_time(time_file.read_text())
    else:  # the child itself, with its waited-for descendants (ru_maxrss is in KiB on Linux)
        run.user, run.system, run.max_rss = usage.ru_utime, usage.ru_stime, usage.ru_maxrss * 1024
    run.status = "ok"
    return run


def kill_group(process: subprocess.Popen) -> None:
    """Kill what is left of the tool's process group (java under the fastqc wrapper under /usr/bin/time)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.returncode is None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(process.pid, 0)
        process.returncode = -signal.SIGKILL


# --- Comparing the numbers ----------------------------------------------------------------------------------


def fastqc_document(path: Path, out: Path) -> dict:
    """FastQC's report already in `out`, read by the tests' parser (`fastqc_quality`) without running FastQC."""
    sys.path.insert(0, str(ROOT))
    from tests.samples import fastqc

    with mock.patch.object(fastqc, "subprocess", mock.Mock()):  # the parse only: FastQC has run already
        return fastqc.fastqc_quality(path, out)


def first_difference(ours: list, theirs: list) -> str:
    if len(ours) != len(theirs):
        return f"{len(ours)} rows vs {len(theirs)}"
    for index, (left, right) in enumerate(zip(ours, theirs, strict=True)):
        if left != right:
            return f"cycle {index + 1}: {left} vs {right}"
    return ""


def compare(ours: dict, theirs: dict, max_length: int) -> list[tuple[str, str, str]]:
    """(field, what was compared, result) rows."""
    rows = []
    for key in ("count", "encoding", "gc", "length", "sequences"):
        same = ours[key] == theirs[key]
        shown = "" if same or key == "sequences" else f": {ours[key]} vs {theirs[key]}"
        rows.append((key, "all", ("same" if same else "DIFFERENT") + shown))
    for key in ("bases", "composition"):
        if max_length <= UNBINNED_MAX_LENGTH:
            scope, left, right = f"all {len(theirs[key])} cycles", ours[key], theirs[key]
        else:
            scope = f"cycles 1-{FIRST_CYCLES} (FastQC groups the later ones for reads > {UNBINNED_MAX_LENGTH} nt)"
            left, right = ours[key][:FIRST_CYCLES], theirs[key][:FIRST_CYCLES]
        difference = first_difference(left, right)
        rows.append((key, scope, "DIFFERENT: " + difference if difference else "same"))
    return rows


# --- Output -------------------------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def median(runs: list[Run], attribute: str) -> float:
    values = [getattr(run, attribute) for run in runs if run.ok]
    return statistics.median(values) if values else float("nan")


def print_results(runs: list[Run], reads: int, labels: dict[str, str]) -> dict[str, dict[str, float]]:
    table(
        ["tool", "run", "wall s", "user s", "sys s", "CPU s", "CPU ÷ wall", "peak RSS MiB", "reads/s", "result"],
        [
            [
                run.tool,
                str(run.number),
                f"{run.wall:.2f}",
                f"{run.user:.2f}",
                f"{run.system:.2f}",
                f"{run.cpu:.2f}",
                f"{run.cpu / run.wall:.2f}",
                f"{run.max_rss / MIB:.0f}",
                f"{reads / run.wall:,.0f}",
                run.status,
            ]
            for run in runs
        ],
    )
    medians = {}
    for tool in labels:
        chosen = [run for run in runs if run.tool == tool]
        medians[tool] = {key: median(chosen, key) for key in ("wall", "cpu", "max_rss")}
    base = medians["fastqc"]
    print()
    rows = []
    for tool, label in labels.items():
        value = medians[tool]
        rows.append(
            [
                label,
                f"{value['wall']:.2f}",
                f"{value['cpu']:.2f}",
                f"{value['max_rss'] / MIB:.0f}",
                f"{reads / value['wall']:,.0f}",
                f"{base['wall'] / value['wall']:.2f}x",
                f"{base['cpu'] / value['cpu']:.2f}x",
                f"{value['max_rss'] / base['max_rss']:.2f}",
            ]
        )
    table(
        [
            "tool (median of runs)",
            "wall s",
            "CPU s",
            "peak RSS MiB",
            "reads/s",
            "speed-up (FastQC wall ÷ wall)",
            "CPU-time ratio (FastQC CPU ÷ CPU)",
            "memory ratio (peak RSS ÷ FastQC's)",
        ],
        rows,
    )
    return medians


# --- Main ---------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=1_000_000, help="reads in the file (default 1,000,000)")
    parser.add_argument("--min-length", type=int, default=100, help="shortest read (default 100)")
    parser.add_argument("--max-length", type=int, default=150, help="longest read (default 150)")
    parser.add_argument("--plain", action="store_true", help="an uncompressed file (default: gzip, level 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each tool, alternating (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the file (default 1)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed for one run (default 900)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (the file, reports, JSON)")
    parser.add_argument(
        "--ours-command",
        default=None,
        help="run this instead of `python manage.py quality` (split like a shell does; FILE is appended; run "
        "from the repository root), e.g. to measure a variant of samples/quality.py",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        metavar="CHECKOUT",
        help="also time CHECKOUT's `manage.py quality` (the implementation before, e.g. a worktree of main: "
        "`git worktree add --detach /tmp/quality-main main`), run from CHECKOUT with this Python, side by side",
    )
    args = parser.parse_args()
    if args.compare is not None and not (args.compare / "manage.py").is_file():
        parser.error(f"--compare {args.compare}: no manage.py there")
    if args.reads < 1 or args.repeat < 1 or not 1 <= args.min_length <= args.max_length:
        parser.error("--reads and --repeat must be at least 1, and 1 <= --min-length <= --max-length")
    if not os.access(FASTQC, os.X_OK):
        parser.error(f"{FASTQC} is not installed (apt-get install fastqc)")

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    tmp = Path(tempfile.mkdtemp(prefix="virtool-bench-quality-"))
    try:
        source = tmp / ("reads.fq" if args.plain else "reads.fq.gz")
        started = time.perf_counter()
        size = write_fastq(
            source,
            reads=args.reads,
            min_length=args.min_length,
            max_length=args.max_length,
            seed=args.seed,
            compress=not args.plain,
        )
        print(
            f"wrote {args.reads:,} reads of {args.min_length}-{args.max_length} nt ({size / MIB:.0f} MiB of FASTQ, "
            f"{source.stat().st_size / MIB:.0f} MiB on disk, {'plain' if args.plain else 'gzip -1'}) in "
            f"{time.perf_counter() - started:.1f} s; {source}",
            flush=True,
        )
        env = dict(os.environ)
        for name in ("DATABASE_URL", "SENTRY_DSN", "DJANGO_SECRET_KEY"):
            env.pop(name, None)
        env.update(DJANGO_SETTINGS_MODULE="virtool_site.settings", VIRTOOL_DATA_PATH=str(tmp / "data"))
        ours_json = tmp / "ours.json"
        fastqc_out = tmp / "fastqc"
        before_json = tmp / "before.json"
        commands = {
            "ours": [*(shlex.split(args.ours_command) if args.ours_command else OURS), str(source)],
            "fastqc": [FASTQC, "-q", "-f", "fastq", "--extract", "-o", str(fastqc_out), str(source)],
        }
        if args.compare is not None:
            commands["before"] = [*OURS, str(source)]
        tools = ["ours", *(["before"] if args.compare is not None else []), "fastqc"]
        outputs = {"ours": ours_json, "before": before_json, "fastqc": tmp / "fastqc.stdout"}
        loads = [os.getloadavg()[0]]
        runs: list[Run] = []
        for number in range(1, args.repeat + 1):
            for tool in tools:
                if tool == "fastqc":
                    shutil.rmtree(fastqc_out, ignore_errors=True)
                    fastqc_out.mkdir()
                cwd = args.compare.resolve() if tool == "before" else ROOT
                run = measure(
                    tool,
                    number,
                    commands[tool],
                    env=env,
                    stdout=outputs[tool],
                    tmp=tmp,
                    timeout=args.timeout,
                    cwd=cwd,
                )
                runs.append(run)
                loads.append(os.getloadavg()[0])
                print(
                    f"[{number}/{args.repeat}] {tool}: {run.wall:.2f} s wall, {run.cpu:.2f} s CPU, "
                    f"{run.max_rss / MIB:.0f} MiB, {run.status} (load {loads[-1]:.2f})",
                    flush=True,
                )

        print()
        print(
            f"{shlex.join(sys.argv)}  ({args.reads:,} reads of {args.min_length}-{args.max_length} nt, "
            f"{'plain' if args.plain else 'gzip'} {source.stat().st_size / MIB:.0f} MiB; {os.cpu_count()} CPUs; "
            f"peak RSS from {'/usr/bin/time -v' if os.access(GNU_TIME, os.X_OK) else 'os.wait4'}; 1-minute load "
            f"average {min(loads):.2f}-{max(loads):.2f} during the runs)"
        )
        print()
        labels = {"ours": f"ours (`{args.ours_command}`)" if args.ours_command else "ours (`manage.py quality`)"}
        if args.compare is not None:
            labels["before"] = f"before ({args.compare}: `manage.py quality`)"
        labels["fastqc"] = "FastQC 0.11.9"
        medians = print_results(runs, args.reads, labels)
        speedup = medians["fastqc"]["wall"] / medians["ours"]["wall"]
        smaller = medians["ours"]["max_rss"] < medians["fastqc"]["max_rss"]
        print()
        if args.compare is not None:
            print(f"Ours against before: {medians['before']['wall'] / medians['ours']['wall']:.2f}x (wall).")
        print(
            f"Goal (at least {GOAL:g}x faster than FastQC, with less memory): {speedup:.2f}x "
            f"{'and' if smaller else 'but'} {'less' if smaller else 'more'} memory: "
            f"{'met' if speedup >= GOAL and smaller else 'NOT met'}."
        )

        print()
        last_ours = next((run for run in reversed(runs) if run.tool == "ours"), None)
        last_fastqc = next((run for run in reversed(runs) if run.tool == "fastqc"), None)
        if not (last_ours and last_ours.ok and last_fastqc and last_fastqc.ok):
            print("The numbers were not compared: the last run of a tool failed.")
            return 1
        ours = json.loads(ours_json.read_text())
        theirs = fastqc_document(source, fastqc_out)
        rows = compare(ours, theirs, args.max_length)
        if args.compare is not None:
            last_before = next((run for run in reversed(runs) if run.tool == "before"), None)
            same = bool(last_before and last_before.ok and json.loads(before_json.read_text()) == ours)
            rows.append(("(ours vs before)", "the whole JSON document", "same" if same else "DIFFERENT"))
        table(["field", "compared", "ours vs FastQC (last runs)"], [list(row) for row in rows])
        return 0 if all(run.ok for run in runs) and all(row[2] == "same" for row in rows) else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the running tool was stopped and the temp dir removed", file=sys.stderr)
        sys.exit(130)
