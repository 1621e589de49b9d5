"""`make bench`: measure what a kill switch is judged on, beside a bare boto3 baseline in the same run.

Fan-out: one alarm stopping 1, 10 and 50 deployments in flight, with LATENCY seconds injected into
every CodeDeploy call of the local CodeDeploy (127.0.0.1). Runs are interleaved and medians reported,
because absolute times on a shared machine are noise; the ratios are what to read.

    python -m bench.run [--repeat 5] [--json bench/results/latest.json]
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from local import codedeploy as local_codedeploy

LATENCY = 0.1
FAN_OUT_SIZES = (1, 10, 50)
ALARM = "bench-alarm"


class Context:
    function_name = "stop-deployment-bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stop-deployment-bench"
    aws_request_id = "bench"


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
    local_codedeploy.set_latency(0)
    ids = [local_codedeploy.create_deployment(client, "bench", group) for _ in range(count)]
    local_codedeploy.set_latency(LATENCY)
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
    summary = lambda_handler(alarm_event(), Context())
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


def print_table(results: dict[str, Any]) -> None:
    latency, repeat = results["latency_ms_per_call"], results["repeat"]
    print(f"Fan-out: one alarm, {latency:.0f} ms per CodeDeploy call, median of {repeat} interleaved runs")
    header = ("deployments", "handler", "vs one", "bare boto3, sequential", "vs sequential")
    print(f"{header[0]:>11}  {header[1]:>10}  {header[2]:>7}  {header[3]:>22}  {header[4]:>13}")
    for row in results["fan_out"]:
        print(
            f"{row['deployments']:>11}  {row['handler_ms']:>8.1f}ms  {row['handler_vs_one']:>6.2f}x"
            f"  {row['boto3_sequential_ms']:>20.1f}ms  {row['handler_vs_sequential']:>12.2f}x"
        )
    print("target: 50 deployments within 3x the time of 1")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    server, url = local_codedeploy.start_server()
    os.environ.update(
        AWS_ENDPOINT_URL_CODEDEPLOY=url,
        AWS_ENDPOINT_URL_CLOUDWATCH=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_LOG_LEVEL="WARNING",  # one log line per stop would time the terminal
        POWERTOOLS_METRICS_DISABLED="true",
    )
    try:
        results = measure(args.repeat)
    finally:
        server.stop()
    print_table(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    fan_out_50 = next(row for row in results["fan_out"] if row["deployments"] == 50)
    return 0 if fan_out_50["handler_vs_one"] <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
