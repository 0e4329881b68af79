"""Workflows used by the job-engine tests; workers load them with VIRTOOL_WORKFLOW_MODULES=tests.jobs.workflows."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.conf import settings

from jobs.constants import JobSize
from jobs.workflow import Workflow, register, step


def _journal(ctx, event: str) -> None:
    """Append an event to the job's journal file (outside its work folder, which the runner removes)."""
    path = Path(settings.DATA_PATH) / "journal" / f"{ctx.job.pk}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps({"event": event, "time": time.time(), "proc": ctx.proc, "mem": ctx.mem}) + "\n")


def journal(job_id: str) -> list[dict]:
    """Events a test job recorded, in order."""
    path = Path(settings.DATA_PATH) / "journal" / f"{job_id}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@register
class ThreeSteps(Workflow):
    """Three quick steps that report progress."""

    name = "test_three_steps"
    display_name = "Three steps"
    size = JobSize.SMALL

    @step("Prepare", "Make the work folder.")
    def prepare(self, ctx) -> None:
        _journal(ctx, "prepare")
        (ctx.work_path / "partial.txt").write_text("half done")

    @step("Count", "Count to ten.")
    def count(self, ctx) -> None:
        for index in range(10):
            ctx.progress(index + 1, 10)
        _journal(ctx, "count")

    @step("Finish", "Write the result.")
    def finish(self, ctx) -> None:
        _journal(ctx, "finish")

    def cleanup(self, ctx) -> None:
        _journal(ctx, "cleanup")


@register
class LongTool(Workflow):
    """A step whose external program runs for a minute (a shell that starts a grandchild)."""

    name = "test_long_tool"
    display_name = "Long tool"
    size = JobSize.SMALL

    @step("Write partial output", "Leave a partial file behind, as a real tool would.")
    def partial(self, ctx) -> None:
        output = Path(ctx.args["output"])
        output.write_text("partial")
        _journal(ctx, "partial")

    @step("Run tool", "A program that takes long.")
    def run(self, ctx) -> None:
        pid_file = Path(settings.DATA_PATH) / "journal" / f"{ctx.job.pk}.pids"
        # The shell writes its own pid and a grandchild's pid, then waits: the whole tree must go on cancel.
        ctx.run(["sh", "-c", f"sleep 60 & echo $$ $! > {pid_file}; wait"])

    def cleanup(self, ctx) -> None:
        Path(ctx.args["output"]).unlink(missing_ok=True)
        _journal(ctx, "cleanup")


@register
class FailingTool(Workflow):
    """A step whose program fails with messages on stderr."""

    name = "test_failing_tool"
    display_name = "Failing tool"
    size = JobSize.SMALL

    @step("Map reads", "Map the reads with a program that fails.")
    def map_reads(self, ctx) -> None:
        ctx.run(["sh", "-c", "echo 'reading index' >&2; echo 'Error: reference.1.bt2 is truncated' >&2; exit 3"])

    def cleanup(self, ctx) -> None:
        _journal(ctx, "cleanup")


@register
class Raising(Workflow):
    """A step that raises."""

    name = "test_raising"
    display_name = "Raising"
    size = JobSize.SMALL

    @step("Parse", "Parse something that is not there.")
    def parse(self, ctx) -> None:
        raise ValueError("the file has no header line")

    def cleanup(self, ctx) -> None:
        _journal(ctx, "cleanup")


@register
class SlowProgress(Workflow):
    """One step that moves its progress from 0 to 100% over about 20 seconds."""

    name = "test_slow_progress"
    display_name = "Slow progress"
    size = JobSize.SMALL

    @step("Crawl", "Report progress slowly.")
    def crawl(self, ctx) -> None:
        for index in range(200):
            ctx.progress(index, 200)
            time.sleep(0.1)


class _Hold(Workflow):
    """Hold the reservation for `seconds` (args), journaling start and end."""

    display_name = "Hold"

    @step("Hold", "Keep the reservation for a while.")
    def hold(self, ctx) -> None:
        _journal(ctx, "start")
        deadline = time.monotonic() + float(ctx.args.get("seconds", 1))
        while time.monotonic() < deadline:
            ctx.check()
            time.sleep(0.05)
        _journal(ctx, "end")


@register
class HoldSmall(_Hold):
    name = "test_hold_small"
    size = JobSize.SMALL


@register
class HoldLarge(_Hold):
    name = "test_hold_large"
    size = JobSize.LARGE


@register
class Python(Workflow):
    """A step running the Python interpreter (to show the reserved proc reaches tools)."""

    name = "test_threads"
    display_name = "Threads"
    size = JobSize.SMALL

    @step("Echo", "Pass the reserved cores to a tool.")
    def echo(self, ctx) -> None:
        ctx.run([sys.executable, "-c", "import sys; print(sys.argv[1])", str(ctx.proc)])
        _journal(ctx, "echo")


@register
class TimeLimited(Workflow):
    """A job with a two-second time limit whose tool runs for thirty."""

    name = "test_time_limit"
    display_name = "Time limited"
    size = JobSize.SMALL
    time_limit = 2

    @step("Wait", "Run a program that outlives the time limit.")
    def wait(self, ctx) -> None:
        pid_file = Path(settings.DATA_PATH) / "journal" / f"{ctx.job.pk}.pids"
        ctx.run(["sh", "-c", f"echo $$ > {pid_file}; sleep 30"])

    def cleanup(self, ctx) -> None:
        _journal(ctx, "cleanup")
