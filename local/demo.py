"""`make demo`: stop deployments on an embedded local CodeDeploy, with no AWS account and no Docker.

Starts the local CodeDeploy on 127.0.0.1, seeds deployments in flight, then runs `lambda_handler`
on the events/ files, printing each request, the result and the structured log line. Exits 1 if
any step does not do what it says, so the demo doubles as a smoke test.
"""

import base64
import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local import codedeploy as local_codedeploy

EVENTS = Path(__file__).resolve().parent.parent / "events"
IN_FLIGHT = "d-LGUMS25CC"
COMPLETED = "d-C0MPLETED"
OTHER_TEAM = "d-PAYM3NTS1"
# Keys that repeat on every log line; the demo leaves them out to keep lines readable.
_REPEATED_KEYS = {
    "location",
    "timestamp",
    "service",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "cold_start",
}


@dataclass
class Step:
    title: str
    event_file: str
    expect: str  # an outcome, an HTTP status, or the name of the error raised
    env: dict[str, str] = field(default_factory=dict)
    fresh: bool = True  # put d-LGUMS25CC back in flight first


STEPS = [
    Step("Direct invocation (Step Functions, aws lambda invoke)", "direct-stop.json", "stop_requested"),
    Step("Direct invocation without rollback", "direct-stop-no-rollback.json", "stop_requested"),
    Step("HTTP API (v2), POST /stop", "http-api-stop.json", "200"),
    Step("API Gateway REST (v1), POST /deployments/{id}/stop", "rest-stop.json", "200"),
    Step("Lambda Function URL, lower-case id, base64 body", "function-url-stop.json", "200"),
    Step("GET /deployments/{id}: the status after the stop", "http-api-status.json", "200", fresh=False),
    Step(
        "A deployment that had already completed",
        "direct-stop-already-completed.json",
        "DeploymentAlreadyCompleted",
    ),
    Step(
        "An invalid direct request: refused, CodeDeploy never called", "direct-invalid.json", "InvalidRequest"
    ),
    Step("An invalid HTTP request: 400 naming the field", "http-api-invalid.json", "400"),
    Step(
        "Allowlist: ALLOWED_DEPLOYMENT_GROUPS=payments/* refuses checkout/prod",
        "direct-stop.json",
        "DeploymentGroupNotAllowed",
        {"ALLOWED_DEPLOYMENT_GROUPS": "payments/*"},
    ),
    Step("Dry run: DRY_RUN=true stops nothing", "http-api-stop.json", "200", {"DRY_RUN": "true"}),
]


def seed() -> list[str]:
    """checkout/prod: one deployment in flight and one finished; payments/prod: one in flight."""
    client = boto3.client("codedeploy")
    local_codedeploy.create_deployment(
        client, "checkout", "prod", status="InProgress", deployment_id=IN_FLIGHT
    )
    local_codedeploy.create_deployment(
        client, "checkout", "prod", status="Succeeded", deployment_id=COMPLETED
    )
    local_codedeploy.create_deployment(
        client, "payments", "prod", status="InProgress", deployment_id=OTHER_TEAM
    )
    return [IN_FLIGHT, OTHER_TEAM]


class Context:
    function_name = "stop-deployment-demo"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stop-deployment-demo"
    aws_request_id = "demo-0000-0000-0000-000000000000"


def describe_request(event: dict[str, Any]) -> str:
    if "requestContext" not in event:
        return json.dumps(event)
    method = event.get("httpMethod") or event["requestContext"]["http"]["method"]
    path = event.get("path") or event["rawPath"]
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return f"{method} {path} {body}".rstrip()


@contextlib.contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Point the Powertools logger (and the EMF metrics printed to stdout) at a buffer."""
    from stop_deployment.observability import logger

    buffer = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        with contextlib.redirect_stdout(buffer):
            yield buffer
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]


def run_step(number: int, step: Step) -> bool:
    from stop_deployment import errors, settings
    from stop_deployment.handler import lambda_handler

    if step.fresh:
        local_codedeploy.set_status(IN_FLIGHT, "InProgress")
    os.environ.update(step.env)
    settings.get.cache_clear()
    event = json.loads((EVENTS / step.event_file).read_text())
    print(f"\n{number}. {step.title}\n   event    events/{step.event_file}")
    print(f"   request  {describe_request(event)}")
    with captured_logs() as logs:
        try:
            result = lambda_handler(event, Context())
            got = str(result["statusCode"]) if "statusCode" in result else result["outcome"]
            shown = (
                f"{result['statusCode']} {result['body']}" if "statusCode" in result else json.dumps(result)
            )
        except errors.StopDeploymentError as exc:
            got, shown = type(exc).__name__, f"raised {type(exc).__name__}: {exc}"
    for name in step.env:
        del os.environ[name]
    print(f"   result   {shown}")
    for line in logs.getvalue().splitlines():
        record = json.loads(line)
        if "_aws" not in record:  # the EMF metric blobs are for CloudWatch, not for people
            print(f"   log      {json.dumps({k: v for k, v in record.items() if k not in _REPEATED_KEYS})}")
    status = boto3.client("codedeploy").get_deployment(deploymentId=IN_FLIGHT)["deploymentInfo"]["status"]
    print(f"   now      {IN_FLIGHT} is {status}")
    ok = got == step.expect
    print(f"   {'ok' if ok else 'UNEXPECTED'}      expected {step.expect}, got {got}")
    return ok


def main() -> int:
    server, url = local_codedeploy.start_server()
    os.environ.update(
        AWS_ENDPOINT_URL_CODEDEPLOY=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
    )
    try:
        print(f"stop-deployment demo: local CodeDeploy at {url} (no AWS account, no Docker)")
        seed()
        print(f"seeded   checkout/prod: {IN_FLIGHT} InProgress, {COMPLETED} Succeeded")
        print(f"         payments/prod: {OTHER_TEAM} InProgress")
        results = [run_step(number, step) for number, step in enumerate(STEPS, start=1)]
        other = boto3.client("codedeploy").get_deployment(deploymentId=OTHER_TEAM)["deploymentInfo"]["status"]
        print(f"\n{OTHER_TEAM} (payments/prod, never asked for) is still {other}.")
        print(f"{sum(results)} of {len(results)} steps did what they said.")
        return 0 if all(results) and other == "InProgress" else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
