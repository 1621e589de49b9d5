"""A bench's worker: a Python process of its own running a script that reads lines on stdin and reports
on stderr, its report lines starting with REPORT and followed by JSON. slack.py and sweep.py subclass it
with what they send and how they read the reports."""

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any, Self

REPORT = "BENCH "  # the worker's report lines on stderr start with this


class Worker:
    """`script` run by a Python process of its own with `arguments` and `environment`; `owner` (the
    bench's file) names it when it ends before reporting."""

    def __init__(self, script: str, environment: dict[str, str], *arguments: str, owner: str) -> None:
        self.owner = owner
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, *arguments],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,  # the function's log lines
            stderr=subprocess.PIPE,
            text=True,
        )

    def send(self, line: str) -> None:
        """`line` written to the worker's stdin, at once."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def report(self) -> dict[str, Any]:
        """The worker's next report."""
        line = self.line(lambda line: line.startswith(REPORT))
        report: dict[str, Any] = json.loads(line.removeprefix(REPORT))
        return report

    def line(self, wanted: Callable[[str], bool]) -> str:
        """The worker's next `wanted` line on stderr; the others, if it ends first, in the error."""
        assert self.process.stderr is not None
        other: list[str] = []
        for line in self.process.stderr:
            if wanted(line):
                return line
            other.append(line)
        raise RuntimeError(f"a {self.owner} worker ended:\n" + "".join(other))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()
