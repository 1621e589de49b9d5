"""Organisation: one alarm guarding ACCOUNTS member accounts x REGIONS regions (one deployment group
each, PER_GROUP deployments in flight in every one), LATENCY seconds injected into every CodeDeploy call
and every STS AssumeRole, beside the same alarm guarding one member account's groups (a tenth of the
deployments), the same load in one account (SOLO: as many groups and deployments, in one account, so
its calls share one account's bound of parallel calls), and a bare boto3 script stopping the same
deployments by their known ids.

Figures: the time from the invocation's start to the last StopDeployment the local CodeDeploy received
(`Call.at`, time.time()), and the AssumeRole calls each invocation made. "Cold" drops the function's
assumed credentials and clients first (`accounts.forget()`, as a fresh process has none; the imports
stay: cold start is measured elsewhere); "warm" keeps them. In-process, against the local server, as
bench/fanout.py; every case once per round, medians.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3

from bench import fanout
from local import fake_codedeploy, world
from local.context import LambdaContext
from local.fake_aws import sts as fake_sts

LATENCY = 0.1
ACCOUNTS = tuple(f"1000000000{n:02d}" for n in range(1, 21))  # 100000000001 ... 100000000020
SOLO = "100000000099"  # one account holding as many groups as all of ACCOUNTS
SOLO_GROUPS = tuple(f"org-{n:02d}" for n in range(1, len(ACCOUNTS) + 1))
REGIONS = ("us-east-1", world.EU_REGION)  # home's region, and one ALLOWED_REGIONS adds
APPLICATION, GROUP = "bench", "org"
PER_GROUP = 5
ALARM = "bench-org"
TARGET = 3.0  # organisation cold within this many times the same load's in one account, cold
BARE_SESSION = "bench-bare-boto3"
# The bare script's threads: one per stop for one account (10); for the organisation one per AssumeRole
# (20), then at most the function's own bound on the fan-out's threads (MAX_FAN_OUT_THREADS).
BARE_ORGANISATION_THREADS = 100

Ids = dict[tuple[str, str, str], list[str]]  # (account, region, group) -> the deployments in flight there


@dataclass
class Run:
    """One timed case: to its last StopDeployment received, to its return, and its AssumeRole calls."""

    last_stop: float
    returned: float
    assume_role_calls: int


def group_arn(account: str, region: str, group: str) -> str:
    return f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:{APPLICATION}/{group}"


def alarm_event() -> dict[str, Any]:
    event = fanout.alarm_event()
    event["detail"]["alarmName"] = ALARM
    return event


def seed() -> Ids:
    """The member role in every account; bench/org in each region of ACCOUNTS, SOLO_GROUPS in each
    region of SOLO, each with PER_GROUP deployments."""
    fake_codedeploy.set_latency(0)
    fake_sts.set_latency(0)
    ids: Ids = {}
    for account, groups in [*((a, (GROUP,)) for a in ACCOUNTS), (SOLO, SOLO_GROUPS)]:
        iam = world.member_client("iam", account)
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):  # an earlier measure()'s
            iam.create_role(RoleName=world.MEMBER_ROLE, AssumeRolePolicyDocument="{}")
        for region in REGIONS:
            codedeploy = world.member_client("codedeploy", account, region)
            for group in groups:
                ids[(account, region, group)] = [
                    fake_codedeploy.create_deployment(codedeploy, APPLICATION, group, status="InProgress")
                    for _ in range(PER_GROUP)
                ]
    return ids


def in_flight(ids: Ids) -> None:
    """Put these deployments back in flight (a stop left them Stopped); silent, and untimed."""
    for (account, region, _), deployment_ids in ids.items():
        for deployment_id in deployment_ids:
            fake_codedeploy.set_status(deployment_id, "InProgress", account_id=account, region=region)
    fake_codedeploy.take_events()  # the STOP events of the last case: nobody reads them here
    fake_codedeploy.clear_calls()
    fake_sts.clear_calls()


def last_stop_since(started: float, count: int) -> float:
    stops = [call.at for call in fake_codedeploy.calls() if call.operation == "StopDeployment"]
    assert len(stops) == count, (len(stops), count)
    return max(stops) - started


@contextlib.contextmanager
def function_settings(targets: list[str]) -> Iterator[None]:
    """The function's settings for an alarm guarding these groups."""
    from stop_deployment import settings

    names = ("ALLOWED_ACCOUNTS", "ALLOWED_REGIONS", "ALARM_TARGETS", "MEMBER_ROLE_NAME")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(
        ALLOWED_ACCOUNTS=",".join((*ACCOUNTS, SOLO)),
        ALLOWED_REGIONS=",".join(r for r in REGIONS if r != "us-east-1"),
        ALARM_TARGETS=json.dumps({ALARM: targets}),
        MEMBER_ROLE_NAME=world.MEMBER_ROLE,
    )
    settings.get.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        settings.get.cache_clear()


def handler(ids: Ids, accounts: tuple[str, ...], cold: bool) -> Run:
    """lambda_handler on the alarm guarding these accounts' groups; cold: no assumed role kept."""
    from stop_deployment import accounts as function_accounts
    from stop_deployment.handler import lambda_handler
    from stop_deployment.observability import metrics

    mine = {place: deployment_ids for place, deployment_ids in ids.items() if place[0] in accounts}
    in_flight(mine)
    expected = sorted(d for deployment_ids in mine.values() for d in deployment_ids)
    with function_settings([group_arn(*place) for place in mine]):
        if cold:
            function_accounts.forget()
        started, clock = time.time(), time.perf_counter()
        summary = lambda_handler(alarm_event(), LambdaContext())
        returned = time.perf_counter() - clock
    metrics.clear_metrics()  # disabled metrics still pile up and print when 100 values accumulate
    assert summary["outcome"] == "stops_attempted", summary["outcome"]
    assert summary["counts"] == {"stop_requested": len(expected)}, summary["counts"]
    assert sorted(d["deploymentId"] for d in summary["deployments"]) == expected
    assert len(summary["targets"]) == len(mine)
    assert not [t for t in summary["targets"] if t.get("error")], summary["targets"]
    return Run(last_stop_since(started, len(expected)), returned, len(fake_sts.calls()))


def bare_boto3(ids: Ids, accounts: tuple[str, ...]) -> Run:
    """Baseline: a bare boto3 script that knows the ids: a fresh STS client assumes the member role in
    each account (in parallel), makes a CodeDeploy client per account and region (one after another:
    boto3's default session does not build clients safely in parallel) and stops every id on a thread
    pool (one thread per stop for one account; 100 threads for the organisation)."""
    mine = {place: deployment_ids for place, deployment_ids in ids.items() if place[0] in accounts}
    in_flight(mine)
    stops = [(d, (account, region)) for (account, region, _), ids_there in mine.items() for d in ids_there]
    started, clock = time.time(), time.perf_counter()
    sts = boto3.client("sts")

    def assume(account: str) -> dict[str, Any]:
        role_arn = world.member_role_arn(account)
        credentials: dict[str, Any] = sts.assume_role(RoleArn=role_arn, RoleSessionName=BARE_SESSION)[
            "Credentials"
        ]
        return credentials

    with ThreadPoolExecutor(len(accounts)) as pool:
        credentials = dict(zip(accounts, pool.map(assume, accounts), strict=True))
    clients = {
        (account, region): boto3.client(
            "codedeploy",
            region_name=region,
            aws_access_key_id=credentials[account]["AccessKeyId"],
            aws_secret_access_key=credentials[account]["SecretAccessKey"],
            aws_session_token=credentials[account]["SessionToken"],
        )
        for account, region, _ in mine
    }

    def stop(item: tuple[str, tuple[str, str]]) -> None:
        deployment_id, place = item
        clients[place].stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)

    with ThreadPoolExecutor(min(len(stops), BARE_ORGANISATION_THREADS)) as pool:
        list(pool.map(stop, stops))
    returned = time.perf_counter() - clock
    assert len(fake_sts.calls()) == len(accounts)
    return Run(last_stop_since(started, len(stops)), returned, len(fake_sts.calls()))


CASES: tuple[tuple[str, Callable[[Ids], Run], int], ...] = (
    # name, run, the AssumeRole calls it must make
    ("organisation, cold", lambda ids: handler(ids, ACCOUNTS, cold=True), len(ACCOUNTS)),
    ("organisation, warm", lambda ids: handler(ids, ACCOUNTS, cold=False), 0),
    ("one account, cold", lambda ids: handler(ids, ACCOUNTS[:1], cold=True), 1),
    ("one account, warm", lambda ids: handler(ids, ACCOUNTS[:1], cold=False), 0),
    ("same load in one account, cold", lambda ids: handler(ids, (SOLO,), cold=True), 1),
    ("same load in one account, warm", lambda ids: handler(ids, (SOLO,), cold=False), 0),
    ("bare boto3, one account", lambda ids: bare_boto3(ids, ACCOUNTS[:1]), 1),
    ("bare boto3, organisation", lambda ids: bare_boto3(ids, ACCOUNTS), len(ACCOUNTS)),
)
# Each handler case's baseline: the bare boto3 case for the same accounts.
VERSUS_BARE = {
    "organisation, cold": "bare boto3, organisation",
    "one account, cold": "bare boto3, one account",
}


def measure(repeat: int) -> dict[str, Any]:
    ids = seed()
    runs: dict[str, list[Run]] = {name: [] for name, _, _ in CASES}
    try:
        fake_codedeploy.set_latency(LATENCY)
        fake_sts.set_latency(LATENCY)
        for _ in range(repeat):  # interleaved: every case once per round
            for name, case, _ in CASES:
                runs[name].append(case(ids))
    finally:
        fake_codedeploy.set_latency(0)
        fake_sts.set_latency(0)
        fake_codedeploy.clear_calls()
        fake_sts.clear_calls()

    def median(name: str) -> float:
        return statistics.median(run.last_stop for run in runs[name])

    rows = []
    for name, _, expected_calls in CASES:
        row: dict[str, Any] = {
            "case": name,
            "last_stop_ms": round(median(name) * 1000, 1),
            "returned_ms": round(statistics.median(run.returned for run in runs[name]) * 1000, 1),
            "assume_role_calls": [run.assume_role_calls for run in runs[name]],
            "assume_role_calls_expected": expected_calls,
        }
        if name.startswith("organisation"):
            temperature = name.rsplit(" ", 1)[1]
            row["vs_one_account"] = round(median(name) / median(f"one account, {temperature}"), 2)
            row["vs_same_load"] = round(median(name) / median(f"same load in one account, {temperature}"), 2)
        if name in VERSUS_BARE:
            row["vs_bare_boto3"] = round(median(name) / median(VERSUS_BARE[name]), 2)
        rows.append(row)
    return {
        "latency_ms_per_call": LATENCY * 1000,
        "accounts": len(ACCOUNTS),
        "regions": list(REGIONS),
        "deployments_per_group": PER_GROUP,
        "repeat": repeat,
        "target_vs_same_load": TARGET,
        "cases": rows,
    }
