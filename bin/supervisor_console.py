"""A supervisor event listener (bin/supervisord.conf) that prints each program's output as `name | line`.

supervisord sends it every chunk a program writes (PROCESS_LOG events, supervisor's listener protocol: READY,
then a header line with the payload's length in bytes, the payload, and RESULT); it writes whole lines, prefixed
with the program's name, to its stderr, which supervisord passes on to its own output (the terminal of `make run`).
"""

from __future__ import annotations

import signal
import sys

WIDTH = 14


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # supervisord stopping it is a normal end
    stdin, stdout, stderr = sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer
    partial: dict[bytes, bytes] = {}
    while True:
        stdout.write(b"READY\n")
        stdout.flush()
        header = dict(token.split(b":", 1) for token in stdin.readline().split())
        payload = stdin.read(int(header[b"len"]))
        if header[b"eventname"].startswith(b"PROCESS_LOG"):
            first, _, data = payload.partition(b"\n")
            name = dict(token.split(b":", 1) for token in first.split())[b"processname"]
            lines = (partial.pop(name, b"") + data).split(b"\n")
            partial[name] = lines.pop()  # an unfinished line waits for the rest
            prefix = name.decode().ljust(WIDTH).encode() + b"| "
            stderr.write(b"".join(prefix + line + b"\n" for line in lines if line))
            stderr.flush()
        stdout.write(b"RESULT 2\nOK")
        stdout.flush()


if __name__ == "__main__":
    main()
