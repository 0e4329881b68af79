"""Run external programs (bowtie2, SPAdes, skewer, hmmscan, ...) under supervision.

The child gets its own process group, so cancellation and time limits kill the whole tree (SIGTERM, then SIGKILL
after a grace period) and never leave an orphan. Output is streamed line by line to the log and to an optional
callback; the tail of stderr is kept for error messages a scientist can read.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

GRACE_SECONDS = 2.0
POLL_SECONDS = 0.1
_PR_SET_PDEATHSIG = 1


class ToolError(Exception):
    """The program exited with a non-zero status."""

    def __init__(self, command: Sequence[str], returncode: int, stderr_tail: list[str]) -> None:
        self.command = list(command)
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        program = Path(self.command[0]).name
        super().__init__(f"{program} exited with status {returncode}")

    @property
    def program(self) -> str:
        """The program's name, e.g. `bowtie2`."""
        return Path(self.command[0]).name


class ToolCancelled(Exception):
    """The program was stopped because its job was cancelled."""


class ToolTimeout(Exception):
    """The program ran longer than its time limit and was stopped."""


@dataclass
class ToolResult:
    """What a finished program left behind."""

    returncode: int
    stderr_tail: list[str] = field(default_factory=list)


def _die_with_parent() -> None:
    """In the child: get SIGKILL if the worker process dies (kill -9), so no tool outlives it."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def kill_process_group(pgid: int, grace: float = GRACE_SECONDS) -> None:
    """SIGTERM a process group, then SIGKILL whatever is left after `grace` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _pump(stream, sink: Callable[[str], None]) -> None:
    for raw in iter(stream.readline, b""):
        sink(raw.decode(errors="replace").rstrip("\n"))
    stream.close()


def run_tool(
    command: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    stdout_path: str | Path | None = None,
    on_stdout: Callable[[str], None] | None = None,
    on_stderr: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_start: Callable[[int], None] | None = None,
    timeout: float | None = None,
    tail_lines: int = 20,
    grace: float = GRACE_SECONDS,
) -> ToolResult:
    """Run `command` to completion; raise ToolError, ToolCancelled or ToolTimeout.

    `stdout_path` sends standard output to a file (for SAM output and the like) instead of the log.
    `should_stop` is polled every 0.1 s; when it returns True the process group is killed and ToolCancelled
    raised. `on_start` receives the process group id (to record it for the crash reaper).
    """
    command = [str(part) for part in command]
    log.info("running %s", shlex.join(command))
    stdout_file = open(stdout_path, "wb") if stdout_path else None  # noqa: SIM115  (closed below)
    tail: deque[str] = deque(maxlen=tail_lines)

    def stderr_sink(line: str) -> None:
        tail.append(line)
        log.info("%s: %s", Path(command[0]).name, line)
        if on_stderr:
            on_stderr(line)

    def stdout_sink(line: str) -> None:
        log.debug("%s: %s", Path(command[0]).name, line)
        if on_stdout:
            on_stdout(line)

    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout_file or subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: killpg reaches every descendant
            preexec_fn=_die_with_parent,
        )
    except FileNotFoundError:
        if stdout_file:
            stdout_file.close()
        raise ToolError(command, 127, [f"{command[0]}: command not found"]) from None

    pumps = [threading.Thread(target=_pump, args=(process.stderr, stderr_sink), daemon=True)]
    if stdout_file is None:
        pumps.append(threading.Thread(target=_pump, args=(process.stdout, stdout_sink), daemon=True))
    for pump in pumps:
        pump.start()
    if on_start:
        on_start(process.pid)

    deadline = time.monotonic() + timeout if timeout else None
    outcome: type[Exception] | None = None
    try:
        while process.poll() is None:
            if should_stop and should_stop():
                outcome = ToolCancelled
                break
            if deadline and time.monotonic() > deadline:
                outcome = ToolTimeout
                break
            time.sleep(POLL_SECONDS)
    finally:
        # Whatever happened (cancel, time limit, an exception in this thread), nothing of the tree survives.
        kill_process_group(process.pid, grace if process.poll() is None else 0)
        process.wait()
        for pump in pumps:
            pump.join(timeout=5)
        if stdout_file:
            stdout_file.close()

    if outcome is ToolCancelled:
        raise ToolCancelled(f"{Path(command[0]).name} was stopped because the job was cancelled")
    if outcome is ToolTimeout:
        raise ToolTimeout(f"{Path(command[0]).name} ran longer than {timeout:.0f} s and was stopped")
    if process.returncode != 0:
        raise ToolError(command, process.returncode, list(tail))
    return ToolResult(process.returncode, list(tail))


class Piped:
    """A supervised program whose stdout (and, with `stdin=True`, stdin) the caller streams: see `piped`."""

    def __init__(self, process: subprocess.Popen, command: list[str], tail: deque[str]) -> None:
        self.process = process
        self.command = command
        self.tail = tail
        self.cancelled = threading.Event()
        self.stdout = process.stdout
        self.stdin = process.stdin


@contextlib.contextmanager
def piped(
    command: Sequence[str],
    *,
    stdin: bool = False,
    cwd: str | Path | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_start: Callable[[int], None] | None = None,
    grace: float = GRACE_SECONDS,
    tail_lines: int = 20,
):
    """Run `command` with its stdout (and optionally stdin) as pipes the `with` body streams, e.g. bowtie2's SAM
    into the parser, so that nothing is written to disk and read back.

    Supervised like `run_tool`: its own process group (killed on cancellation, on an exception in the body, or if
    the worker dies), stderr to the log with its tail kept. On leaving the body the caller's end of stdin is
    closed and the program awaited: ToolCancelled when the job was cancelled, ToolError when it exited non-zero
    (also when the body raised after the program had failed: a truncated stream is the program's error).
    """
    command = [str(part) for part in command]
    log.info("running %s |", shlex.join(command))
    tail: deque[str] = deque(maxlen=tail_lines)

    def stderr_sink(line: str) -> None:
        tail.append(line)
        log.info("%s: %s", Path(command[0]).name, line)

    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    except FileNotFoundError:
        raise ToolError(command, 127, [f"{command[0]}: command not found"]) from None
    handle = Piped(process, command, tail)
    pump = threading.Thread(target=_pump, args=(process.stderr, stderr_sink), daemon=True)
    pump.start()
    if on_start:
        on_start(process.pid)
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(POLL_SECONDS):
            if should_stop and should_stop():
                handle.cancelled.set()
                kill_process_group(process.pid, grace)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield handle
    except BaseException:
        failed_alone = process.poll() not in (None, 0)
        finished.set()
        kill_process_group(process.pid, 0 if process.poll() is not None else grace)
        process.wait()
        pump.join(timeout=5)
        if handle.cancelled.is_set():
            raise ToolCancelled(f"{Path(command[0]).name} was stopped because the job was cancelled") from None
        if failed_alone:
            raise ToolError(command, process.returncode, list(tail)) from None
        raise
    if process.stdin:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
    if process.stdout:
        for _ in iter(lambda: process.stdout.read(1 << 16), b""):  # type: ignore[union-attr]
            pass  # what the body left unread
    process.wait()
    finished.set()
    pump.join(timeout=5)
    if process.stdout:
        process.stdout.close()
    if handle.cancelled.is_set():
        raise ToolCancelled(f"{Path(command[0]).name} was stopped because the job was cancelled")
    if process.returncode != 0:
        raise ToolError(command, process.returncode, list(tail))
