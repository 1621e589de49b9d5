"""Fan-out: one alarm stopping 1, 10 and 50 deployments in flight, with LATENCY seconds injected into
every CodeDeploy call, beside a bare boto3 client stopping the same number one after another."""

import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3

from local import fake_codedeploy
from local.context import LambdaContext

LATENCY = 0.1
FAN_OUT_SIZES = (1, 10, 50)
ALARM = "bench-alarm"


def alarm_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "bench",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "resources": [],
        "detail": {
            "alarmName": ALARM,
            "state": {"value": "ALARM"},
            "alarmTags": {},
            "alarmTagsStatus": "SUCCESS",
        },
    }


def seed(client: Any, group: str, count: int) -> list[str]:
    fake_codedeploy.set_latency(0)
    ids = [fake_codedeploy.create_deployment(client, "bench", group) for _ in range(count)]
    fake_codedeploy.set_latency(LATENCY)
    return ids


def fan_out(client: Any, count: int, run: int) -> float:
    """Seconds for lambda_handler to stop `count` deployments of one alarm (warm, in-process)."""
    from stop_deployment import settings
    from stop_deployment.handler import lambda_handler
    from stop_deployment.observability import metrics

    group = f"fanout-{count}-{run}"
    ids = seed(client, group, count)
    os.environ["ALARM_TARGETS"] = json.dumps({ALARM: [f"bench/{group}"]})
    settings.get.cache_clear()
    started = time.perf_counter()
    summary = lambda_handler(alarm_event(), LambdaContext())
    elapsed = time.perf_counter() - started
    metrics.clear_metrics()  # disabled metrics still pile up and print when 100 values accumulate
    assert summary["counts"] == {"stop_requested": count}, summary["counts"]
    assert sorted(d["deploymentId"] for d in summary["deployments"]) == sorted(ids)
    return elapsed


def sequential_boto3(client: Any, count: int, run: int) -> float:
    """Baseline: a bare boto3 client stopping the same number of known ids one after another."""
    ids = seed(client, f"baseline-{count}-{run}", count)
    started = time.perf_counter()
    for deployment_id in ids:
        client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    return time.perf_counter() - started


def measure(repeat: int) -> dict[str, Any]:
    client = boto3.client("codedeploy")
    samples: dict[tuple[str, int], list[float]] = {}
    for run in range(repeat):  # interleaved: every case once per round
        for count in FAN_OUT_SIZES:
            cases: list[tuple[str, Callable[[Any, int, int], float]]] = [
                ("handler", fan_out),
                ("boto3_sequential", sequential_boto3),
            ]
            for name, case in cases:
                samples.setdefault((name, count), []).append(case(client, count, run))
    one = statistics.median(samples[("handler", 1)])
    rows = []
    for count in FAN_OUT_SIZES:
        handler = statistics.median(samples[("handler", count)])
        baseline = statistics.median(samples[("boto3_sequential", count)])
        rows.append(
            {
                "deployments": count,
                "handler_ms": round(handler * 1000, 1),
                "handler_vs_one": round(handler / one, 2),
                "boto3_sequential_ms": round(baseline * 1000, 1),
                "handler_vs_sequential": round(handler / baseline, 2),
            }
        )
    return {"latency_ms_per_call": LATENCY * 1000, "repeat": repeat, "fan_out": rows}
