"""`jobs.tools.piped`: a supervised program whose stdout (and stdin) the caller streams. Real processes, no DB."""

from __future__ import annotations

import sys
import time

import pytest

from jobs.tools import ToolCancelled, ToolError, piped

PY = sys.executable


def test_stdout_is_streamed_to_the_body():
    with piped([PY, "-c", "import sys; sys.stdout.write(''.join(f'line {i}\\n' for i in range(50000)))"]) as tool:
        lines = tool.stdout.read().splitlines()
    assert len(lines) == 50000
    assert lines[-1] == b"line 49999"


def test_stdin_reaches_the_program_and_it_is_awaited(tmp_path):
    target = tmp_path / "copy"
    with piped([PY, "-c", f"import sys, shutil; shutil.copyfileobj(sys.stdin.buffer, open({str(target)!r}, 'wb'))"],
               stdin=True) as tool:  # fmt: skip
        for _ in range(100):
            tool.stdin.write(b"x" * 10000)
    assert target.read_bytes() == b"x" * 1_000_000  # the program had finished when the block ended


def consume(command, body, **kwargs) -> None:
    with piped(command, **kwargs) as tool:
        body(tool)


def test_a_program_that_fails_mid_stream_is_a_tool_error():
    def body(tool) -> None:
        assert tool.stdout.read() == b"partial\n"  # a truncated stream, read as if whole

    with pytest.raises(ToolError) as error:
        consume(["sh", "-c", "echo partial; echo boom >&2; exit 3"], body)
    assert error.value.returncode == 3
    assert error.value.stderr_tail == ["boom"]


def test_an_error_in_the_body_kills_the_program_and_is_raised():
    def body(tool) -> None:
        raise ValueError("the parser refused line 3")

    started = time.monotonic()
    with pytest.raises(ValueError, match="parser"):
        consume(["sleep", "30"], body)
    assert time.monotonic() - started < 10


def test_a_body_error_after_the_program_failed_reports_the_program():
    def body(tool) -> None:
        tool.stdout.read()
        time.sleep(0.2)
        raise ValueError("line 1: expected at least 11 tab-separated fields")

    with pytest.raises(ToolError):
        consume(["sh", "-c", "echo 'half a rec'; exit 1"], body)


def test_cancellation_stops_the_program():
    stop = {"now": False}

    def body(tool) -> None:
        stop["now"] = True
        assert tool.stdout.read() == b""  # EOF once the process group is killed

    with pytest.raises(ToolCancelled):
        consume(["sleep", "30"], body, should_stop=lambda: stop["now"], grace=0.5)


def test_missing_program():
    with pytest.raises(ToolError, match="exited with status 127"):
        consume(["no-such-program-xyz"], lambda tool: None)
