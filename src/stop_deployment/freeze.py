"""Deployment freezes: whether a deployment group is frozen, and stopping what starts in one.

A group is frozen while
- an alarm that guards it is in ALARM: alarms named with ALARM_NAME_PREFIX, "guards" as the alarm
  fan-out decides (ALARM_TARGETS, the targets tag, discovery); one DescribeAlarms call;
- a Change Calendar that FREEZE_CALENDARS names for it is CLOSED; one GetCalendarState call.

`enforce` runs on CodeDeploy's START event: a deployment that starts in a frozen group is stopped at
once (way in `freeze`), unless CodeDeploy started it to roll back or its description carries
FREEZE_EXEMPT_MARKER (the hotfix path, announced). The allowlist and dry run apply as everywhere.
"""

import functools
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from . import alarm_targets, cloudwatch, codedeploy, notices, notify, service, settings
from .clients import CONFIG, long_lived
from .errors import FreezeCheckFailed
from .observability import count, logger
from .service import ROLLBACK_CREATOR
from .target import Target

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


@dataclass(frozen=True)
class Freeze:
    source: str  # alarm, calendar, or error (a check that failed under FREEZE_ON_ERROR=stop)
    name: str  # the alarm's name, the calendars' names
    reason: str  # for people

    def __str__(self) -> str:
        return f"{self.source} {self.name}"


@functools.cache
def ssm() -> "SSMClient":
    return long_lived(boto3.client("ssm", config=CONFIG))


def freezes_on(target: Target) -> list[Freeze]:
    """Every freeze on the group now; raises FreezeCheckFailed when a source could not be read and
    none of the others freezes it (a freeze found elsewhere is enough to act)."""
    found: list[Freeze] = []
    failures: list[FreezeCheckFailed] = []
    for source in (_alarm_freezes, _calendar_freezes):
        try:
            found += source(target)
        except FreezeCheckFailed as exc:
            failures.append(exc)
    if failures and not found:
        raise failures[0]
    return found


def enforce(deployment_id: str, target: Target) -> dict[str, Any]:
    """Stop `deployment_id`, which just started in `target`, if the group is frozen; say what happened."""
    config = settings.get()
    result: dict[str, Any] = {"deploymentId": deployment_id, "target": str(target)}
    if not config.freezes_configured or not config.allows(target):
        return {**result, "outcome": "not_checked"}
    try:
        freezes = freezes_on(target)
    except FreezeCheckFailed as exc:
        freezes = _check_failed(deployment_id, target, exc)
    if not freezes:
        return {**result, "outcome": "not_frozen"}
    result["freezes"] = [str(f) for f in freezes]
    deployment = codedeploy.get(deployment_id)
    if deployment.get("creator") == ROLLBACK_CREATOR:
        logger.info("Rollback passes the freeze", extra={**result, "outcome": "exempt_rollback"})
        return {**result, "outcome": "exempt_rollback"}
    if config.freeze_exempt_marker in deployment.get("description", ""):
        logger.warning("Deployment passes the freeze", extra={**result, "outcome": "exempt"})
        notify.publish(notices.freeze_exempt(deployment_id, target, freezes, config.freeze_exempt_marker))
        return {**result, "outcome": "exempt"}
    caller = service.Caller(
        "freeze",
        requester=", ".join(str(f) for f in freezes),
        details={"freezes": "; ".join(f"{f}: {f.reason}" for f in freezes)},
        reason="; ".join(f.reason for f in freezes),
    )
    stopped = service.stop_deployment(deployment_id, config.freeze_auto_rollback, caller, target)
    return {**result, "outcome": stopped["outcome"], "status": stopped["status"]}


def _alarm_freezes(target: Target) -> list[Freeze]:
    prefix = settings.get().alarm_name_prefix
    if prefix is None:
        return []
    return [
        Freeze("alarm", alarm["name"], f"alarm {alarm['name']} is in ALARM: {alarm['reason']}".rstrip(": "))
        for alarm in cloudwatch.alarms_in_alarm(prefix)
        if target in alarm_targets.guarded_by(alarm["name"], alarm["arn"] or None, None)
    ]


def _calendar_freezes(target: Target) -> list[Freeze]:
    names = sorted(
        {
            name
            for pattern, calendars in settings.get().freeze_calendars
            if fnmatchcase(str(target), pattern)
            for name in calendars
        }
    )
    if not names:
        return []
    try:
        state = ssm().get_calendar_state(CalendarNames=names)["State"]
    except (ClientError, BotoCoreError) as exc:
        code = (
            exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else type(exc).__name__
        )
        raise FreezeCheckFailed(
            f"the Change Calendar(s) {', '.join(names)} could not be read ({code})"
        ) from exc
    if state != "CLOSED":
        return []
    return [Freeze("calendar", ", ".join(names), f"Change Calendar {', '.join(names)} is CLOSED")]


def _check_failed(deployment_id: str, target: Target, exc: FreezeCheckFailed) -> list[Freeze]:
    """FREEZE_ON_ERROR: `allow` lets the deployment run (logged, counted, announced); `stop` treats
    the group as frozen."""
    stop = settings.get().freeze_on_error == "stop"
    logger.error(
        "Freeze check failed",
        extra={"deploymentId": deployment_id, "target": str(target), "problem": str(exc), "stop": stop},
    )
    count("FreezeChecksFailed")
    if stop:
        return [Freeze("error", "FREEZE_ON_ERROR=stop", f"the freeze check failed: {exc}")]
    notify.publish(notices.freeze_check_failed(deployment_id, target, str(exc)))
    return []
