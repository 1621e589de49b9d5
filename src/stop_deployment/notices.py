"""What the notifications say: one for the stops of an invocation, one for each follow-up.

Plain functions from ledger items and log fields to `notify.Notification`; no AWS calls.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from .notify import Notification

_LISTED = 50  # a fan-out lists this many deployments; the rest are counted (chat cards stay readable)
_VIA = {
    "http": "through the HTTP API",
    "slack": "in Slack",
    "eventbridge": "through an EventBridge request",
    "direct": "by direct invocation",
    "freeze": "(a deployment freeze)",
}
_ROLLBACK = {True: "with rollback", False: "without rollback"}
_DOING = {"stop_requested": "stop requested", "refused": "refused", "failed": "FAILED to stop"}


def who(item: Mapping[str, Any]) -> str:
    """Who asked for a stop, in a few words (markdown). An alarm's reason is not included: it is long,
    and only the first notification shows it."""
    details = item.get("details") or {}
    if item.get("trigger") == "alarm":
        return f"alarm *{details.get('alarmName') or item.get('requester')}*"
    via = _VIA.get(str(item.get("trigger")), "")
    if not item.get("requester"):  # a direct invocation carries no identity
        return "a direct invocation" if item.get("trigger") == "direct" else f"a caller {via}".strip()
    return f"{item['requester']} {via}".strip()


def stops(
    caller: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], thread_id: str, followed: bool = True
) -> Notification:
    """One notification for everything an invocation stopped, refused or failed to stop; `followed`:
    the ledger is on, so follow-ups will come."""
    counts = {outcome: sum(e["outcome"] == outcome for e in entries) for outcome in _DOING}
    stopped, refused, failed = counts["stop_requested"], counts["refused"], counts["failed"]
    where = sorted({_where(e) for e in entries})
    summary = ", ".join(
        f"{n} {word}" for n, word in ((stopped, "stopped"), (refused, "refused"), (failed, "failed")) if n
    )
    icon = ":octagonal_sign:" if not failed else ":rotating_light:"
    more = " and more" if len(where) > 3 else ""
    lines = [f"Asked by {who(caller)}."]
    if caller.get("reason"):
        lines.append(f"Why: {caller['reason']}")
    lines.append("")
    lines += [f"- {_line(entry)}" for entry in entries[:_LISTED]]
    if len(entries) > _LISTED:
        lines.append(f"- and {len(entries) - _LISTED} more (see the function's logs)")
    next_steps = []
    if failed:
        next_steps.append("Some stops failed: check the deployments above and the function's logs")
    if stopped and followed:
        next_steps.append("Follow-ups in this thread say when each stop lands and how its rollback ends")
    return Notification(
        subject=f"stop-deployment: {summary} in {', '.join(where)}",
        title=f"{icon} Kill switch: {summary} in {', '.join(where[:3])}{more}",
        description="\n".join(lines),
        event_type="StopsFailed" if failed else "StopsRequested",
        thread_id=thread_id,
        outcomes=tuple(sorted({str(e["outcome"]) for e in entries})),
        trigger=str(caller["trigger"]),
        applications=_applications(entries),
        groups=tuple(_where(e) for e in entries if "applicationName" in e or "target" in e),
        deployments=tuple(str(e["deploymentId"]) for e in entries if "deploymentId" in e),
        next_steps=tuple(next_steps),
        context={"trigger": str(caller["trigger"]), "requester": str(caller.get("requester") or "")},
    )


def stop_landed(item: Mapping[str, Any], status: str, rollback_id: str | None) -> Notification:
    """The stop of a deployment in the ledger took effect (Stopped, or Failed after the stop)."""
    deployment = item["deploymentId"]
    rolled = f"rollback {rollback_id} started" if rollback_id else "no rollback started"
    text = f"{deployment} in {_where(item)} is {status} (stopped by {who(item)}); {rolled}."
    return _follow_up(
        item,
        "stopped",
        subject=f"stop-deployment: {deployment} {status.lower()}; {rolled}",
        title=f":white_check_mark: {deployment} stopped; {rolled}",
        description=text,
        rollback_id=rollback_id,
    )


def too_late(item: Mapping[str, Any]) -> Notification:
    """A deployment the function asked to stop finished first."""
    deployment = item["deploymentId"]
    return _follow_up(
        item,
        "too_late",
        subject=f"stop-deployment: {deployment} succeeded before the stop landed",
        title=f":warning: {deployment} finished before the stop landed",
        description=(
            f"{deployment} in {_where(item)} Succeeded: the stop asked by {who(item)} came too late. "
            "The new revision is live; roll back by redeploying the last good revision if needed."
        ),
    )


def rollback_ended(item: Mapping[str, Any], status: str) -> Notification:
    """The rollback CodeDeploy started for a stop in the ledger ended."""
    rollback, stopped = item["deploymentId"], item.get("stoppedDeploymentId", "?")
    if status == "Succeeded":
        return _follow_up(
            item,
            "rollback_succeeded",
            subject=f"stop-deployment: rollback {rollback} of {stopped} succeeded",
            title=f":white_check_mark: Rollback {rollback} succeeded",
            description=f"Rollback {rollback} of {stopped} in {_where(item)} succeeded.",
        )
    return _follow_up(
        item,
        "rollback_failed",
        subject=f"stop-deployment: ROLLBACK {rollback} of {stopped} FAILED, group may be half-deployed",
        title=f":rotating_light: Rollback {rollback} FAILED: {_where(item)} may be half-deployed",
        description=(
            f"Rollback {rollback} of {stopped} in {_where(item)} ended {status}. The deployment group may "
            f"be half-deployed: act now (stopped by {who(item)})."
        ),
        next_steps=(f"aws deploy get-deployment --deployment-id {rollback}",),
    )


def freeze_exempt(deployment_id: str, target: object, freezes: Sequence[object], marker: str) -> Notification:
    """A deployment started in a frozen group and was let through: its description has the marker."""
    return Notification(
        subject=f"stop-deployment: {deployment_id} passed the freeze on {target} (exempt)",
        title=f":large_yellow_circle: {deployment_id} passed the freeze on {target}: exempt (description)",
        description=(
            f"{deployment_id} started in {target} while it is frozen ({'; '.join(map(str, freezes))}); "
            f"its description carries `{marker}`, so it was not stopped."
        ),
        event_type="FreezeExempt",
        thread_id=deployment_id,
        outcomes=("exempt",),
        trigger="freeze",
        applications=(str(target).split("/")[0],),
        groups=(str(target),),
        deployments=(deployment_id,),
    )


def freeze_check_failed(deployment_id: str, target: object, problem: str) -> Notification:
    """FREEZE_ON_ERROR=allow: a deployment runs because nobody could tell whether its group is frozen."""
    return Notification(
        subject=f"stop-deployment: freeze check failed for {target}; {deployment_id} allowed to run",
        title=f":warning: Freeze check failed for {target}: {deployment_id} allowed to run",
        description=(
            f"{deployment_id} started in {target}, and {problem}. FREEZE_ON_ERROR=allow let it run; "
            "check the group's freezes and stop it by hand if it is frozen."
        ),
        event_type="FreezeCheckFailed",
        thread_id=deployment_id,
        outcomes=("freeze_check_failed",),
        trigger="freeze",
        applications=(str(target).split("/")[0],),
        groups=(str(target),),
        deployments=(deployment_id,),
    )


def frozen(freeze: Any) -> Notification:
    """Someone froze a group (or a glob of groups): deployments starting there will be stopped."""
    return _freeze_notice(
        freeze,
        "Frozen",
        subject=f"stop-deployment: {freeze.target} frozen until {freeze.until}",
        title=f":snowflake: {freeze.target} frozen until {freeze.until}",
        description=(
            f"{freeze.explained}\n"
            "Deployments that start there are stopped, and the sweep stops those in flight, unless "
            "their description carries the freeze exemption marker."
        ),
    )


def unfrozen(freeze: Any, by: str) -> Notification:
    """Someone lifted a freeze set on a group (or a glob)."""
    return _freeze_notice(
        freeze,
        "Unfrozen",
        subject=f"stop-deployment: freeze on {freeze.target} lifted",
        title=f":sunny: Freeze on {freeze.target} lifted",
        description=(
            f"{by} lifted the freeze on {freeze.target} (set by {freeze.by} until {freeze.until}: "
            f"{freeze.reason}). Alarms in ALARM and closed Change Calendars still freeze the groups they "
            "cover."
        ),
    )


def _freeze_notice(
    freeze: Any, event_type: str, *, subject: str, title: str, description: str
) -> Notification:
    return Notification(
        subject=subject,
        title=title,
        description=description,
        event_type=event_type,
        thread_id=f"freeze#{freeze.target}",
        outcomes=(event_type.lower(),),
        trigger="freeze",
        applications=(freeze.target.split("/")[0],),
        groups=(freeze.target,),
    )


def _follow_up(
    item: Mapping[str, Any],
    outcome: str,
    *,
    subject: str,
    title: str,
    description: str,
    rollback_id: str | None = None,
    next_steps: tuple[str, ...] = (),
) -> Notification:
    deployments = [str(item["deploymentId"]), *filter(None, (rollback_id, item.get("stoppedDeploymentId")))]
    return Notification(
        subject=subject,
        title=title,
        description=description,
        event_type="".join(word.capitalize() for word in outcome.split("_")),  # e.g. RollbackFailed
        thread_id=str(item.get("threadId") or item["deploymentId"]),
        outcomes=(outcome,),
        trigger=str(item.get("trigger") or "unknown"),
        applications=_applications([item]),
        groups=(_where(item),) if "applicationName" in item else (),
        deployments=tuple(deployments),
        next_steps=next_steps,
        context={"requester": str(item.get("requester") or "")},
    )


def _where(entry: Mapping[str, Any]) -> str:
    if "target" in entry:
        return str(entry["target"])
    if "applicationName" in entry:
        group = f"{entry['applicationName']}/{entry['deploymentGroupName']}"
        return f"{group} (account {entry['accountId']}, {entry['region']})" if "accountId" in entry else group
    return "an unknown group"


def _line(entry: Mapping[str, Any]) -> str:
    what = f"`{entry['deploymentId']}` in {_where(entry)}" if "deploymentId" in entry else _where(entry)
    doing = _DOING[entry["outcome"]]
    if entry["outcome"] == "stop_requested":
        flag = entry.get("autoRollbackEnabled")
        rollback = "rollback as the group is configured" if flag is None else _ROLLBACK[flag]
        return f"{what}: {doing}, {rollback} (CodeDeploy: {entry.get('status')})"
    return f"{what}: {doing}: {entry.get('errorMessage') or entry.get('error')}"


def _applications(entries: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(_where(e).split("/")[0] for e in entries if "applicationName" in e or "target" in e)
