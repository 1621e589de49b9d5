"""Ask before a big stop: `stop application/group` (and every stop with SLACK_CONFIRM=always) first
shows what would be stopped, with a danger button and Cancel; a click stops exactly what was shown.

The prompt is kept in the ledger (`confirm#<random>`: the group, the deployment ids shown, the
rollback flag, until when it may be confirmed), and the buttons carry only its key. A click is
claimed once with a conditional write, so double clicks and Slack's retries never stop or announce
twice. Deployments that started after the prompt are not stopped: they are listed as not confirmed.
"""

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from ... import codedeploy, ledger, service, settings
from ...errors import StopDeploymentError
from ...observability import logger
from ...results import DeploymentStatus
from ...service import ROLLBACK_CREATOR
from ...target import Target
from . import command, messages
from .authorise import Sender
from .work import caller

PREFIX = "confirm#"
_KEPT_SECONDS = 24 * 3600  # a prompt's item expires a day after it was shown (TTL)
_ROLLBACK_TEXT = {True: "true", False: "false", None: "default"}
_ROLLBACK_FLAG = {text: flag for flag, text in _ROLLBACK_TEXT.items()}


def needed(asked: command.Command) -> bool:
    mode = settings.get().slack_confirm
    if isinstance(asked, command.StopGroup):
        return mode != "never"
    return isinstance(asked, command.StopDeployment) and mode == "always"


def prompt(sender: Sender, asked: command.StopDeployment | command.StopGroup) -> dict[str, Any]:
    """List what the stop would touch and keep the prompt; nothing is stopped yet."""
    config = settings.get()
    if config.stops_table is None:
        return messages.ephemeral(
            f"`{messages.echo(asked)}` asks for a confirmation first, which needs the ledger table "
            "(STOPS_TABLE); nothing was done. SLACK_CONFIRM=never stops without asking."
        )
    target, found = _in_flight(asked, caller(sender, None).requester)
    service.allowed_target(target)
    if not found:
        what = (
            f"`{asked.deployment_id}` was not"
            if isinstance(asked, command.StopDeployment)
            else "no deployment was"
        )
        return messages.in_channel(f"<@{sender.user_id}> asked to stop `{target}`: {what} in flight")
    key = PREFIX + uuid.uuid4().hex
    now = int(time.time())
    ledger.add(
        {
            "deploymentId": key,
            "target": str(target),
            "deployments": [d["deploymentId"] for d in found],
            "rollback": _ROLLBACK_TEXT[asked.auto_rollback],
            "askedBy": sender.user_id,
            "teamId": sender.team_id,
            "channelId": sender.channel_id,
            "confirmBefore": now + config.slack_confirm_minutes * 60,
            "expiresAt": now + _KEPT_SECONDS,
        }
    )
    logger.info("Confirmation asked", extra={"target": str(target), "deployments": len(found), "key": key})
    rollback = config.default_auto_rollback if asked.auto_rollback is None else asked.auto_rollback
    return messages.confirmation_prompt(
        sender, str(target), found, key, rollback, config.slack_confirm_minutes
    )


def decide(sender: Sender, key: str, confirmed: bool, reply_url: str) -> dict[str, Any] | None:
    """A click on the prompt `key`: stop what it showed, or cancel; None when another click already
    decided it (that click's message stands)."""
    item = ledger.get(key)
    if item is None or (item.get("teamId"), item.get("channelId")) != (sender.team_id, sender.channel_id):
        return messages.ephemeral("This prompt is unknown (over a day old?); nothing was done.")
    if time.time() > int(item["confirmBefore"]):
        return messages.in_channel(
            f":hourglass: This confirmation expired after {settings.get().slack_confirm_minutes} minutes; "
            f"nothing was stopped. Run `stop {item['target']}` again to see what is in flight now."
        )
    decision = "confirmed" if confirmed else "cancelled"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    claimed = ledger.settle(key, {"settled": decision, "settledAt": now, "settledBy": sender.user_id})
    # A retried write may find its own first attempt: the claim is ours if it holds our time.
    if not claimed and (ledger.get(key) or {}).get("settledAt") != now:
        logger.info("Confirmation already decided", extra={"key": key, "slackUserId": sender.user_id})
        return None
    logger.info(f"Confirmation {decision}", extra={"key": key, "slackUserId": sender.user_id})
    if not confirmed:
        return messages.in_channel(f":x: Cancelled by <@{sender.user_id}>; nothing was stopped.")
    target = Target.parse(str(item["target"]))
    if target is None:  # written by prompt() above: a programming error
        raise RuntimeError(f"the prompt {key} names no group")
    shown = [str(d) for d in item["deployments"]]
    who = caller(sender, reply_url)
    outcomes = service.stop_listed(shown, target, _ROLLBACK_FLAG[str(item["rollback"])], who)
    return messages.confirmed(sender, str(target), outcomes, _started_since(target, shown, who.requester))


def _in_flight(
    asked: command.StopDeployment | command.StopGroup, requester: str | None
) -> tuple[Target, list[DeploymentStatus]]:
    """The group and its deployments in flight that a stop would touch (rollbacks are left running)."""
    if isinstance(asked, command.StopDeployment):
        place = service.allowed_place(asked.place)
        found = codedeploy.get(asked.deployment_id, place, requester)
        target = Target(found["applicationName"], found["deploymentGroupName"], place)
        listed = [found] if found["status"] in codedeploy.ACTIVE_STATUSES else []
    else:
        target = Target(
            asked.target.application, asked.target.group, service.allowed_place(asked.target.place)
        )
        in_flight = codedeploy.list_in_flight(target, requester) if service.may_act(target) else []
        listed = codedeploy.get_many(in_flight, target.place, requester)
    return target, [d for d in listed if d.get("creator") != ROLLBACK_CREATOR]


def _started_since(target: Target, shown: list[str], requester: str | None) -> list[str]:
    """The group's deployments in flight now that the prompt did not show, rollbacks left out (those
    the confirmed stops just started among them); best effort."""
    try:
        others = [d for d in codedeploy.list_in_flight(target, requester) if d not in shown]
        creators = codedeploy.creators(others, target.place, requester)
    except StopDeploymentError:
        return []
    return [d for d in others if creators.get(d) != ROLLBACK_CREATOR]
