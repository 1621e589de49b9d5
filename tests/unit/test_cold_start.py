"""Each way in loads only what it needs: checked in a fresh interpreter, as Lambda starts one."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"

# Runs one event through lambda_handler with no AWS to talk to: the run stops at the first
# CodeDeploy or SSM call (connection refused) or at validation, after everything that path imports.
PROBE = """
import json, sys
from stop_deployment import handler

class Context:
    function_name = "stop-deployment"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stop-deployment"
    aws_request_id = "req"

try:
    handler.lambda_handler(json.loads(sys.argv[1]), Context())
except Exception:
    pass
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {
    "pydantic", "aws_xray_sdk", "aws_lambda_powertools"})))
"""


def loaded_modules(event: object, **env_extra: str) -> set[str]:
    env = {
        "PYTHONPATH": str(ROOT / "src"),
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


def event(name: str) -> object:
    return json.loads((EVENTS / name).read_text())


@pytest.mark.parametrize(
    ("way_in", "payload", "env"),
    [
        ("direct", {"deploymentId": "d-LGUMS25CC"}, {}),
        ("alarm", "alarm-eventbridge-composite.json", {}),
        ("slack", "slack-command-rest.json", {"SLACK_SIGNING_SECRET_PARAM": "/stop-deployment/slack"}),
    ],
)
def test_ways_in_without_a_json_api_load_neither_pydantic_nor_validation_nor_xray(
    way_in: str, payload: object, env: dict[str, str]
) -> None:
    modules = loaded_modules(event(payload) if isinstance(payload, str) else payload, **env)

    assert not {m for m in modules if m.startswith("pydantic")}, way_in
    assert "aws_lambda_powertools.event_handler.openapi.params" not in modules
    assert not {m for m in modules if m.startswith("aws_xray_sdk")}
    if way_in != "slack":
        assert "aws_lambda_powertools.event_handler.api_gateway" not in modules


def test_the_http_api_loads_its_validation_but_not_xray() -> None:
    modules = loaded_modules(event("http-api-stop.json"))

    assert "pydantic" in modules
    assert not {m for m in modules if m.startswith("aws_xray_sdk")}


def test_tracing_when_enabled_loads_the_xray_sdk() -> None:
    modules = loaded_modules({"deploymentId": "d-LGUMS25CC"}, ENABLE_TRACING="true")

    assert any(m.startswith("aws_xray_sdk") for m in modules)
