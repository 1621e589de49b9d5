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


def metric_total(output: str, name: str) -> float:
    """The sum of metric `name` over every EMF blob a test captured."""
    total = 0.0
    for blob in metric_blobs(output):
        value = blob.get(name, 0)
        total += sum(value) if isinstance(value, list) else value
    return total
