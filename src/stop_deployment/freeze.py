"""Deployment freezes: whether a deployment group is frozen, and stopping what starts in one.

A group is frozen while
- an alarm that guards it is in ALARM: alarms named with ALARM_NAME_PREFIX, "guards" as the alarm
  fan-out decides (ALARM_TARGETS, the targets tag, discovery); one DescribeAlarms call;
- a Change Calendar that FREEZE_CALENDARS names for it is CLOSED; one GetCalendarState call;
- a freeze kept in the ledger covers it (one GetItem): today, the freeze an alarm leaves behind for
  ALARM_FREEZE_MINUTES after it stopped deployments (`freeze_after_alarm`).

`enforce` runs on CodeDeploy's START event: a deployment that starts in a frozen group is stopped at
once (way in `freeze`), unless nobody asked for it (EXEMPT_CREATORS: rollbacks, Auto Scaling) or its
description carries FREEZE_EXEMPT_MARKER (the hotfix path, announced). The allowlist and dry run
apply as everywhere.
"""

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from . import alarm_targets, cloudwatch, codedeploy, ledger, notices, notify, service, settings
from .clients import CONFIG, error_code, long_lived
from .errors import FreezeCheckFailed
from .observability import count, logger
from .service import ROLLBACK_CREATOR
from .target import Target

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


# Deployments nobody asked for, which a freeze must let finish: CodeDeploy's rollbacks, and the ones
# Auto Scaling starts for new instances (stopping one fails the instance's lifecycle hook and costs
# capacity, likely during an incident), CloudFormation's rollbacks and CodeDeploy's own updates.
EXEMPT_CREATORS = frozenset(
    {
        ROLLBACK_CREATOR,
        "autoscaling",
        "autoscalingTermination",
        "CloudFormationRollback",
        "CodeDeployAutoUpdate",
    }
)


@dataclass(frozen=True)
class Freeze:
    source: str  # alarm, calendar, freeze (kept in the ledger), or error (FREEZE_ON_ERROR=stop)
    name: str  # the alarm's name, the calendars' names, the kept freeze's pattern
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
    for source in (_alarm_freezes, _calendar_freezes, _kept_freezes):
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
    actual = Target(deployment["applicationName"], deployment["deploymentGroupName"])
    if actual != target:  # the event is not CodeDeploy's word: its group decides nothing
        logger.warning("START event names another group", extra={**result, "actual": str(actual)})
        return {**result, "outcome": "group_mismatch"}
    if deployment.get("creator") in EXEMPT_CREATORS:
        logger.info("Deployment passes the freeze", extra={**result, "creator": deployment.get("creator")})
        return {**result, "outcome": "exempt_creator"}
    if config.freeze_exempt_marker in deployment.get("description", ""):
        logger.warning("Deployment passes the freeze", extra={**result, "outcome": "exempt"})
        if _first_time(f"freeze-exempt#{deployment_id}"):
            notice = notices.freeze_exempt(deployment_id, target, freezes, config.freeze_exempt_marker)
            notify.publish(notice)
        return {**result, "outcome": "exempt"}
    caller = service.Caller(
        "freeze",
        requester=", ".join(str(f) for f in freezes),
        details={"freezes": "; ".join(f"{f}: {f.reason}" for f in freezes)},
        reason="; ".join(f.reason for f in freezes),
    )
    stopped = service.stop_deployment(deployment_id, config.freeze_auto_rollback, caller, target)
    return {**result, "outcome": stopped["outcome"], "status": stopped["status"]}


def _first_time(key: str) -> bool:
    """Whether this is the first time `key` is seen (a marker in the ledger, when there is one), so
    that a repeated START event is announced once; without a ledger, every time."""
    if settings.get().stops_table is None:
        return True
    now = int(datetime.now(UTC).timestamp())
    try:
        return ledger.add({"deploymentId": key, "expiresAt": now + ledger.EXPIRES_AFTER_SECONDS})
    except (ClientError, BotoCoreError):
        return True  # better announced twice than not at all


def _alarm_freezes(target: Target) -> list[Freeze]:
    """The alarms in ALARM that guard `target`. An alarm whose tags cannot be read might guard it: unless
    another alarm freezes the group, that is a check that could not complete (FREEZE_ON_ERROR)."""
    prefix = settings.get().alarm_name_prefix
    if prefix is None:
        return []
    found, unreadable = [], []
    for alarm in cloudwatch.alarms_in_alarm(prefix):
        tags = cloudwatch.alarm_tags(alarm["arn"]) if alarm["arn"] else {}
        if tags is None:
            unreadable.append(alarm["name"])
        elif target in alarm_targets.guarded_by(alarm["name"], alarm["arn"] or None, tags):
            reason = f"alarm {alarm['name']} is in ALARM: {alarm['reason']}".rstrip(": ")
            found.append(Freeze("alarm", alarm["name"], reason))
    if unreadable and not found:
        raise FreezeCheckFailed(f"the tags of alarm(s) {', '.join(unreadable)} in ALARM could not be read")
    return found


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
        raise FreezeCheckFailed(
            f"the Change Calendar(s) {', '.join(names)} could not be read ({error_code(exc)})"
        ) from exc
    if state != "CLOSED":
        return []
    # GetCalendarState says CLOSED when any of them is closed, without saying which.
    closed = (
        f"Change Calendar {names[0]} is CLOSED" if len(names) == 1 else f"one of {', '.join(names)} is CLOSED"
    )
    return [Freeze("calendar", ", ".join(names), closed)]


def freeze_after_alarm(alarm_name: str, targets: list[Target]) -> None:
    """ALARM_FREEZE_MINUTES after an alarm stopped deployments: freeze the groups it guards, so that a
    retry right after the incident is stopped even if the alarm flaps back to OK. Never raises: the
    stops are done, and a freeze that cannot be written is logged and counted."""
    config = settings.get()
    if not config.alarm_freeze_minutes or config.stops_table is None:
        return
    now = datetime.now(UTC)
    freeze = {
        "from": _iso(now),
        "until": _iso(now + timedelta(minutes=config.alarm_freeze_minutes)),
        "reason": f"alarm {alarm_name} stopped deployments here",
        "by": f"alarm {alarm_name}",
    }
    for target in targets:
        try:
            ledger.set_freeze(str(target), freeze)
        except (ClientError, BotoCoreError) as exc:
            logger.error(
                "Could not freeze after the alarm", extra={"target": str(target), "error": type(exc).__name__}
            )
            count("FreezeWritesFailed")
            continue
        logger.info("Frozen after the alarm", extra={"target": str(target), "until": freeze["until"]})


def _kept_freezes(target: Target) -> list[Freeze]:
    if settings.get().stops_table is None:
        return []
    try:
        kept = ledger.freezes()
    except (ClientError, BotoCoreError) as exc:
        raise FreezeCheckFailed(f"the freezes in the ledger could not be read ({error_code(exc)})") from exc
    now = _iso(datetime.now(UTC))
    return [
        Freeze(
            "freeze", pattern, f"{freeze['by']} froze {pattern} until {freeze['until']}: {freeze['reason']}"
        )
        for pattern, freeze in sorted(kept.items())
        if fnmatchcase(str(target), pattern)
        and str(freeze.get("from", "")) <= now < str(freeze.get("until", ""))
    ]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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
