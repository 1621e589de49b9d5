"""Warm overhead: one direct-invocation stop through lambda_handler minus the same stop by a bare
boto3 client, both warm and in the same process, interleaved; medians over many invocations.

The handler's logging and EMF metrics stay on (written to /dev/null): they are part of its cost.
"""

import contextlib
import os
import statistics
import time
from collections.abc import Iterator
from typing import Any

import boto3

from local import fake_codedeploy
from local.context import LambdaContext


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Send the handler's log lines and EMF metrics to /dev/null: still formatted, not printed."""
    from stop_deployment.observability import logger

    handler = logger.registered_handler
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        stream, handler.stream = handler.stream, sink  # type: ignore[attr-defined]
        try:
            yield
        finally:
            handler.stream = stream  # type: ignore[attr-defined]


def measure(invocations: int) -> dict[str, Any]:
    from stop_deployment import settings
    from stop_deployment.handler import lambda_handler

    settings.get.cache_clear()
    bare = boto3.client("codedeploy")
    ids = [fake_codedeploy.create_deployment(bare, "bench", "warm") for _ in range(2 * invocations + 20)]
    handler_times: list[float] = []
    bare_times: list[float] = []
    with silenced():
        for i, deployment_id in enumerate(ids[:20]):  # warm both: clients, connections, caches
            if i % 2:
                lambda_handler({"deploymentId": deployment_id}, LambdaContext())
            else:
                bare.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)

        for i in range(invocations):
            through_handler, direct = ids[20 + 2 * i], ids[21 + 2 * i]
            started = time.perf_counter()
            lambda_handler({"deploymentId": through_handler}, LambdaContext())
            handler_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            bare.stop_deployment(deploymentId=direct, autoRollbackEnabled=True)
            bare_times.append(time.perf_counter() - started)
    handler_ms = statistics.median(handler_times) * 1000
    bare_ms = statistics.median(bare_times) * 1000
    return {
        "invocations": invocations,
        "handler_ms": round(handler_ms, 2),
        "bare_boto3_ms": round(bare_ms, 2),
        "overhead_ms": round(handler_ms - bare_ms, 2),
    }
