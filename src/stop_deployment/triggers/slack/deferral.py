"""Slack's work done after the answer: Slack waits 3 seconds, a stop may take longer (a cold start,
a slow or throttled CodeDeploy). The routes verify, authorise and parse, answer at once, and hand the
work to an asynchronous invocation of this same function (Lambda InvocationType=Event), which posts
its result to the request's response_url.

The handed-over work carries only what the route verified and parsed: the sender, the command's text
(parsed again by the same grammar) or the confirmation clicked, and the response_url. It is signed
with the Slack app's signing secret and expires after MAX_AGE_SECONDS, so that nobody else allowed to
invoke the function can pass work off as Slack's, and a late retry does nothing.
"""

import functools
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

from ... import settings
from ...clients import CONFIG, error_code, long_lived
from ...errors import InvalidRequest, SlackSignatureInvalid
from ...observability import logger
from ...validation import check
from .. import deferred
from .authorise import Sender
from .signature import signing_secret

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

WORK_KEY = deferred.WORK_KEY  # how the handler recognises handed-over work
MAX_AGE_SECONDS = 300
_SLACK_ID = {"type": "string", "pattern": "^[A-Z0-9]{1,40}$"}
SCHEMA = {
    "type": "object",
    "required": [WORK_KEY, "signature"],
    "additionalProperties": False,
    "properties": {
        "signature": {"type": "string", "pattern": "^v1=[0-9a-f]{64}$"},
        WORK_KEY: {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", "teamId", "channelId", "userId", "userName", "responseUrl", "issuedAt"],
            "properties": {
                "kind": {"enum": ["command", "confirm", "cancel"]},
                "text": {"type": "string", "maxLength": 4000},
                "confirmation": {"type": "string", "pattern": "^confirm#[0-9a-f]{32}$"},
                "teamId": _SLACK_ID,
                "channelId": _SLACK_ID,
                "userId": _SLACK_ID,
                "userName": {"type": "string", "maxLength": 200},
                "responseUrl": {"type": "string", "maxLength": 2000},
                "issuedAt": {"type": "integer"},
            },
        },
    },
}

Kind = Literal["command", "confirm", "cancel"]


@dataclass(frozen=True)
class Work:
    kind: Kind
    sender: Sender
    response_url: str
    text: str = ""  # command: the slash command's text
    confirmation: str = ""  # confirm, cancel: the prompt's key in the ledger


# Clocks of two Lambda hosts may differ a little: work "from the future" within this is accepted.
_CLOCK_SKEW_SECONDS = 30


@functools.cache
def _lambda() -> "LambdaClient":
    # Handing over happens before Slack's answer: one quick attempt, then the route does the work itself.
    hand_over = Config(
        retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=1, read_timeout=1
    )
    return long_lived(boto3.client("lambda", config=CONFIG.merge(hand_over)))


def send(work: Work) -> bool:
    """Hand `work` to an asynchronous invocation of this function; False when it cannot be (outside
    Lambda, or the invocation was refused): the caller then does the work itself, late rather than
    never."""
    function = settings.get().function_name
    if function is None:
        return False
    body = _payload(work, int(time.time()))
    try:
        check("handed-over Slack work", SCHEMA, body)  # what the other side would refuse is done here
        _lambda().invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(body).encode())
    except ReadTimeoutError:
        # The request reached Lambda, which most likely queued it: doing the work here as well would
        # do it twice (the handed-over work is also claimed once, when there is a ledger).
        logger.warning("No answer from Lambda after handing the Slack work over; assuming it was queued")
    except (ClientError, BotoCoreError, InvalidRequest) as exc:
        logger.warning("Could not hand the Slack work over; doing it now", extra={"error": error_code(exc)})
        return False
    return True


def read(event: dict[str, Any]) -> Work:
    """The work an invocation carries; InvalidRequest or SlackSignatureInvalid when it is not work
    this function handed over (see `expired` for its age)."""
    check("handed-over Slack work", SCHEMA, event)
    fields = event[WORK_KEY]
    expected = _signature(fields)
    if not hmac.compare_digest(expected.encode(), event["signature"].encode()):
        raise SlackSignatureInvalid("The Slack work is not signed with the Slack app's signing secret")
    sender = Sender(fields["teamId"], fields["channelId"], fields["userId"], fields["userName"])
    kind: Kind = fields["kind"]
    if (kind == "command") != ("text" in fields) or (kind != "command") != ("confirmation" in fields):
        raise InvalidRequest(f"Slack work of kind {kind} carries the wrong fields")
    return Work(kind, sender, fields["responseUrl"], fields.get("text", ""), fields.get("confirmation", ""))


def expired(event: dict[str, Any], now: float) -> bool:
    """Whether read()'s work was handed over more than MAX_AGE_SECONDS ago (a late retry): it must not
    run, since the person has long been told something else may be needed."""
    return not -_CLOCK_SKEW_SECONDS <= now - int(event[WORK_KEY]["issuedAt"]) <= MAX_AGE_SECONDS


def _payload(work: Work, issued_at: int) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": work.kind,
        "teamId": work.sender.team_id,
        "channelId": work.sender.channel_id,
        "userId": work.sender.user_id,
        "userName": work.sender.user_name,
        "responseUrl": work.response_url,
        "issuedAt": issued_at,
    }
    if work.kind == "command":
        fields["text"] = work.text
    else:
        fields["confirmation"] = work.confirmation
    return {WORK_KEY: fields, "signature": _signature(fields)}


def _signature(fields: dict[str, Any]) -> str:
    # A prefix of its own, so that the MAC can never be mistaken for one of Slack's request signatures.
    canonical = "stop-deployment:slack-work:v1:" + json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return "v1=" + hmac.new(signing_secret().encode(), canonical.encode(), hashlib.sha256).hexdigest()
