"""`make demo`: stop deployments on an embedded local CodeDeploy, with no AWS account and no Docker.

Starts the local CodeDeploy (with DynamoDB, SNS and SQS) on 127.0.0.1, seeds deployments in flight,
then runs `lambda_handler` on the events/ files, printing each request, the result and the structured
log line; then closes the loop (local/demo_loop.py): notifications, and follow-ups to the end of each
rollback; then freezes (local/demo_freeze.py), Slack that is never late (local/demo_slack.py) and one
function for the organisation (local/demo_organisation.py). Exits 1 if any step does not do what it
says, so the demo doubles as a smoke test.
"""

import base64
import contextlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import boto3

from local import aws, fake_codedeploy
from local.context import LambdaContext
from local.slack import signed
from local.world import (
    ALARM,
    COMPLETED_ID,
    IN_FLIGHT_ID,
    OTHER_TEAM_ID,
    QUEUED_ID,
    SLACK_SECRET_PARAM,
    load_event,
    seed,
    status_of,
)

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
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # e.g. sign a Slack request now


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
    Step(
        f"EventBridge: {ALARM} goes to ALARM; its tag names checkout/prod",
        "alarm-eventbridge.json",
        "stops_attempted",
    ),
    Step("The same alarm back to OK: nothing to do", "alarm-eventbridge-ok.json", "ignored"),
    Step(
        "The alarm's own Lambda action, targets from ALARM_TARGETS",
        "alarm-lambda-action.json",
        "stops_attempted",
        {"ALARM_TARGETS": '{"kill-switch-checkout-*": ["checkout/prod"]}', "ALARM_TARGETS_TAG_KEY": "unused"},
    ),
    Step("The alarm's SNS notification", "alarm-sns.json", "stops_attempted"),
    Step(
        "A composite alarm whose event carries its tags",
        "alarm-eventbridge-composite.json",
        "stops_attempted",
    ),
    Step(
        "EventBridge 'Stop Deployment Request' from a chat bot",
        "eventbridge-stop-request.json",
        "stop_requested",
    ),
    Step(
        "Slack: /stop-deployment stop d-LGUMS25CC, signed by the Slack app (REST v1)",
        "slack-command-rest.json",
        "200",
        prepare=lambda event: signed(event, text=f"stop {IN_FLIGHT_ID}"),
    ),
    Step(
        "Slack: the same command forged with another secret is refused",
        "slack-command-rest.json",
        "401",
        fresh=False,
        prepare=lambda event: signed(event, text=f"stop {IN_FLIGHT_ID}", secret="forged"),
    ),
    Step(
        "Slack: status d-LGUMS25CC after the stop (HTTP API v2, base64 form body)",
        "slack-command-http-api.json",
        "200",
        fresh=False,
        prepare=signed,
    ),
]


def describe_request(event: dict[str, Any]) -> str:
    """The gist of an event: HTTP method, path and body; the alarm and its state; or the payload."""
    if "detail-type" in event:
        detail = event["detail"]
        if "alarmName" in detail:
            return (
                f"EventBridge {event['detail-type']!r}: {detail['alarmName']} -> {detail['state']['value']}"
            )
        return f"EventBridge {event['detail-type']!r} from {event['source']}: {json.dumps(detail)}"
    if "alarmData" in event:
        data = event["alarmData"]
        return f"alarm Lambda action: {data['alarmName']} -> {data['state']['value']}"
    if "Records" in event:
        message = json.loads(event["Records"][0]["Sns"]["Message"])
        return f"SNS notification: {message['AlarmName']} -> {message['NewStateValue']}"
    if "requestContext" not in event:
        return json.dumps(event)
    method = event.get("httpMethod") or event["requestContext"]["http"]["method"]
    path = event.get("path") or event["rawPath"]
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    if path.endswith("/slack/commands"):
        form = dict(parse_qsl(body))
        who = f"from {form['user_name']} in {form['channel_id']}"
        return f"{method} {path}: /stop-deployment {form['text']} ({who})"
    if path.endswith("/slack/interactions"):
        payload = json.loads(dict(parse_qsl(body))["payload"])
        action = payload["actions"][0]
        clicked = f"{action['action_id']} ({action['value']})"
        return f"{method} {path}: {payload['user']['username']} clicked {clicked}"
    return f"{method} {path} {body}".rstrip()


def describe_result(result: dict[str, Any]) -> str:
    """An HTTP response as status and body; an alarm's summary in one line; anything else as JSON."""
    if "statusCode" in result:
        body = json.loads(result["body"]) if result["body"] else {}
        if "response_type" in body:  # a Slack message: what the person sees
            return f"{result['statusCode']} Slack {body['response_type']}: {body['text']!r}"
        return f"{result['statusCode']} {result['body'] or '(empty: Slack only needs the 200)'}"
    if "alarm" not in result:
        return json.dumps(result)
    targets = "; ".join(
        f"{t['target']} (from {', '.join(t['sources'])}) "
        + (
            f"{t['error']}: {t['message']}"
            if "error" in t
            else f"in flight: {', '.join(t['inFlight']) or 'none'}"
        )
        for t in result["targets"]
    )
    stops = ", ".join(
        f"{d['deploymentId']} {d['outcome']} ({d.get('status')})" for d in result["deployments"]
    )
    return f"{result['outcome']}; targets: {targets or 'none'}; stops: {stops or 'none'}"


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
        fake_codedeploy.set_status(IN_FLIGHT_ID, "InProgress")
        fake_codedeploy.set_status(QUEUED_ID, "Queued")
    os.environ.update(step.env)
    settings.get.cache_clear()
    event = load_event(step.event_file)
    if step.prepare:
        event = step.prepare(event)
    print(f"\n{number}. {step.title}\n   event    events/{step.event_file}")
    print(f"   request  {describe_request(event)}")
    with captured_logs() as logs:
        try:
            result = lambda_handler(event, LambdaContext(aws_request_id="demo-0000-0000-0000-000000000000"))
            got = str(result["statusCode"]) if "statusCode" in result else result["outcome"]
            shown = describe_result(result)
        except errors.StopDeploymentError as exc:
            got, shown = type(exc).__name__, f"raised {type(exc).__name__}: {exc}"
    for name in step.env:
        del os.environ[name]
    print(f"   result   {shown}")
    for line in logs.getvalue().splitlines():
        record = json.loads(line)
        if "_aws" not in record:  # the EMF metric blobs are for CloudWatch, not for people
            print(f"   log      {json.dumps({k: v for k, v in record.items() if k not in _REPEATED_KEYS})}")
    print(f"   now      {', '.join(f'{d} {status_of(d)}' for d in (IN_FLIGHT_ID, QUEUED_ID, OTHER_TEAM_ID))}")
    ok = got == step.expect
    print(f"   {'ok' if ok else 'UNEXPECTED'}      expected {step.expect}, got {got}")
    return ok


def main() -> int:
    server, url = fake_codedeploy.start_server()
    os.environ.update(aws.environment(url), SLACK_SIGNING_SECRET_PARAM=SLACK_SECRET_PARAM)
    try:
        print(f"stop-deployment demo: local CodeDeploy at {url} (no AWS account, no Docker)")
        seed(boto3.client("codedeploy"))
        print(
            f"seeded   checkout/prod: {IN_FLIGHT_ID} InProgress, {QUEUED_ID} Queued, {COMPLETED_ID} Succeeded"
        )
        print(f"         payments/prod: {OTHER_TEAM_ID} InProgress")
        results = [run_step(number, step) for number, step in enumerate(STEPS, start=1)]
        from local import demo_freeze, demo_loop, demo_organisation, demo_slack  # they build on these steps

        loop_results, queue = demo_loop.run(first_number=len(results) + 1)
        results += loop_results
        results += demo_freeze.run(len(results) + 1, queue)
        results += demo_slack.run(len(results) + 1, queue)
        results += demo_organisation.run(len(results) + 1)
        other = status_of(OTHER_TEAM_ID)
        print(f"\n{OTHER_TEAM_ID} (payments/prod, which nothing asked to stop) is still {other}.")
        print(f"{sum(results)} of {len(results)} steps did what they said.")
        return 0 if all(results) and other == "InProgress" else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
