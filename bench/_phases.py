"""Per-step figures of a job run in this process: time in each external program, peak RSS of this process (the
Python worker) and of the programs it started, for the workflow benchmarks (`pathoscope.py`, `nuvs.py`).

`Phases` wraps `JobContext` while a job runs: every `JobContext.run` is timed and charged to the running step (with
its program's name and the CPU time of the children it waited for), and a thread samples, every `interval` seconds,
the resident memory of every process descended from this one (the tools: bowtie2, skewer, SPAdes and the programs
SPAdes starts), keeping each step's largest sum. The worker's own peak per step is exact: at each step change the
thread reads this process's high-water mark (`VmHWM`) and resets it (`/proc/self/clear_refs`, Linux). Each step
is also printed to stderr as it ends (`log`), so a run stopped by a time limit still tells how far it got.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
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
    tools: dict[str, float] = field(default_factory=dict)  # program -> seconds
    tool_cpu: float = 0.0
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

    def _children_cpu(self) -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def _switch(self, name: str | None) -> None:
        """Close the running step (its wall time and the worker's peak since it began) and open `name`."""
        now = time.perf_counter()
        with self._lock:
            current = self._current
            if current is not None:
                current.wall = now - current.started
                current.worker_peak_kb = max(current.worker_peak_kb, _status_kb("VmHWM"))
                if self.log:
                    tools = ", ".join(f"{tool} {seconds:.1f} s" for tool, seconds in current.tools.items())
                    print(
                        f"[phases] {current.name}: {current.wall:.1f} s ({tools or 'no tools'}); worker peak "
                        f"{current.worker_peak_kb / 1024:.0f} MB, tools peak {current.tools_peak_kb / 1024:.0f} MB",
                        file=sys.stderr,
                        flush=True,
                    )
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

        def init(self, *args, **kwargs):
            original_init(self, *args, **kwargs)
            phases.context = self

        def run(self, command, **kwargs):
            started, cpu = time.perf_counter(), phases._children_cpu()
            try:
                return original_run(self, command, **kwargs)
            finally:
                name = self.step.name if self.step is not None else "?"
                figures = phases.steps.setdefault(name, StepFigures(name=name, started=started))
                program = Path(command[0]).name
                figures.tools[program] = figures.tools.get(program, 0.0) + time.perf_counter() - started
                figures.tool_cpu += phases._children_cpu() - cpu

        thread = threading.Thread(target=self._sample, daemon=True, name="bench-phases")
        with mock.patch.object(runner.JobContext, "__init__", init), mock.patch.object(runner.JobContext, "run", run):
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
        return sum(figures.tools.values()) if figures else 0.0


def process_peak_mb() -> tuple[float, float]:
    """Peak RSS (MB) of this process over its life, and of the largest child it waited for."""
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )
