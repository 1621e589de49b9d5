"""Each way in loads only what it needs: checked in a fresh interpreter, as Lambda starts one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.world import IN_FLIGHT_ID, SLACK_SECRET_PARAM, load_event

ROOT = Path(__file__).resolve().parents[2]

# Runs one event through lambda_handler with no AWS to talk to: the run stops at the first
# CodeDeploy or SSM call (connection refused) or at validation, after everything that path imports.
PROBE = """
import json, sys
from local.context import LambdaContext
from stop_deployment import handler

try:
    handler.lambda_handler(json.loads(sys.argv[1]), LambdaContext())
except Exception:
    pass
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {
    "pydantic", "aws_xray_sdk", "aws_lambda_powertools", "stop_deployment"})))
"""


def loaded_modules(event: object, **env_extra: str) -> set[str]:
    env = {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),  # ROOT: PROBE imports local.context
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: no call leaves the machine
        "AWS_MAX_ATTEMPTS": "1",
        **env_extra,
    }
    output = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(event)], env=env, capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(output.splitlines()[-1]))


@pytest.mark.parametrize(
    ("way_in", "payload", "env"),
    [
        ("direct", {"deploymentId": IN_FLIGHT_ID}, {}),
        ("alarm", "alarm-eventbridge-composite.json", {}),
        ("http", "http-api-stop.json", {}),
        ("rest", "rest-stop.json", {}),
        ("function url", "function-url-stop.json", {}),
        ("slack", "slack-command-rest.json", {"SLACK_SIGNING_SECRET_PARAM": SLACK_SECRET_PARAM}),
        ("codedeploy event", "codedeploy-state-change-stop.json", {"STOPS_TABLE": "stops"}),
        ("sweep", "scheduled-sweep.json", {"STOPS_TABLE": "stops"}),
        ("freeze", "codedeploy-state-change-start.json", {"FREEZE_CALENDARS": '{"*/prod": ["holiday"]}'}),
    ],
)
def test_no_way_in_loads_pydantic_the_http_resolver_event_data_classes_or_xray(
    way_in: str, payload: object, env: dict[str, str]
) -> None:
    modules = loaded_modules(load_event(payload) if isinstance(payload, str) else payload, **env)

    assert not {m for m in modules if m.startswith("pydantic")}, way_in
    assert not {m for m in modules if m.startswith("aws_lambda_powertools.event_handler")}, way_in
    assert not {m for m in modules if m.startswith("aws_lambda_powertools.utilities.data_classes")}, way_in
    assert not {m for m in modules if m.startswith("aws_xray_sdk")}, way_in
    # Only Slack's requests load the Slack package and its secret provider.
    slack = {
        m
        for m in modules
        if m.startswith(("stop_deployment.triggers.slack", "aws_lambda_powertools.utilities.parameters"))
    }
    assert bool(slack) == (way_in == "slack"), way_in


def test_tracing_when_enabled_loads_the_xray_sdk() -> None:
    modules = loaded_modules({"deploymentId": IN_FLIGHT_ID}, ENABLE_TRACING="true")

    assert any(m.startswith("aws_xray_sdk") for m in modules)
