"""What each Slack command and click does, whether it runs in the request (help, status, the freeze
list, and anything when it cannot be handed over) or in the asynchronous invocation it was handed to
(deferral.py): one place, so both run the same rules."""

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ... import ledger, service, settings
from ...errors import InvalidRequest, StopDeploymentError
from ...observability import logger
from . import command, messages
from .authorise import Sender, refusal
from .deferral import Work

# What the routes hand over rather than do within Slack's 3 seconds: whatever calls CodeDeploy to
# stop, or writes.
DEFERRED = (command.StopDeployment, command.StopGroup, command.FreezeGroup, command.Unfreeze)


def caller(sender: Sender, reply_url: str | None) -> service.Caller:
    return service.Caller(
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


def refused(sender: Sender) -> dict[str, Any] | None:
    """The private refusal for a sender the Slack allowlists exclude (logged), or None."""
    reason = refusal(sender)
    if reason is None:
        return None
    logger.warning(
        "Slack user refused",
        extra={"slackUserId": sender.user_id, "slackChannelId": sender.channel_id, "reason": reason},
    )
    return messages.ephemeral(f":no_entry: {reason}; nothing was done.")


def answer(sender: Sender, asked: command.Command, reply_url: str | None) -> dict[str, Any]:
    """Run an authorised command and say what happened; a domain error is said, privately."""
    try:
        return _run(sender, asked, reply_url)
    except StopDeploymentError as exc:
        return messages.ephemeral(f":warning: `{messages.echo(asked)}` failed: {exc}.")


def perform(work: Work) -> dict[str, Any] | None:
    """The handed-over work, authorised again (the allowlists may have changed since); the message
    that replaces the acknowledgement or the prompt, or None when there is nothing to say (a click
    on a prompt another click already decided)."""
    if refusal_message := refused(work.sender):
        return refusal_message
    if work.kind == "command":
        asked = command.parse(work.text)
        if not isinstance(asked, DEFERRED):  # the routes hand over nothing else
            raise InvalidRequest(f"Slack work may only stop or freeze, not {messages.echo(asked)}")
        return answer(work.sender, asked, work.response_url)
    from . import confirm

    try:
        return confirm.decide(work.sender, work.confirmation, work.kind == "confirm", work.response_url)
    except StopDeploymentError as exc:
        return messages.ephemeral(f":warning: The confirmation failed: {exc}.")


def _run(sender: Sender, asked: command.Command, reply_url: str | None) -> dict[str, Any]:
    if isinstance(asked, command.Help):
        return messages.ephemeral(f"{asked.problem or ''}\n{messages.USAGE}".strip())
    if isinstance(asked, command.Status):
        status = service.describe_deployment(asked.deployment_id, asked.place, caller(sender, None).requester)
        return messages.status(status, _stopped_by(asked))
    if isinstance(asked, command.FreezeGroup | command.Unfreeze | command.ListFreezes):
        return _freezes(sender, asked)
    from . import confirm

    if confirm.needed(asked):
        return confirm.prompt(sender, asked)
    if isinstance(asked, command.StopGroup):
        (report,), outcomes = service.stop_active_deployments(
            {asked.target: ["slack"]}, asked.auto_rollback, caller(sender, reply_url)
        )
        return messages.stopped_group(sender, asked.target, report, outcomes)
    who = caller(sender, reply_url)
    result = service.stop_deployment(asked.deployment_id, asked.auto_rollback, who, place=asked.place)
    try:
        now = service.describe_deployment(asked.deployment_id, asked.place, who.requester)
    except StopDeploymentError:
        now = None  # the stop itself is reported either way
    return messages.stopped_one(sender, result, now)


def _stopped_by(asked: command.Status) -> ledger.Item | None:
    """What the ledger knows of a stop of this deployment (who, why), when there is a ledger."""
    if settings.get().stops_table is None:
        return None
    try:
        return ledger.get(asked.deployment_id)
    except (ClientError, BotoCoreError) as exc:  # the status matters more than who stopped it
        logger.warning("Could not read the ledger for status", extra={"error": type(exc).__name__})
        return None


def _freezes(
    sender: Sender, asked: command.FreezeGroup | command.Unfreeze | command.ListFreezes
) -> dict[str, Any]:
    from ... import freeze  # only the freeze commands load the freeze code

    if isinstance(asked, command.ListFreezes):
        return messages.freezes(*freeze.listing())
    by = f"{sender.user_name} ({sender.user_id})"
    if isinstance(asked, command.Unfreeze):
        return messages.unfrozen(sender, freeze.lift_freeze(asked.pattern, by).listed())
    until = datetime.now(UTC) + timedelta(minutes=asked.minutes)
    return messages.frozen(sender, freeze.set_freeze(asked.pattern, until, asked.reason, by).listed())
