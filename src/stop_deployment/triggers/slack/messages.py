"""What the person in Slack sees: Block Kit messages with the same words as the text fallback."""

from collections.abc import Mapping
from typing import Any

from ... import settings
from ...results import DeploymentOutcome, DeploymentStatus, StopResult, TargetReport
from ...target import HOME, Place, Target
from . import command
from .authorise import Sender
from .command import escape

USAGE = (
    "*Stop a deployment*\n"
    "`stop d-XXXXXXXXX` stop one deployment (rollback as configured; add `--no-rollback` or `--rollback`)\n"
    "`stop application/group` stop every deployment in flight in that group\n"
    "`status d-XXXXXXXXX` show its status, application, group, creator and rollback\n"
    "`stop d-XXXXXXXXX --account 111122223333 --region eu-west-1` in another account or region (also "
    "`status`; a group there: `stop application/group --account …`, or its ARN)\n"
    "*Freeze deployments*\n"
    "`freeze application/group 2h reason` stop every deployment that starts there for 2 hours (`*` allowed, "
    "e.g. `*/prod`; 30m, 2h, 1d, up to 7d; a description with the exemption marker passes)\n"
    "`unfreeze application/group` lift that freeze\n"
    "`freezes` list the freezes in force: set by people, alarms in ALARM, closed Change Calendars\n"
    "`help` this message"
)
CONFIRM_ACTION = "stop_confirmed"
CANCEL_ACTION = "stop_cancelled"
_LISTED_FREEZES = 8
_TEXT_LIMIT = 3000
_ROLLBACK = {True: "rollback requested", False: "no rollback", None: "rollback as the group decides"}


def stopped_one(sender: Sender, result: StopResult, now: DeploymentStatus | None) -> dict[str, Any]:
    """One deployment's stop, with its status afterwards when it could be read."""
    deployment_id = result["deploymentId"]
    group = f"{now['applicationName']}/{now['deploymentGroupName']}" if now else "group unknown"
    rollback = _ROLLBACK[result["autoRollbackEnabled"]]
    if result["outcome"] == "already_completed":
        headline = f"`{deployment_id}` ({group}) had already completed; there was nothing to stop"
    elif result["outcome"] == "dry_run":
        headline = f"Dry run: `{deployment_id}` ({group}) would have been stopped ({rollback})"
    else:
        headline = (
            f":octagonal_sign: <@{sender.user_id}> stopped `{deployment_id}` ({group}): CodeDeploy says "
            f"*{result['status']}*, {rollback}"
        )
    details = f"now {now['status']}" if now else result["statusMessage"]
    return in_channel(headline, details)


def stopped_group(
    sender: Sender, target: Target, report: TargetReport, outcomes: list[DeploymentOutcome]
) -> dict[str, Any]:
    """A group's fan-out: each deployment's outcome, or why the group could not be listed."""
    if "error" in report:
        return ephemeral(f":warning: `stop {target}` failed: {report['message']}.")
    if not outcomes:
        return in_channel(f"<@{sender.user_id}> asked to stop `{target}`: no deployment was in flight")
    stopped = sum(o["outcome"] == "stop_requested" for o in outcomes)
    headline = f":octagonal_sign: <@{sender.user_id}> stopped {stopped} of {len(outcomes)} in `{target}`"
    return in_channel(headline, "\n".join(_outcome_lines(outcomes)))


def status(found: DeploymentStatus, stopped: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A deployment's status; with `stopped` (its stop in the ledger), who stopped it, when and why."""
    lines = [
        f"`{found['deploymentId']}` in {found['applicationName']}/{found['deploymentGroupName']}: "
        f"*{found['status']}*",
        f"created by {found.get('creator', 'unknown')}",
    ]
    if stopped and stopped.get("requester"):
        why = f": {escape(str(stopped['reason']))}" if stopped.get("reason") else ""
        lines.append(
            f"stop asked by {escape(str(stopped['requester']))} ({stopped.get('trigger')}) "
            f"at {stopped.get('recordedAt', '?')}{why}"
        )
    if error := found.get("errorInformation"):
        lines.append(f"{error.get('code', '')}: {error.get('message', '')}")
    if rollback := found.get("rollbackInfo"):
        if "rollbackDeploymentId" in rollback:
            lines.append(f"rolled back by `{rollback['rollbackDeploymentId']}`")
        if "rollbackMessage" in rollback:
            lines.append(rollback["rollbackMessage"])
    return ephemeral("\n".join(lines))


def frozen(sender: Sender, freeze: dict[str, str]) -> dict[str, Any]:
    return in_channel(
        f":snowflake: <@{sender.user_id}> froze `{freeze['target']}` until {freeze['until']}",
        f"Why: {escape(freeze['reason'])}. Deployments that start there are stopped; `unfreeze "
        f"{freeze['target']}` lifts it.",
    )


def unfrozen(sender: Sender, freeze: dict[str, str]) -> dict[str, Any]:
    return in_channel(
        f":sunny: <@{sender.user_id}> lifted the freeze on `{freeze['target']}`",
        f"It was set by {escape(freeze['by'])} until {freeze['until']}: {escape(freeze['reason'])}",
    )


def freezes(found: list[dict[str, str]], problems: list[str]) -> dict[str, Any]:
    """Every freeze in force, one line each, and the sources that could not be read."""
    lines = [
        f"`{f['target']}` {f['source']} {escape(f['name'])}"
        + (f" by {escape(f['by'])} until {f['until']}" if "until" in f else "")
        + f": {escape(f['reason'])}"
        for f in found
    ]
    if len(lines) > _LISTED_FREEZES:  # a Slack text object holds 3,000 characters
        lines[_LISTED_FREEZES:] = [f"and {len(lines) - _LISTED_FREEZES} more: `GET /freezes` lists them all"]
    lines += [f":warning: {escape(problem)}; this list may be incomplete" for problem in problems]
    headline = f":snowflake: {len(found)} freeze(s) in force" if found else "No freeze is in force"
    return in_channel(headline, "\n".join(lines))


def acknowledgement(sender: Sender, asked: Any) -> dict[str, Any]:
    """What Slack shows at once while the handed-over work runs; its result replaces it."""
    if isinstance(asked, command.StopGroup) or settings.get().slack_confirm == "always":
        return in_channel(f":hourglass_flowing_sand: Looking up what `{echo(asked)}` would stop…")
    doing = {"stop": "stopping", "freeze": "freezing", "unfreeze": "lifting the freeze on"}
    verb, subject = echo(asked).split(" ", 1)
    return in_channel(f":hourglass_flowing_sand: <@{sender.user_id}> asked; {doing[verb]} `{subject}`…")


def echo(asked: Any) -> str:
    """The command as the person typed it, in short."""
    if isinstance(asked, command.Status):
        return f"status {asked.deployment_id}{_where(asked.place)}"
    if isinstance(asked, command.FreezeGroup):
        return f"freeze {asked.pattern}"
    if isinstance(asked, command.Unfreeze):
        return f"unfreeze {asked.pattern}"
    if isinstance(asked, command.StopGroup):
        return f"stop {asked.target}"
    if isinstance(asked, command.StopDeployment):
        return f"stop {asked.deployment_id}{_where(asked.place)}"
    return "freezes" if isinstance(asked, command.ListFreezes) else "help"


def _where(place: Place) -> str:
    return "" if place == HOME else f" --account {place.account} --region {place.region}"


def confirmation_prompt(
    sender: Sender,
    target: str,
    found: list[DeploymentStatus],
    key: str,
    rollback: bool | None,
    minutes: int,
) -> dict[str, Any]:
    """What would be stopped, with a danger button (and Slack's own confirmation dialog) and Cancel."""
    count = f"{len(found)} deployment{'s' if len(found) != 1 else ''}"
    headline = (
        f":warning: <@{sender.user_id}> asked to stop {count} in `{target}` ({_ROLLBACK[rollback]}). "
        f"Confirm within {minutes} minutes; deployments that start later are not included."
    )
    lines = "\n".join(
        f"`{d['deploymentId']}` {d['status']}, created by {escape(d.get('creator', 'unknown'))}, "
        f"created {d.get('createTime', '?')[:16].replace('T', ' ')} UTC"
        for d in found
    )
    message = in_channel(headline, lines)
    message["blocks"].append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": CONFIRM_ACTION,
                    "style": "danger",
                    "text": {"type": "plain_text", "text": f"Stop {count}"},
                    "value": key,
                    "confirm": {
                        "title": {"type": "plain_text", "text": f"Stop {count}?"},
                        "text": {
                            "type": "plain_text",
                            "text": f"CodeDeploy will stop {count} in {target}."[:300],
                        },
                        "confirm": {"type": "plain_text", "text": "Stop them"},
                        "deny": {"type": "plain_text", "text": "Keep them running"},
                        "style": "danger",
                    },
                },
                {
                    "type": "button",
                    "action_id": CANCEL_ACTION,
                    "text": {"type": "plain_text", "text": "Cancel"},
                    "value": key,
                },
            ],
        }
    )
    return message


def confirmed(
    sender: Sender, target: str, outcomes: list[DeploymentOutcome], unconfirmed: list[str]
) -> dict[str, Any]:
    """The confirmed stop's outcome, replacing the prompt."""
    lines = _outcome_lines(outcomes)
    lines += [f"`{d}` not confirmed: it started after the prompt; still running" for d in unconfirmed]
    stopped = sum(o["outcome"] == "stop_requested" for o in outcomes)
    headline = (
        f":octagonal_sign: <@{sender.user_id}> confirmed: stopped {stopped} of {len(outcomes)} in `{target}`"
    )
    return in_channel(headline, "\n".join(lines))


def _outcome_lines(outcomes: list[DeploymentOutcome]) -> list[str]:
    """A fan-out's deployments, a line each: its outcome, CodeDeploy's status, why it failed."""
    return [
        f"`{o['deploymentId']}` {o['outcome'].replace('_', ' ')}"
        + (f" ({o['status']})" if o.get("status") else "")
        + (f": {o['message']}" if o.get("message") else "")
        for o in outcomes
    ]


def in_channel(text: str, details: str = "") -> dict[str, Any]:
    return _message("in_channel", text, details)


def ephemeral(text: str) -> dict[str, Any]:
    return _message("ephemeral", text)


def _message(response_type: str, text: str, details: str = "") -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": _fit(text)}}]
    if details:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _fit(details)}]})
    return {"response_type": response_type, "text": f"{text}\n{details}".strip(), "blocks": blocks}


def _fit(text: str) -> str:
    """Slack refuses a whole message whose text object is over 3,000 characters."""
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"
