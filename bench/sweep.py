"""The freeze sweep (`{"sweep": "freezes"}`, events/freeze-sweep.json, every 5 minutes) over 100 frozen
groups, with LATENCY seconds injected into every CodeDeploy call (as in fanout.py), beside a bare boto3
client doing only what the sweep cannot skip, with the same parallelism.

The world: applications app-000..app-099, each with a group prod and a group staging, one deployment in
flight in each staging group, and one freeze kept in the ledger on `*/prod`: 100 frozen groups, found by
listing every application and its groups. Cases, interleaved in each round:

- 100 in flight (one per prod group): the first invocation of a new process (after its imports, as in a
  new Lambda environment), then a warm one (the same process's second);
- nothing in flight, the steady state during a long freeze: a warm invocation (the third);
- the baseline for each, in a process of its own, warmed once: ListDeployments for the 100 groups, then
  StopDeployment for what they list, MAX_PARALLEL_CALLS threads (and pooled connections) at a time.

The handler and the baseline run in processes of their own, as the real service would be: in this one
they would share the GIL with the local CodeDeploy's server threads. Every case checks that the 100 prod
deployments were stopped, and that no staging group was listed and no staging deployment stopped.

The ledger is on (STOPS_TABLE): the freeze is kept there, and the sweep's stops are recorded there after
the stops, within the timed invocation, as deployed (the local DynamoDB has no injected latency). The
topic (NOTIFY_TOPIC_ARN: one Publish) and Change Calendars (FREEZE_CALENDARS) are off. Everything runs
in a region of its own, so that the glob does not also list the applications other benchmarks leave.
"""

import contextlib
import json
import math
import os
import statistics
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from bench import worker
from bench.fanout import LATENCY
from local import aws, fake_codedeploy
from local.world import load_event, seed_stops_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"
APPLICATIONS = [f"app-{n:03d}" for n in range(100)]
FROZEN, SPARED = "prod", "staging"
FREEZE = f"*/{FROZEN}"
PARALLEL = 20  # clients.MAX_PARALLEL_CALLS, checked in measure (importing it here would load settings)
ROUNDS_AT_MOST = 4  # about 10 s a round, and 9 s to set up: under a minute
# Each worker reports once ready, then runs once per line it reads on stdin and reports.
SWEEPER = """
import json, sys, time
started = time.perf_counter()
from local.context import LambdaContext
from stop_deployment.handler import lambda_handler
print("BENCH", json.dumps({"imports": time.perf_counter() - started}), file=sys.stderr, flush=True)
event = json.loads(sys.argv[1])
for _ in sys.stdin:
    wall, started = time.time(), time.perf_counter()
    summary = lambda_handler(event, LambdaContext())
    seconds = time.perf_counter() - started
    print("BENCH", json.dumps({"seconds": seconds, "started": wall, "summary": summary}), file=sys.stderr,
          flush=True)
"""
BASELINE = """
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
import boto3
from botocore.config import Config
applications, group, parallel = json.loads(sys.argv[1])
client = boto3.client("codedeploy", config=Config(max_pool_connections=parallel))
active = ["Created", "Queued", "InProgress", "Baking", "Ready"]
def listed(application):
    return client.list_deployments(
        applicationName=application, deploymentGroupName=group, includeOnlyStatuses=active
    )["deployments"]
def stop(deployment_id):
    client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
print("BENCH {}", file=sys.stderr, flush=True)
for _ in sys.stdin:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        found = [deployment_id for ids in pool.map(listed, applications) for deployment_id in ids]
        list(pool.map(stop, found))
    seconds = time.perf_counter() - started
    print("BENCH", json.dumps({"seconds": seconds, "stopped": found}), file=sys.stderr, flush=True)
"""


@dataclass
class Run:
    """One timed case: its seconds, its CodeDeploy calls by operation, and what else was seen."""

    seconds: float
    calls: Counter[str]
    last_stop: float | None = None  # a sweep's: from its start to its last StopDeployment received
    imports: float | None = None  # a first invocation's process: its imports, before it


class Worker(worker.Worker):
    """A Python process of its own, running `script` with `argument` once per run()."""

    def __init__(self, url: str, script: str, argument: Any) -> None:
        super().__init__(script, _environment(url), json.dumps(argument), owner="bench/sweep.py")
        self.ready = self.report()

    def run(self) -> dict[str, Any]:
        self.send("")
        return self.report()


def measure(url: str, repeat: int) -> dict[str, Any]:
    from stop_deployment.clients import MAX_PARALLEL_CALLS

    assert MAX_PARALLEL_CALLS == PARALLEL, "bench/sweep.py: PARALLEL follows clients.MAX_PARALLEL_CALLS"
    rounds = min(repeat, ROUNDS_AT_MOST)
    runs: dict[str, list[Run]] = {}
    with _own_region():
        client = boto3.client("codedeploy")
        spared = _seed(client, SPARED)
        frozen = _seed(client, FROZEN)
        _freeze()
        with Worker(url, BASELINE, [APPLICATIONS, FROZEN, PARALLEL]) as baseline:
            _bare_boto3(baseline, frozen)  # warm-up: the client and its connections
            for _ in range(rounds):  # interleaved: every case once per round
                with Worker(url, SWEEPER, load_event("freeze-sweep.json")) as sweeper:  # a new environment
                    first = _sweep(sweeper, _in_flight_again(frozen))
                    first.imports = sweeper.ready["imports"]
                    runs.setdefault("first_100", []).append(first)
                    runs.setdefault("handler_100", []).append(_sweep(sweeper, _in_flight_again(frozen)))
                    runs.setdefault("handler_0", []).append(_sweep(sweeper, []))
                runs.setdefault("boto3_100", []).append(_bare_boto3(baseline, _in_flight_again(frozen)))
                runs.setdefault("boto3_0", []).append(_bare_boto3(baseline, []))
        assert _statuses(spared) == {"InProgress"}, "a staging deployment was touched"

    def median_ms(name: str, field: str = "seconds") -> float:
        return round(float(statistics.median(getattr(run, field) for run in runs[name])) * 1000, 1)

    rows = []
    for in_flight in (100, 0):
        handler, baseline_ms = median_ms(f"handler_{in_flight}"), median_ms(f"boto3_{in_flight}")
        calls, boto3_calls = runs[f"handler_{in_flight}"][-1].calls, runs[f"boto3_{in_flight}"][-1].calls
        rows.append(
            {
                "in_flight": in_flight,
                "handler_ms": handler,
                "boto3_parallel_ms": baseline_ms,
                "handler_vs_boto3": round(handler / baseline_ms, 2),
                "calls": dict(calls),
                "boto3_calls": dict(boto3_calls),
                "call_floor_ms": _floor_ms(calls),
                "boto3_call_floor_ms": _floor_ms(boto3_calls),
            }
        )
    return {
        "latency_ms_per_call": LATENCY * 1000,
        "repeat": rounds,
        "parallel_calls": PARALLEL,
        "freeze": FREEZE,
        "frozen_groups": len(APPLICATIONS),
        "spared_groups": len(spared),
        "last_stop_sent_ms": median_ms("handler_100", "last_stop"),
        "first_invocation_ms": median_ms("first_100"),
        "first_imports_ms": median_ms("first_100", "imports"),
        "sweep": rows,
    }


@contextlib.contextmanager
def _own_region() -> Iterator[None]:
    """REGION and the ledger table there, for this process (the freeze is written through the function's
    ledger module) and the workers; the function's settings and clients as they were afterwards."""
    saved = dict(os.environ)
    os.environ.update(AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION)
    os.environ["STOPS_TABLE"] = seed_stops_table()
    _forget_clients()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        _forget_clients()


def _forget_clients() -> None:
    from stop_deployment import ledger, settings

    settings.get.cache_clear()
    ledger.client.cache_clear()


def _environment(url: str) -> dict[str, str]:
    """A worker's: the local AWS in REGION, the ledger, and nothing else of the function's settings."""
    return {
        **aws.environment(url),
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "STOPS_TABLE": os.environ["STOPS_TABLE"],
        "POWERTOOLS_SERVICE_NAME": "stop-deployment",
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",  # ROOT: SWEEPER imports local.context
    }


def _freeze() -> None:
    """The kept freeze on FREEZE, from a minute ago for an hour (as PUT /freezes writes it)."""
    from stop_deployment import ledger
    from stop_deployment.freeze import iso

    now = datetime.now(UTC)
    freeze = {"from": iso(now - timedelta(minutes=1)), "until": iso(now + timedelta(hours=1))}
    ledger.set_freeze(FREEZE, {**freeze, "reason": "bench: 100 frozen groups", "by": "bench/sweep.py"})


def _seed(client: Any, group: str) -> list[str]:
    """One deployment in flight in `group` of every application (no latency while seeding)."""
    fake_codedeploy.set_latency(0)
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        ids = list(pool.map(lambda app: fake_codedeploy.create_deployment(client, app, group), APPLICATIONS))
    fake_codedeploy.set_latency(LATENCY)
    return ids


def _in_flight_again(ids: list[str]) -> list[str]:
    """Put the stopped deployments `ids` back in flight (the local CodeDeploy's set_status, silent and
    instant) and delete their ledger items, so that the next sweep stops and records them as new ones:
    seeding 100 deployments anew takes 300 requests, seconds of this bench."""
    for deployment_id in ids:
        fake_codedeploy.set_status(deployment_id, "InProgress", region=REGION)
    dynamodb = boto3.client("dynamodb")
    for start in range(0, len(ids), 25):  # BatchWriteItem's limit
        deletes: list[WriteRequestTypeDef] = [
            {"DeleteRequest": {"Key": {"deploymentId": {"S": d}}}} for d in ids[start : start + 25]
        ]
        dynamodb.batch_write_item(RequestItems={os.environ["STOPS_TABLE"]: deletes})
    return ids


def _sweep(sweeper: Worker, ids: list[str]) -> Run:
    """One sweep invocation in the worker, which must stop exactly `ids`."""
    fake_codedeploy.clear_calls()
    report = sweeper.run()
    summary = report["summary"]
    assert summary["frozenGroups"] == len(APPLICATIONS), summary
    expected_counts = {"stop_requested": len(ids)} if ids else {}
    assert (summary["inFlight"], summary["counts"]) == (len(ids), expected_counts), summary
    calls = fake_codedeploy.calls()
    stopped = sorted(call.params["deploymentId"] for call in calls if call.operation == "StopDeployment")
    assert stopped == sorted(ids), "the sweep stopped other deployments than the prod ones in flight"
    listed = {call.params["deploymentGroupName"] for call in calls if call.operation == "ListDeployments"}
    assert listed == {FROZEN}, f"the sweep listed {listed}"
    assert _statuses(ids) <= {"Stopped"}
    stops = [call.at for call in calls if call.operation == "StopDeployment"]
    last_stop = max(stops) - report["started"] if stops else None
    return Run(report["seconds"], _counted(calls), last_stop=last_stop)


def _bare_boto3(baseline: Worker, ids: list[str]) -> Run:
    """The bare client lists the frozen groups and stops what is in flight there, which must be `ids`."""
    fake_codedeploy.clear_calls()
    report = baseline.run()
    assert sorted(report["stopped"]) == sorted(ids), "the baseline stopped other deployments than seeded"
    assert _statuses(ids) <= {"Stopped"}
    return Run(report["seconds"], _counted(fake_codedeploy.calls()))


def _statuses(ids: list[str]) -> set[str]:
    deployments = fake_codedeploy.backend(region=REGION).deployments
    return {deployments[deployment_id].status for deployment_id in ids}


def _counted(calls: list[fake_codedeploy.Call]) -> Counter[str]:
    return Counter(call.operation for call in calls)


def _floor_ms(calls: Counter[str]) -> float:
    """The least time these calls take at LATENCY each, PARALLEL at a time, one operation after another."""
    return round(sum(math.ceil(n / PARALLEL) for n in calls.values()) * LATENCY * 1000, 1)
