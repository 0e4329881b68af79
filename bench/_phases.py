"""Per-step figures of a job run in this process: time in each external program, peak RSS of this process (the
Python worker) and of the programs it started, for the workflow benchmarks (`pathoscope.py`, `nuvs.py`).

`Phases` wraps `JobContext` while a job runs: every `JobContext.run` and `JobContext.pipe` (a program whose output
the step streams) is timed and charged to the running step (with its program's name and the CPU time of the children
it waited for; programs piped side by side count once, as the time during which any ran), the worker's own CPU time
(`time.process_time`, all its threads) is taken at each step change, and a thread samples, every `interval` seconds,
the resident memory of every process descended from this one (the tools: bowtie2, skewer, SPAdes and the programs
SPAdes starts), keeping each step's largest sum. The worker's own peak per step is exact: at each step change the
thread reads this process's high-water mark (`VmHWM`) and resets it (`/proc/self/clear_refs`, Linux). Each step is
also printed to stderr as it ends (`log`), so a run stopped by a time limit still tells how far it got.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class StepFigures:
    name: str
    started: float
    wall: float = 0.0
    tools: dict[str, float] = field(default_factory=dict)  # program -> seconds (piped programs overlap)
    in_tools: float = 0.0  # seconds during which at least one program ran (the union of `tools`)
    tool_cpu: float = 0.0
    worker_cpu: float = 0.0  # CPU seconds of this process (the worker's Python, and the kernels it calls)
    worker_peak_kb: int = 0
    tools_peak_kb: int = 0


def _status_kb(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    with contextlib.suppress(OSError):  # not Linux, or not allowed: the peak then holds since the last reset
        Path("/proc/self/clear_refs").write_text("5")


def descendants_rss_kb(root: int) -> int:
    """Resident memory (kB) of every process descended from `root`, summed (one scan of /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            statm = Path(entry.path, "statm").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        rss[pid] = int(statm.split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    total = 0
    for pid in rss:
        ancestor, hops = parents.get(pid, 0), 0
        while ancestor not in (0, 1, root) and hops < 64:
            ancestor, hops = parents.get(ancestor, 0), hops + 1
        if ancestor == root:
            total += rss[pid]
    return total


class Phases:
    """See the module's docstring. Use `with phases.watch(): job_execute(...)`; then `steps` and `peak_kb`."""

    def __init__(self, *, interval: float = 0.25, log: bool = True) -> None:
        self.interval = interval
        self.log = log
        self.steps: dict[str, StepFigures] = {}
        self.context = None
        self._current: StepFigures | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._active = 0  # programs running now (piped ones run side by side)
        self._active_since = 0.0
        self._cpu_at_switch = 0.0

    def _children_cpu(self) -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def _switch(self, name: str | None) -> None:
        """Close the running step (its wall time and the worker's peak since it began) and open `name`."""
        now = time.perf_counter()
        with self._lock:
            current = self._current
            cpu = time.process_time()
            if current is not None:
                current.wall = now - current.started
                current.worker_cpu += cpu - self._cpu_at_switch
                current.worker_peak_kb = max(current.worker_peak_kb, _status_kb("VmHWM"))
                if self.log:
                    tools = ", ".join(f"{tool} {seconds:.1f} s" for tool, seconds in current.tools.items())
                    print(
                        f"[phases] {current.name}: {current.wall:.1f} s ({tools or 'no tools'}); worker peak "
                        f"{current.worker_peak_kb / 1024:.0f} MB, tools peak {current.tools_peak_kb / 1024:.0f} MB",
                        file=sys.stderr,
                        flush=True,
                    )
            self._cpu_at_switch = cpu
            _reset_peak()
            self._current = None
            if name is not None:
                self._current = self.steps.setdefault(name, StepFigures(name=name, started=now))

    def _sample(self) -> None:
        root = os.getpid()
        while not self._stop.wait(self.interval):
            context = self.context
            name = context.step.name if context is not None and context.step is not None else None
            if (self._current is None and name is not None) or (
                self._current is not None and name != self._current.name
            ):
                self._switch(name)
            tools_kb = descendants_rss_kb(root)
            with self._lock:
                if self._current is not None:
                    self._current.tools_peak_kb = max(self._current.tools_peak_kb, tools_kb)
                    self._current.worker_peak_kb = max(self._current.worker_peak_kb, _status_kb("VmHWM"))

    @contextmanager
    def watch(self):
        from unittest import mock

        from jobs import runner

        phases = self
        original_init, original_run = runner.JobContext.__init__, runner.JobContext.run
        original_pipe = getattr(runner.JobContext, "pipe", None)  # an older checkout (`--compare`) has no pipe

        def init(self, *args, **kwargs):
            original_init(self, *args, **kwargs)
            phases.context = self

        @contextmanager
        def timed(context, command):
            started, cpu = time.perf_counter(), phases._children_cpu()
            with phases._lock:
                phases._active += 1
                if phases._active == 1:
                    phases._active_since = started
            try:
                yield
            finally:
                now = time.perf_counter()
                name = context.step.name if context.step is not None else "?"
                with phases._lock:
                    figures = phases.steps.setdefault(name, StepFigures(name=name, started=started))
                    program = Path(command[0]).name
                    if program == "samtools" and len(command) > 1:  # one line per subcommand: sort, consensus...
                        program = f"samtools {command[1]}"
                    figures.tools[program] = figures.tools.get(program, 0.0) + now - started
                    figures.tool_cpu += phases._children_cpu() - cpu
                    phases._active -= 1
                    if phases._active == 0:
                        figures.in_tools += now - phases._active_since

        def run(self, command, **kwargs):
            with timed(self, command):
                return original_run(self, command, **kwargs)

        @contextmanager
        def pipe(self, command, **kwargs):
            # A program whose output the step streams (bowtie2 into the SAM parser): its time counts as the tool's;
            # the Python reading alongside shows in the step's worker CPU.
            with timed(self, command), original_pipe(self, command, **kwargs) as handle:
                yield handle

        thread = threading.Thread(target=self._sample, daemon=True, name="bench-phases")
        patches = [
            mock.patch.object(runner.JobContext, "__init__", init),
            mock.patch.object(runner.JobContext, "run", run),
        ]
        if original_pipe is not None:
            patches.append(mock.patch.object(runner.JobContext, "pipe", pipe))
        with contextlib.ExitStack() as stack:
            for patch in patches:
                stack.enter_context(patch)
            self._cpu_at_switch = time.process_time()
            _reset_peak()
            thread.start()
            try:
                yield self
            finally:
                self._stop.set()
                thread.join()
                self._switch(None)

    def tool_seconds(self, step: str) -> float:
        figures = self.steps.get(step)
        return figures.in_tools if figures else 0.0


def process_peak_mb() -> tuple[float, float]:
    """Peak RSS (MB) of this process over its life, and of the largest child it waited for."""
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def step_figures(records: list[dict], finished, phases: Phases, total: float) -> dict:
    """Per step of a finished job (its `running` status records, in order, and when it finished): wall time (from
    the records), time while a tool ran, the rest, the worker's CPU time and peak RSS, the tools' peak RSS; and
    the same over the whole job. A plain dict, so that a `--compare` side can hand it over as JSON."""
    import arrow

    steps: dict[str, dict] = {}
    for position, record in enumerate(records):
        end = arrow.get(records[position + 1]["timestamp"]) if position + 1 < len(records) else finished
        wall = (end - arrow.get(record["timestamp"])).total_seconds()
        figures = phases.steps.get(record["stage"])
        tools = phases.tool_seconds(record["stage"])
        steps[record["stage"]] = {
            "wall": wall,
            "tools": tools,
            "tool_names": ", ".join(f"{name} {seconds:.1f}" for name, seconds in figures.tools.items())
            if figures
            else "",
            "other": wall - tools,
            "worker_cpu": figures.worker_cpu if figures else 0.0,
            "worker_mb": figures.worker_peak_kb / 1024 if figures else 0.0,
            "tools_mb": round(figures.tools_peak_kb / 1024) if figures else 0,
        }
    tools_total = sum(row["tools"] for row in steps.values())
    return {
        "steps": steps,
        "total": {
            "wall": total,
            "tools": tools_total,
            "other": total - tools_total,
            "worker_cpu": sum(f.worker_cpu for f in phases.steps.values()),
            "worker_mb": max((f.worker_peak_kb for f in phases.steps.values()), default=0) / 1024,
            "tools_mb": max((f.tools_peak_kb for f in phases.steps.values()), default=0) / 1024,
        },
    }


def run_sides(script: str, checkouts: dict[str, Path], arguments: list[str]) -> dict[str, dict]:
    """The sides of a `--compare`: `script` with `arguments`, once per checkout, each in a fresh process running that
    checkout's code (`--code`, from inside it: Celery puts the working folder first on the import path as it loads,
    so paths in `arguments` must be absolute); the figures each side wrote (`--json`), by label, in the order given."""
    sides = {}
    with tempfile.TemporaryDirectory(prefix="virtool-bench-sides-") as scratch:
        for label, checkout in checkouts.items():
            code = checkout.resolve()
            result = Path(scratch) / f"{label}.json"
            print(f"--- {label}: {code}", flush=True)
            command = [sys.executable, script, *arguments, "--code", str(code), "--json", str(result)]
            subprocess.run(command, check=True, cwd=code)
            sides[label] = json.loads(result.read_text())
    return sides


def print_comparison(sides: dict[str, dict], *, names: tuple[str, str]) -> None:
    """Two runs' step tables side by side: wall, time outside the tools (with its share of the whole job), the
    worker's CPU time and peak RSS, the tools' peak RSS."""
    this, other = sides["this"], sides["compare"]
    columns = "wall s | outside tools s | worker CPU s | worker peak MB | tools peak MB"
    print()
    print(f"| step | {names[0]}: {columns} | {names[1]}: {columns} |")
    print("|---|" + "---:|" * 10)
    steps = list(dict.fromkeys([*this["steps"], *other["steps"]]))
    for step in [*steps, "whole job"]:
        cells = []
        for side in (this, other):
            row = side["steps"].get(step) if step != "whole job" else side["total"]
            if not row:
                cells += [""] * 5
                continue
            outside = f"{row['other']:.2f}"
            if step == "whole job":
                outside = f"**{outside} ({100 * row['other'] / row['wall']:.1f} %)**"
            cells += [
                f"{row['wall']:.2f}",
                outside,
                f"{row.get('worker_cpu', 0.0):.2f}",
                f"{row['worker_mb']:.0f}",
                f"{row['tools_mb']:.0f}",
            ]
        print(f"| {step} | " + " | ".join(cells) + " |")
