"""Slack work handed over by the Slack routes (triggers/slack/deferral.py): an asynchronous invocation
of this function that does a stop, freeze or click and posts the result to Slack's response_url."""

import hashlib
import time
from typing import TYPE_CHECKING, Any

from ..observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

WORK_KEY = "slackWork"  # deferral.WORK_KEY, without importing the Slack package to recognise it


def recognise(event: Any) -> bool | None:
    return (isinstance(event, dict) and WORK_KEY in event) or None


def handle(_: bool, event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    from .. import ledger, notify
    from .slack import deferral, messages, work  # only Slack's work loads the Slack package

    logger.set_correlation_id(context.aws_request_id)
    handed_over = deferral.read(event)
    # Lambda delivers at least once and retries a failed invocation: the work is done once.
    if not ledger.first_time("slack-work#" + hashlib.sha256(event["signature"].encode()).hexdigest(), 3600):
        logger.info("Slack work already done: a repeated delivery", extra={"kind": handed_over.kind})
        return {"outcome": "repeated", "kind": handed_over.kind}
    if deferral.expired(event, time.time()):
        logger.warning("Slack work expired before it ran", extra={"kind": handed_over.kind})
        message: dict[str, Any] | None = messages.ephemeral(
            f":hourglass: This request waited over {deferral.MAX_AGE_SECONDS // 60} minutes to run and "
            "was dropped; nothing was done. Try again."
        )
    else:
        message = work.perform(handed_over)
    if message is None:
        return {"outcome": "nothing_to_say", "kind": handed_over.kind}
    posted = notify.post_to_slack(handed_over.response_url, {**message, "replace_original": True})
    if not posted:  # the work is done either way; its log lines and notifications say what it did
        logger.error("Could not post the Slack work's result", extra={"kind": handed_over.kind})
    return {"outcome": "done", "kind": handed_over.kind, "posted": posted}
