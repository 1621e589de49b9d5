"""ChatOps: the Slack slash command at POST /slack/commands, on the same HTTP API without IAM auth.

Slack's signature is the authentication, so nothing is read from the request before it is checked:
no form parsing, no validation, no CodeDeploy call. Then the sender must be an allowed user, in an
allowed channel and team, and the deployment group must pass the allowlist like any other way in.

The signature check is written here rather than taken from slack_sdk's SignatureVerifier: the
Powertools layer does not ship slack_sdk (so the function would need packaging), and importing it
loads Slack's whole web client, about 80 ms of cold start on the path an on-call engineer waits
on. The tests check this implementation against SignatureVerifier on the same requests.
"""

import functools
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import codedeploy, service, settings
from ..errors import ChatOpsNotConfigured, InvalidRequest, SlackSignatureInvalid, StopDeploymentError
from ..observability import logger
from ..results import DeploymentStatus, StopResult
from ..validation import DEPLOYMENT_ID_PATTERN, check, normalize_deployment_id
from . import responses

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

MAX_REQUEST_AGE_SECONDS = 300  # Slack's replay window
SECRET_CACHE_SECONDS = 300
_DEPLOYMENT_ID = re.compile(DEPLOYMENT_ID_PATTERN)
_SLACK_ID = {"type": "string", "pattern": "^[A-Z0-9]+$"}
# The fields of Slack's slash-command form this function uses (Slack sends more).
FORM_SCHEMA = {
    "type": "object",
    "required": ["team_id", "channel_id", "user_id"],
    "properties": {
        "team_id": _SLACK_ID,
        "channel_id": _SLACK_ID,
        "user_id": _SLACK_ID,
        "user_name": {"type": "string"},
        "text": {"type": "string"},
    },
}

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated

USAGE = (
    "*Stop a deployment*\n"
    "`stop d-XXXXXXXXX` stop one deployment (rollback as configured; add `--no-rollback` or `--rollback`)\n"
    "`stop application/group` stop every deployment in flight in that group\n"
    "`status d-XXXXXXXXX` show its status, application, group, creator and rollback\n"
    "`help` this message"
)


@dataclass(frozen=True)
class SlackCommand:
    team_id: str
    channel_id: str
    user_id: str
    user_name: str
    text: str


@dataclass(frozen=True)
class Request:
    """What the text after the slash command asks for."""

    action: Literal["stop", "status", "help"]
    subject: str = ""  # a deployment id (normalised) or application/group
    auto_rollback: bool | None = None
    problem: str = ""  # why the text was not understood, shown with the usage


def signature_problem(
    secret: str, body: str, timestamp: str | None, signature: str | None, now: float
) -> str:
    """Why a request is not Slack's (empty when it is): v0 HMAC-SHA256 over v0:{timestamp}:{body}."""
    if not timestamp or not signature:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
    try:
        age = now - int(timestamp)
    except ValueError:
        return "X-Slack-Request-Timestamp is not a number"
    if abs(age) > MAX_REQUEST_AGE_SECONDS:
        return (
            f"timestamp is {int(age)} s away from now (over {MAX_REQUEST_AGE_SECONDS} s: stale or replayed)"
        )
    expected = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    # Bytes: compare_digest refuses str with non-ASCII characters, which anyone can send.
    if not hmac.compare_digest(f"v0={expected}".encode(), signature.encode(errors="replace")):
        return "signature does not match"
    return ""


def parse_request(text: str) -> Request:
    words = text.split()
    rollback = {"--rollback": True, "--no-rollback": False}
    flags = [word for word in words if word.startswith("--")]
    words = [word for word in words if not word.startswith("--")]
    if not words or words[0].lower() == "help":
        return Request("help")
    verb, subjects = words[0].lower(), words[1:]
    if verb not in ("stop", "status") or len(subjects) != 1:
        return Request("help", problem=f"I did not understand `{_escape(text.strip())}`.")
    if unknown := [flag for flag in flags if flag not in rollback or verb == "status"]:
        return Request("help", problem=f"Unknown option `{_escape(unknown[0])}`.")
    subject, auto_rollback = subjects[0], rollback[flags[-1]] if flags else None
    if _DEPLOYMENT_ID.match(subject):
        action: Literal["stop", "status"] = "stop" if verb == "stop" else "status"
        return Request(action, normalize_deployment_id(subject), auto_rollback)
    if verb == "stop" and settings.is_target(subject):
        return Request("stop", subject, auto_rollback)
    expected = "a deployment id (d-XXXXXXXXX) or application/group" if verb == "stop" else "a deployment id"
    return Request("help", problem=f"`{_escape(subject)}` is not {expected}.")


@router.post("/slack/commands", include_in_schema=False)
def slack_command() -> Response[str]:
    event = router.current_event
    body = event.decoded_body or ""
    headers = event.headers
    problem = signature_problem(
        _signing_secret(),
        body,
        headers.get("x-slack-request-timestamp"),
        headers.get("x-slack-signature"),
        time.time(),
    )
    if problem:
        # The reason is safe to log; the signature and the secret never are.
        logger.warning(
            "Slack request refused", extra={"reason": problem, "sourceIp": _source_ip(event.raw_event)}
        )
        raise SlackSignatureInvalid("The request is not signed by this Slack app, or is too old")
    form = dict(parse_qsl(body, keep_blank_values=True))
    try:
        check("Slack slash command", FORM_SCHEMA, form)
    except InvalidRequest:
        return _reply(
            _ephemeral("Slack sent a slash command without its team, channel or user; nothing was done.")
        )
    command = SlackCommand(
        form["team_id"], form["channel_id"], form["user_id"], form.get("user_name", ""), form.get("text", "")
    )
    return _reply(_answer(command))


def _answer(command: SlackCommand) -> dict[str, Any]:
    request = parse_request(command.text)
    if request.action == "help":
        return _ephemeral(f"{request.problem}\n{USAGE}".strip())
    if refusal := _refusal(command):
        logger.warning(
            "Slack user refused",
            extra={"slackUserId": command.user_id, "slackChannelId": command.channel_id, "reason": refusal},
        )
        return _ephemeral(f":no_entry: {refusal}; nothing was done.")
    caller = service.Caller(
        "slack",
        requester=f"{command.user_name} ({command.user_id})",
        details={
            "slackUserId": command.user_id,
            "slackUserName": command.user_name,
            "slackChannelId": command.channel_id,
            "slackTeamId": command.team_id,
        },
    )
    try:
        if request.action == "status":
            return _ephemeral(_describe(service.describe_deployment(request.subject)))
        if request.subject.startswith("d-"):
            return _stopped_one(
                command, service.stop_deployment(request.subject, request.auto_rollback, caller)
            )
        return _stopped_group(command, request, caller)
    except StopDeploymentError as exc:
        return _ephemeral(f":warning: `{request.action} {request.subject}` failed: {exc}.")


def _refusal(command: SlackCommand) -> str:
    config = settings.get()
    for allowed, value, what in (
        (config.slack_allowed_teams, command.team_id, "This Slack workspace"),
        (config.slack_allowed_channels, command.channel_id, "This channel"),
        (config.slack_allowed_users, command.user_id, f"<@{command.user_id}>"),
    ):
        if allowed and value not in allowed:
            return f"{what} is not allowed to use this command"
    return ""


def _stopped_one(command: SlackCommand, result: StopResult) -> dict[str, Any]:
    deployment_id = result["deploymentId"]
    try:
        now: DeploymentStatus | None = service.describe_deployment(deployment_id)
    except StopDeploymentError:
        now = None  # the stop itself is reported either way
    group = f"{now['applicationName']}/{now['deploymentGroupName']}" if now else "group unknown"
    rollback = {True: "rollback requested", False: "no rollback", None: "rollback as the group decides"}[
        result["autoRollbackEnabled"]
    ]
    if result["outcome"] == "already_completed":
        headline = f"`{deployment_id}` ({group}) had already completed; there was nothing to stop"
    elif result["outcome"] == "dry_run":
        headline = f"Dry run: `{deployment_id}` ({group}) would have been stopped ({rollback})"
    else:
        headline = (
            f":octagonal_sign: <@{command.user_id}> stopped `{deployment_id}` ({group}): CodeDeploy says "
            f"*{result['status']}*, {rollback}"
        )
    details = f"now {now['status']}" if now else result["statusMessage"]
    return _in_channel(headline, details)


def _stopped_group(command: SlackCommand, request: Request, caller: service.Caller) -> dict[str, Any]:
    reports, outcomes = service.stop_active_deployments(
        {request.subject: ["slack"]}, request.auto_rollback, caller
    )
    (report,) = reports
    if "error" in report:
        return _ephemeral(f":warning: `stop {request.subject}` failed: {report['message']}.")
    if not outcomes:
        return _in_channel(
            f"<@{command.user_id}> asked to stop `{request.subject}`: no deployment was in flight"
        )
    lines = [
        f"`{o['deploymentId']}` {o['outcome'].replace('_', ' ')}"
        + (f" ({o['status']})" if o.get("status") else "")
        + (f": {o['message']}" if o.get("message") else "")
        for o in outcomes
    ]
    stopped = sum(o["outcome"] == "stop_requested" for o in outcomes)
    headline = (
        f":octagonal_sign: <@{command.user_id}> stopped {stopped} of {len(outcomes)} in `{request.subject}`"
    )
    return _in_channel(headline, "\n".join(lines))


def _describe(status: DeploymentStatus) -> str:
    lines = [
        f"`{status['deploymentId']}` in {status['applicationName']}/{status['deploymentGroupName']}: "
        f"*{status['status']}*",
        f"created by {status.get('creator', 'unknown')}",
    ]
    if error := status.get("errorInformation"):
        lines.append(f"{error.get('code', '')}: {error.get('message', '')}")
    if rollback := status.get("rollbackInfo"):
        if "rollbackDeploymentId" in rollback:
            lines.append(f"rolled back by `{rollback['rollbackDeploymentId']}`")
        if "rollbackMessage" in rollback:
            lines.append(rollback["rollbackMessage"])
    return "\n".join(lines)


def _in_channel(text: str, details: str = "") -> dict[str, Any]:
    return _message("in_channel", text, details)


def _ephemeral(text: str) -> dict[str, Any]:
    return _message("ephemeral", text)


def _message(response_type: str, text: str, details: str = "") -> dict[str, Any]:
    """A Slack message: blocks, and the same words as the text fallback for notifications."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if details:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": details}]})
    return {"response_type": response_type, "text": f"{text}\n{details}".strip(), "blocks": blocks}


def _reply(message: dict[str, Any]) -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=json.dumps(message))


def _signing_secret() -> str:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    location = settings.get().slack_signing_secret_param
    if location is None:
        raise ChatOpsNotConfigured("ChatOps is not configured: SLACK_SIGNING_SECRET_PARAM is not set")
    try:
        if location.startswith("arn:"):
            secret = _secrets_provider().get(location, max_age=SECRET_CACHE_SECONDS)
        else:
            secret = _parameter_provider().get(location, decrypt=True, max_age=SECRET_CACHE_SECONDS)
        # A secret pasted with a trailing newline would fail every signature; Slack's are hex.
        return str(secret).strip()
    except GetParameterError as exc:
        logger.warning(
            "Could not read the Slack signing secret", extra={"location": location, "detail": str(exc)}
        )
        raise ChatOpsNotConfigured(
            "ChatOps is not available: the Slack signing secret could not be read"
        ) from None


# Powertools Parameters providers (each caches the values it read) on clients of the default
# session with the CodeDeploy client's timeouts: the convenience functions would build a second
# boto3 session, about 10 ms more of cold start.
@functools.cache
def _parameter_provider() -> "SSMProvider":
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=boto3.client("ssm", config=codedeploy.CONFIG))


@functools.cache
def _secrets_provider() -> "SecretsProvider":
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=boto3.client("secretsmanager", config=codedeploy.CONFIG))


def forget_secret() -> None:
    """Drop the cached providers and the secret they hold (tests; a rotated secret waits 5 minutes)."""
    _parameter_provider.cache_clear()
    _secrets_provider.cache_clear()


def _source_ip(event: dict[str, Any]) -> str | None:
    context = event.get("requestContext") or {}
    ip = (context.get("identity") or {}).get("sourceIp") or (context.get("http") or {}).get("sourceIp")
    return ip if isinstance(ip, str) else None


def _escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Resolvers of their own, without request validation: the HTTP API's pydantic machinery would add
# about 100 ms to the cold start of the path an engineer in chat waits on.
_rest = responses.configure(APIGatewayRestResolver(), router)
_http = responses.configure(APIGatewayHttpResolver(), router)


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return responses.resolve(_rest, _http, event, context, json_body=False)
