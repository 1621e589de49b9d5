"""Read what the function printed: its structured log lines and its EMF metric blobs (a helper module,
not a test module, so any test can import it)."""

import json
from typing import Any


def log_lines(output: str) -> list[dict[str, Any]]:
    """The structured JSON log lines (not the EMF metric blobs) a test captured from stdout."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" not in line]


def metric_blobs(output: str) -> list[dict[str, Any]]:
    """The EMF metric blobs a test captured from stdout."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]
