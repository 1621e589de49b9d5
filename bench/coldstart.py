"""Cold start to stop sent, and peak memory, per way in, beside a bare boto3 process.

Each sample is a fresh interpreter (as Lambda starts one) that handles one event; the clock runs
from just before the process is spawned until the local CodeDeploy receives its StopDeployment.
The baseline process imports boto3, makes a CodeDeploy client and calls stop_deployment.

Two ways in are measured twice, because where their data lives changes their cost: an alarm whose
event carries its tags (CloudWatch's tag propagation) or whose tags are read (ListTagsForResource,
a CloudWatch client), and Slack's signing secret in Parameter Store or in Secrets Manager. A freeze
is measured from CodeDeploy's START event (no target: it makes three calls where the baseline makes
one, and is shown so that its cost is known).

Every path runs as deployed: with the stop ledger (STOPS_TABLE) and the notification topic
(NOTIFY_TOPIC_ARN) set, so that the table and topic clients, built after the stop, are seen not to
cost the stop its reaction time.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from local import aws, fake_aws, fake_codedeploy
from local.slack import TEST_SIGNING_SECRET, signed
from local.world import (
    NOTIFY_TOPIC,
    SLACK_SECRET_PARAM,
    load_event,
    seed_alarm,
    seed_slack_secret,
    seed_stops_table,
)

ROOT = Path(__file__).resolve().parent.parent
# Peak resident memory of this process since exec (ru_maxrss would include the forked parent's).
_PEAK_RSS = """
print("VmHWM", open("/proc/self/status").read().split("VmHWM:")[1].split()[0], file=sys.stderr)
"""
BASELINE = (
    """
import json, sys
import boto3
deployment_id = json.loads(sys.argv[1])["deploymentId"]
boto3.client("codedeploy").stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
"""
    + _PEAK_RSS
)
HANDLER = (
    """
import json, sys
from local.context import LambdaContext
from stop_deployment.handler import lambda_handler
lambda_handler(json.loads(sys.argv[1]), LambdaContext())
"""
    + _PEAK_RSS
)
PATHS = (
    "baseline",
    "direct",
    "http",
    "alarm",
    "alarm-tag-lookup",
    "slack",
    "slack-secrets-manager",
    "freeze-start",
)
# freeze-start: CodeDeploy's START event for a deployment in a group a CLOSED Change Calendar freezes
# (one GetCalendarState, one GetDeployment for the exemptions, then the stop).
FREEZE_CALENDAR = "bench-freeze"
SECRET_NAME = "stop-deployment/slack-signing-secret"


def event_for(path: str, deployment_id: str, group: str) -> dict[str, Any]:
    """The event a way in receives to stop one deployment in bench/{group}."""
    if path in ("baseline", "direct"):
        return {"deploymentId": deployment_id}
    if path == "http":
        event = load_event("http-api-stop.json")
        event["body"] = json.dumps({"deploymentId": deployment_id})
        return dict(event)
    if path == "alarm":
        event = load_event("alarm-eventbridge-composite.json")
        event["detail"]["alarmTags"] = {"stop-deployment:targets": f"bench/{group}"}
        return dict(event)
    if path == "alarm-tag-lookup":  # the alarm's tag is set to bench/{group} before the run
        return dict(load_event("alarm-eventbridge.json"))
    if path == "freeze-start":
        event = load_event("codedeploy-state-change-start.json")
        event["detail"].update(application="bench", deploymentGroup=group, deploymentId=deployment_id)
        return dict(event)
    return signed(load_event("slack-command-rest.json"), text=f"stop {deployment_id}")


def child_environment(url: str, path: str) -> dict[str, str]:
    secret = _secret_arn() if path == "slack-secrets-manager" else SLACK_SECRET_PARAM
    return {
        "STOPS_TABLE": seed_stops_table(),
        "NOTIFY_TOPIC_ARN": boto3.client("sns").create_topic(Name=NOTIFY_TOPIC)["TopicArn"],  # idempotent
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",  # ROOT: HANDLER imports local.context
        **aws.environment(url),
        "SLACK_SIGNING_SECRET_PARAM": secret,
        "FREEZE_CALENDARS": json.dumps({"bench/*": [FREEZE_CALENDAR]}),
        "POWERTOOLS_SERVICE_NAME": "stop-deployment",
    }


def _secret_arn() -> str:
    return str(boto3.client("secretsmanager").describe_secret(SecretId=SECRET_NAME)["ARN"])


def one_run(path: str, client: Any, url: str, run: int) -> tuple[float, int]:
    """(seconds from spawn to StopDeployment received, peak RSS in KiB) for one fresh process."""
    group = f"cold-{path}-{run}"
    deployment_id = fake_codedeploy.create_deployment(client, "bench", group)
    if path == "alarm-tag-lookup":
        seed_alarm(f"bench/{group}")
    environment = child_environment(url, path)
    fake_codedeploy.clear_calls()
    script = BASELINE if path == "baseline" else HANDLER
    started = time.time()
    process = subprocess.Popen(
        [sys.executable, "-c", script, json.dumps(event_for(path, deployment_id, group))],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, errors = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{path} run failed: {errors.decode()}")
    (stop,) = [call for call in fake_codedeploy.calls() if call.operation == "StopDeployment"]
    peak_kib = int(errors.decode().rsplit("VmHWM", 1)[1].split()[0])
    return stop.at - started, peak_kib


def imports(path: str, client: Any, url: str) -> list[tuple[str, float]]:
    """Where one cold run's import time goes (python -X importtime): self time summed by package
    (by subpackage for Powertools and this project), the costliest first, in ms."""
    group = f"imports-{path}"
    deployment_id = fake_codedeploy.create_deployment(client, "bench", group)
    if path == "alarm-tag-lookup":
        seed_alarm(f"bench/{group}")
    script = BASELINE if path == "baseline" else HANDLER
    finished = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script, json.dumps(event_for(path, deployment_id, group))],
        env=child_environment(url, path),
        capture_output=True,
        text=True,
        check=True,
    )
    costs: dict[str, float] = {}
    for line in finished.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        name = parts[2].strip()
        depth = 2 if name.startswith(("aws_lambda_powertools.", "stop_deployment.")) else 1
        package = ".".join(name.split(".")[:depth])
        costs[package] = costs.get(package, 0.0) + int(parts[0]) / 1000
    return sorted(costs.items(), key=lambda item: -item[1])[:6]


def measure(url: str, repeat: int) -> dict[str, Any]:
    client = boto3.client("codedeploy")
    seed_slack_secret()
    boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=TEST_SIGNING_SECRET)
    fake_aws.ssm.set_calendar_state(FREEZE_CALENDAR, "CLOSED")
    times: dict[str, list[float]] = {path: [] for path in PATHS}
    memory: dict[str, list[int]] = {path: [] for path in PATHS}
    for run in range(repeat):  # interleaved, so that machine noise hits every path alike
        for path in PATHS:
            seconds, rss = one_run(path, client, url, run)
            times[path].append(seconds)
            memory[path].append(rss)
    baseline = statistics.median(times["baseline"])
    baseline_rss = statistics.median(memory["baseline"])
    rows = []
    for path in PATHS:
        median = statistics.median(times[path])
        peak = float(statistics.median(memory[path]))
        rows.append(
            {
                "path": path,
                "cold_ms": round(median * 1000, 1),
                "vs_baseline": round(median / baseline, 2),
                "peak_rss_mib": round(peak / 1024, 1),
                "rss_vs_baseline": round(peak / baseline_rss, 2),
                "top_imports_ms": [(name, round(ms, 1)) for name, ms in imports(path, client, url)],
            }
        )
    return {"repeat": repeat, "paths": rows}
