"""POST /slack/commands: verify, read the form, parse the command, authorise, act, reply.

Every reply is a 200 with a Slack message (Slack shows nothing for other statuses), except a
request that is not Slack's (401) and a missing signing secret (503).
"""

import os
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from ... import service
from ...errors import InvalidRequest, SlackSignatureInvalid, StopDeploymentError
from ...observability import logger
from ...validation import check
from ..http.error_responses import json_response
from ..http.request import HttpRequest
from . import command, messages
from .authorise import Sender, refusal
from .signature import signature_problem, signing_secret

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
# Where follow-ups are posted (followup.py): Slack's own address; outside Lambda (the demo, the tests)
# also a stand-in on the loopback address. Inside Lambda the loopback is the runtime API's.
_SLACK_REPLY_URL = re.compile(r"^https://hooks\.slack\.com/[!-~]+$")
_LOCAL_REPLY_URL = re.compile(r"^http://127\.0\.0\.1:\d+/[!-~]*$")


def slash_command(request: HttpRequest) -> dict[str, Any]:
    headers = request.headers
    problem = signature_problem(
        signing_secret(),
        request.body,
        headers.get("x-slack-request-timestamp"),
        headers.get("x-slack-signature"),
        time.time(),
    )
    if problem:
        # The reason is safe to log; the signature and the secret never are.
        logger.warning("Slack request refused", extra={"reason": problem, "sourceIp": request.source_ip})
        raise SlackSignatureInvalid("The request is not signed by this Slack app, or is too old")
    form = dict(parse_qsl(request.body, keep_blank_values=True))
    try:
        check("Slack slash command", FORM_SCHEMA, form)
    except InvalidRequest:
        return _reply(
            messages.ephemeral(
                "Slack sent a slash command without its team, channel or user; nothing was done."
            )
        )
    sender = Sender(form["team_id"], form["channel_id"], form["user_id"], form.get("user_name", ""))
    return _reply(_answer(sender, command.parse(form.get("text", "")), _reply_url(form)))


def _answer(sender: Sender, asked: command.Command, reply_url: str | None) -> dict[str, Any]:
    if isinstance(asked, command.Help):
        return messages.ephemeral(f"{asked.problem or ''}\n{messages.USAGE}".strip())
    if reason := refusal(sender):
        logger.warning(
            "Slack user refused",
            extra={"slackUserId": sender.user_id, "slackChannelId": sender.channel_id, "reason": reason},
        )
        return messages.ephemeral(f":no_entry: {reason}; nothing was done.")
    caller = service.Caller(
        "slack",
        requester=f"{sender.user_name} ({sender.user_id})",
        details={
            "slackUserId": sender.user_id,
            "slackUserName": sender.user_name,
            "slackChannelId": sender.channel_id,
            "slackTeamId": sender.team_id,
        },
        reply_url=reply_url,
    )
    try:
        return _run(sender, asked, caller)
    except StopDeploymentError as exc:
        return messages.ephemeral(f":warning: `{_echo(asked)}` failed: {exc}.")


def _run(sender: Sender, asked: command.Command, caller: service.Caller) -> dict[str, Any]:
    if isinstance(asked, command.FreezeGroup | command.Unfreeze | command.ListFreezes):
        return _freezes(sender, asked, caller)
    if isinstance(asked, command.Help):  # answered before authorisation; here for the type checker
        return messages.ephemeral(messages.USAGE)
    if isinstance(asked, command.Status):
        return messages.status(service.describe_deployment(asked.deployment_id))
    if isinstance(asked, command.StopGroup):
        (report,), outcomes = service.stop_active_deployments(
            {asked.target: ["slack"]}, asked.auto_rollback, caller
        )
        return messages.stopped_group(sender, asked.target, report, outcomes)
    result = service.stop_deployment(asked.deployment_id, asked.auto_rollback, caller)
    try:
        now = service.describe_deployment(asked.deployment_id)
    except StopDeploymentError:
        now = None  # the stop itself is reported either way
    return messages.stopped_one(sender, result, now)


def _freezes(
    sender: Sender,
    asked: command.FreezeGroup | command.Unfreeze | command.ListFreezes,
    caller: service.Caller,
) -> dict[str, Any]:
    from ... import freeze  # only the freeze commands load the freeze code

    if isinstance(asked, command.ListFreezes):
        found, failures = freeze.freezes_now()
        return messages.freezes([f.listed() for f in found], [str(failure) for failure in failures])
    by = caller.requester or sender.user_id
    if isinstance(asked, command.Unfreeze):
        return messages.unfrozen(sender, freeze.lift_freeze(asked.pattern, by).listed())
    until = datetime.now(UTC) + timedelta(minutes=asked.minutes)
    return messages.frozen(sender, freeze.set_freeze(asked.pattern, until, asked.reason, by).listed())


def _reply_url(form: dict[str, str]) -> str | None:
    """The command's response_url when it is one to post follow-ups to; a doubtful one is ignored
    (the stop matters more than its follow-ups) and never logged (it is a credential)."""
    url = form.get("response_url", "")
    local = "AWS_LAMBDA_FUNCTION_NAME" not in os.environ
    if _SLACK_REPLY_URL.match(url) or (local and _LOCAL_REPLY_URL.match(url)):
        return url
    if url:
        logger.warning("Slack sent a response_url this function does not post to; no follow-ups in Slack")
    return None


def _echo(asked: command.Command) -> str:
    if isinstance(asked, command.Status):
        return f"status {asked.deployment_id}"
    if isinstance(asked, command.FreezeGroup | command.Unfreeze):
        return f"{'freeze' if isinstance(asked, command.FreezeGroup) else 'unfreeze'} {asked.pattern}"
    if isinstance(asked, command.ListFreezes | command.Help):
        return "freezes"
    return f"stop {asked.target if isinstance(asked, command.StopGroup) else asked.deployment_id}"


def _reply(message: dict[str, Any]) -> dict[str, Any]:
    return json_response(200, message)
