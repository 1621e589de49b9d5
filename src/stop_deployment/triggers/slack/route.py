"""POST /slack/commands and POST /slack/interactions: verify, read, authorise, then answer within
Slack's 3 seconds.

A slash command's help, status, freeze list and refusals are answered at once; a stop, freeze or
unfreeze is acknowledged at once and handed to an asynchronous invocation (deferral.py), whose result
replaces the acknowledgement through the command's response_url. A click on a confirmation prompt is
handed over the same way. Every reply is a 200 with a Slack message (Slack shows nothing for other
statuses), except a request that is not Slack's (401) and a missing signing secret (503).
"""

import json
import time
from typing import Any
from urllib.parse import parse_qsl

from ... import notify
from ...errors import InvalidRequest, SlackSignatureInvalid
from ...observability import logger
from ...validation import check
from ..http.error_responses import json_response
from ..http.request import HttpRequest
from . import command, messages, work
from .authorise import Sender
from .deferral import Kind, Work, send
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
# The fields of a button click (block_actions) this function uses; only its own two buttons.
_ID_OBJECT = {"type": "object", "required": ["id"], "properties": {"id": _SLACK_ID}}
INTERACTION_SCHEMA = {
    "type": "object",
    "required": ["type", "team", "channel", "user", "actions", "response_url"],
    "properties": {
        "type": {"const": "block_actions"},
        "team": _ID_OBJECT,
        "channel": _ID_OBJECT,
        "user": {**_ID_OBJECT, "properties": {"id": _SLACK_ID, "username": {"type": "string"}}},
        "response_url": {"type": "string"},
        "actions": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "required": ["action_id", "value"],
                "properties": {
                    "action_id": {"enum": [messages.CONFIRM_ACTION, messages.CANCEL_ACTION]},
                    "value": {"type": "string", "pattern": "^confirm#[0-9a-f]{32}$"},
                },
            },
        },
    },
}


def slash_command(request: HttpRequest) -> dict[str, Any]:
    form = _verified_form(request)
    try:
        check("Slack slash command", FORM_SCHEMA, form)
    except InvalidRequest:
        return _reply(
            messages.ephemeral(
                "Slack sent a slash command without its team, channel or user; nothing was done."
            )
        )
    sender = Sender(form["team_id"], form["channel_id"], form["user_id"], form.get("user_name", ""))
    asked = command.parse(form.get("text", ""))
    if isinstance(asked, command.Help):
        return _reply(work.answer(sender, asked, None))
    if refusal := work.refused(sender):
        return _reply(refusal)
    reply_url = _reply_url(form.get("response_url", ""))
    handed_over = (
        isinstance(asked, work.DEFERRED)
        and reply_url is not None
        and send(Work("command", sender, reply_url, text=form.get("text", "")))
    )
    if handed_over:
        return _reply(messages.acknowledgement(sender, asked))
    return _reply(work.answer(sender, asked, reply_url))


def interaction(request: HttpRequest) -> dict[str, Any]:
    """A click on a confirmation prompt's button: Slack only needs a 200; what it did replaces the
    prompt through the click's response_url."""
    form = _verified_form(request)
    try:
        payload = json.loads(form.get("payload", ""))
        check("Slack interaction", INTERACTION_SCHEMA, payload)
    except ValueError as exc:  # InvalidRequest is a ValueError too: a payload that is not JSON, or not ours
        logger.warning("Slack interaction refused", extra={"reason": str(exc)[:200]})
        raise InvalidRequest("The interaction is not a click on one of this app's buttons") from None
    reply_url = _reply_url(payload["response_url"])
    if reply_url is None:
        raise InvalidRequest("The interaction's response_url is not Slack's")
    user = payload["user"]
    sender = Sender(payload["team"]["id"], payload["channel"]["id"], user["id"], user.get("username", ""))
    (action,) = payload["actions"]
    kind: Kind = "confirm" if action["action_id"] == messages.CONFIRM_ACTION else "cancel"
    clicked = Work(kind, sender, reply_url, confirmation=action["value"])
    if refusal := work.refused(sender):
        notify.post_to_slack(reply_url, {**refusal, "replace_original": False}, attempts=1)
    elif not send(clicked):
        message = work.perform(clicked)
        if message is not None:
            notify.post_to_slack(reply_url, {**message, "replace_original": True})
    return {"statusCode": 200, "headers": {}, "body": "", "isBase64Encoded": False}


def _verified_form(request: HttpRequest) -> dict[str, str]:
    """The form of a request Slack signed; SlackSignatureInvalid before anything is read otherwise."""
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
    return dict(parse_qsl(request.body, keep_blank_values=True))


def _reply_url(url: str) -> str | None:
    """The response_url when replies may be posted there (notify.slack_url_allowed); a doubtful one is
    ignored, and the command runs in the request, without follow-ups. Never logged: it is a credential."""
    if notify.slack_url_allowed(url):
        return url
    if url:
        logger.warning("Slack sent a response_url this function does not post to; no follow-ups in Slack")
    return None


def _reply(message: dict[str, Any]) -> dict[str, Any]:
    return json_response(200, message)
