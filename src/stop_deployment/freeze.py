"""Deployment freezes: what freezes a deployment group now, and the freezes people set and lift.

A group is frozen while
- an alarm that guards it is in ALARM: alarms named with ALARM_NAME_PREFIX, "guards" as the alarm
  fan-out decides (ALARM_TARGETS, the targets tag, discovery); one DescribeAlarms call;
- a Change Calendar that FREEZE_CALENDARS names for it is CLOSED; one GetCalendarState call;
- a freeze kept in the ledger covers it (one GetItem): set by a person (HTTP, Slack) or left behind
  by an alarm for ALARM_FREEZE_MINUTES after it stopped deployments. A kept freeze always ends.

enforcement.py stops what runs in a frozen group.
"""

import functools
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from . import alarm_targets, cloudwatch, ledger, notices, notify, settings
from .clients import CONFIG, error_code, long_lived
from .errors import (
    DeploymentGroupNotAllowed,
    FreezeCheckFailed,
    FreezeNotFound,
    FreezesNotConfigured,
    FreezeStoreUnavailable,
)
from .observability import count, logger
from .target import HOME, Target

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

_T = TypeVar("_T")


@dataclass(frozen=True)
class Freeze:
    source: str  # alarm, calendar, freeze (kept in the ledger), or error (FREEZE_ON_ERROR=stop)
    name: str  # the alarm's name, the calendars' names, the kept freeze's pattern
    reason: str  # for people
    target: str  # the group or glob it covers (application/group)
    until: str | None = None  # kept freezes: when they end, and when and by whom they were set
    since: str | None = None
    by: str | None = None

    def __str__(self) -> str:
        return f"{self.source} {self.name}"

    @property
    def explained(self) -> str:
        """The freeze in a sentence, for notifications and the ledger."""
        if self.by is None:
            return self.reason
        return f"{self.by} froze {self.target} until {self.until}: {self.reason}"

    def covers(self, target: Target) -> bool:
        return settings.covers(self.target, target)

    def listed(self) -> dict[str, str]:
        """The freeze as GET /freezes and Slack show it."""
        return {key: value for key, value in asdict(self).items() if value is not None}


@functools.cache
def ssm() -> "SSMClient":
    return long_lived(boto3.client("ssm", config=CONFIG))


def freezes_on(target: Target) -> list[Freeze]:
    """Every freeze on the group now; raises FreezeCheckFailed when a source could not be read and
    none of the others freezes it (a freeze found elsewhere is enough to act)."""
    calendars = sorted(
        {
            name
            for pattern, names in settings.get().freeze_calendars
            if settings.covers(pattern, target)
            for name in names
        }
    )
    found, failures = _gather(
        (
            functools.partial(_alarm_freezes, target),
            functools.partial(_calendar_freezes, str(target), tuple(calendars)),
            _kept_freezes,
        )
    )
    found = [freeze for freeze in found if freeze.covers(target)]
    if failures and not found:
        raise failures[0]
    return found


def freezes_now(alarms: bool = True) -> tuple[list[Freeze], list[FreezeCheckFailed]]:
    """Every freeze in force (alarms' only when `alarms`), and the sources that could not be read:
    one GetCalendarState call per FREEZE_CALENDARS entry, so that each freeze names its calendars."""
    sources: list[Callable[[], list[Freeze]]] = [_kept_freezes]
    sources += [functools.partial(_calendar_freezes, p, n) for p, n in settings.get().freeze_calendars]
    return _gather([_alarm_freezes, *sources] if alarms else sources)


def listing() -> tuple[list[dict[str, str]], list[str]]:
    """Every freeze in force as GET /freezes and Slack's `freezes` show it, and what could not be read."""
    found, failures = freezes_now()
    return [freeze.listed() for freeze in found], [str(failure) for failure in failures]


def _gather(sources: Iterable[Callable[[], list[Freeze]]]) -> tuple[list[Freeze], list[FreezeCheckFailed]]:
    found: list[Freeze] = []
    failures: list[FreezeCheckFailed] = []
    for source in sources:
        try:
            found += source()
        except FreezeCheckFailed as exc:
            failures.append(exc)
    return found, failures


def _alarm_freezes(target: Target | None = None) -> list[Freeze]:
    """One freeze per alarm in ALARM and group it guards (`target` only, when given). An alarm whose
    tags cannot be read might guard any group: unless another alarm freezes one, that is a check that
    could not complete (FREEZE_ON_ERROR)."""
    prefix = settings.get().alarm_name_prefix
    if prefix is None:
        return []
    found, unreadable = [], []
    for alarm in cloudwatch.alarms_in_alarm(prefix):
        tags = cloudwatch.alarm_tags(alarm["arn"]) if alarm["arn"] else {}
        if tags is None:
            unreadable.append(alarm["name"])
            continue
        reason = f"alarm {alarm['name']} is in ALARM: {alarm['reason']}".rstrip(": ")
        for guarded in alarm_targets.guarded_by(alarm["name"], alarm["arn"] or None, tags):
            if target in (None, guarded):
                found.append(Freeze("alarm", alarm["name"], reason, str(guarded)))
    if unreadable and not found:
        raise FreezeCheckFailed(f"the tags of alarm(s) {', '.join(unreadable)} in ALARM could not be read")
    return found


def _calendar_freezes(target: str, names: tuple[str, ...]) -> list[Freeze]:
    """A freeze on `target` when one of the Change Calendars `names` is CLOSED (one call for all)."""
    if not names:
        return []
    try:
        state = ssm().get_calendar_state(CalendarNames=list(names))["State"]
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
    return [Freeze("calendar", ", ".join(names), closed, target)]


def _kept_freezes() -> list[Freeze]:
    if settings.get().stops_table is None:
        return []
    try:
        kept = ledger.freezes()
    except (ClientError, BotoCoreError) as exc:
        raise FreezeCheckFailed(f"the freezes in the ledger could not be read ({error_code(exc)})") from exc
    now = iso(datetime.now(UTC))
    return [
        _kept(pattern, freeze)
        for pattern, freeze in sorted(kept.items())
        if str(freeze.get("from", "")) <= now < str(freeze.get("until", ""))
    ]


def _kept(pattern: str, freeze: ledger.Item) -> Freeze:
    return Freeze(
        "freeze",
        pattern,
        str(freeze.get("reason", "")),
        pattern,
        until=str(freeze.get("until", "")),
        since=str(freeze.get("from", "")),
        by=str(freeze.get("by", "someone")),
    )


def set_freeze(pattern: str, until: datetime, reason: str, by: str) -> Freeze:
    """Freeze `pattern` (application/group or a group's ARN, globs allowed in the names) from now until
    `until`, replacing any freeze kept on the same pattern, and announce it. Its account and region
    must be where the function may act, and a group without globs one the allowlist admits: a freeze
    elsewhere would stop nothing."""
    glob = Target.parse(pattern, globs=True)
    if glob is not None and glob.place != HOME:
        from . import accounts

        accounts.check_allowed(glob.place)
    target = Target.parse(pattern)
    if target is not None and not settings.get().allows(target):
        raise DeploymentGroupNotAllowed(
            f"{target} is not in ALLOWED_DEPLOYMENT_GROUPS, so a freeze there would stop nothing"
        )
    now = datetime.now(UTC)
    freeze = {"from": iso(now), "until": iso(until), "reason": reason, "by": by}
    _write(lambda: ledger.set_freeze(pattern, freeze))
    try:  # freezes that ended over a day ago: a person's freeze is a good moment to tidy up
        ledger.prune_freezes(iso(now - timedelta(days=1)))
    except (ClientError, BotoCoreError) as exc:
        logger.warning("Could not prune ended freezes", extra={"awsErrorCode": error_code(exc)})
    kept = _kept(pattern, freeze)
    logger.info("Freeze set", extra={"target": pattern, "until": kept.until, "by": by})
    notify.publish(notices.frozen(kept))
    return kept


def lift_freeze(pattern: str, by: str) -> Freeze:
    """Lift the freeze kept on exactly `pattern` and announce it; FreezeNotFound when there is none."""
    lifted = _write(lambda: ledger.lift_freeze(pattern))
    if lifted is None:
        raise FreezeNotFound(f"No freeze is set on {pattern}")
    kept = _kept(pattern, lifted)
    logger.info("Freeze lifted", extra={"target": pattern, "by": by})
    notify.publish(notices.unfrozen(kept, by))
    return kept


def _write(write: Callable[[], _T]) -> _T:
    if settings.get().stops_table is None:
        raise FreezesNotConfigured("Freezes are kept in the ledger table, and STOPS_TABLE is not set")
    try:
        return write()
    except (ClientError, BotoCoreError) as exc:
        logger.error(
            "Could not write the freeze", extra={"awsErrorCode": error_code(exc), "detail": str(exc)}
        )
        raise FreezeStoreUnavailable(
            f"The freezes could not be written ({error_code(exc)}); nothing was changed"
        ) from exc


def freeze_after_alarm(alarm_name: str, targets: list[Target]) -> None:
    """ALARM_FREEZE_MINUTES after an alarm stopped deployments: freeze the groups it guards, so that a
    retry right after the incident is stopped even if the alarm flaps back to OK. Never raises: the
    stops are done, and a freeze that cannot be written is logged and counted."""
    config = settings.get()
    if not config.alarm_freeze_minutes or config.stops_table is None:
        return
    now = datetime.now(UTC)
    freeze = {
        "from": iso(now),
        "until": iso(now + timedelta(minutes=config.alarm_freeze_minutes)),
        "reason": f"alarm {alarm_name} stopped deployments here",
        "by": f"alarm {alarm_name}",
    }
    for target in targets:
        try:
            if not ledger.set_freeze(str(target), freeze, only_if_longer=True):
                logger.info("A longer freeze stands", extra={"target": str(target)})
                continue
        except (ClientError, BotoCoreError) as exc:
            logger.error(
                "Could not freeze after the alarm", extra={"target": str(target), "error": type(exc).__name__}
            )
            count("FreezeWritesFailed")
            continue
        logger.info("Frozen after the alarm", extra={"target": str(target), "until": freeze["until"]})


def iso(moment: datetime) -> str:
    """Whole seconds in UTC: kept freezes are read by people, and compared as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
