"""Each way in loads only what it needs: checked in a fresh interpreter, as Lambda starts one."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from stop_deployment import handler, errors

class Context:
    function_name = "stop-deployment"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stop-deployment"
    aws_request_id = "req"

try:
    handler.lambda_handler({"deploymentId": "not-an-id"}, Context())
except errors.InvalidRequest:
    pass  # the direct path ran to its validation
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {
    "pydantic", "aws_xray_sdk", "aws_lambda_powertools"})))
"""


def loaded_modules(env_extra: dict[str, str]) -> list[str]:
    env = {"PYTHONPATH": str(ROOT / "src"), "AWS_DEFAULT_REGION": "us-east-1", **env_extra}
    output = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return list(json.loads(output.splitlines()[-1]))


def test_direct_invocation_loads_neither_pydantic_nor_the_http_resolver_nor_xray() -> None:
    modules = loaded_modules({})

    assert not [m for m in modules if m.startswith("pydantic")]
    assert "aws_lambda_powertools.event_handler.api_gateway" not in modules
    assert not [m for m in modules if m.startswith("aws_xray_sdk")]


def test_tracing_when_enabled_loads_the_xray_sdk() -> None:
    modules = loaded_modules({"ENABLE_TRACING": "true"})

    assert any(m.startswith("aws_xray_sdk") for m in modules)
