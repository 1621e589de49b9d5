"""Which deployment groups an alarm guards: configuration, the alarm's tags, discovery."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatchcase

from . import codedeploy, settings
from .clients import MAX_PARALLEL_CALLS
from .errors import StopDeploymentError
from .observability import logger
from .target import Target

DISCOVERY_TTL_SECONDS = 60

_discovery_lock = threading.Lock()
_discovered: tuple[float, dict[str, list[Target]]] | None = None


def guarded_by(
    alarm_name: str, alarm_arn: str | None, event_tags: dict[str, str] | None
) -> dict[Target, list[str]]:
    """Target -> the sources that named it ("config", "tags", "discovery"), in a stable order.

    `event_tags` are the tags the event carried (tag propagation); without them the alarm's tags are
    looked up. A source that cannot be read is logged and the others still apply.
    """
    config = settings.get()
    found: dict[Target, list[str]] = {}

    def add(target: Target, source: str) -> None:
        sources = found.setdefault(target, [])
        if source not in sources:
            sources.append(source)

    for pattern, targets in config.alarm_targets:
        if fnmatchcase(alarm_name, pattern):
            for configured in targets:
                add(configured, "config")

    tags = event_tags if event_tags is not None else _looked_up_tags(alarm_arn)
    for name in (tags or {}).get(config.alarm_targets_tag_key, "").split():
        if tagged := Target.parse(name):
            add(tagged, "tags")
        else:
            logger.warning(
                "Ignoring a tag target that is not application/group",
                extra={"alarmName": alarm_name, "tagKey": config.alarm_targets_tag_key, "value": name},
            )

    if config.discover_alarm_targets:
        for discovered in _alarm_index().get(alarm_name, []):
            add(discovered, "discovery")
    return found


def _looked_up_tags(alarm_arn: str | None) -> dict[str, str] | None:
    if not alarm_arn:
        return None
    from . import cloudwatch  # only when the event did not carry the tags: a client costs cold start

    return cloudwatch.alarm_tags(alarm_arn)


def _alarm_index() -> dict[str, list[Target]]:
    """Every group's alarm configuration, cached across warm invocations for DISCOVERY_TTL_SECONDS."""
    global _discovered
    with _discovery_lock:
        if _discovered is None or time.monotonic() - _discovered[0] > DISCOVERY_TTL_SECONDS:
            try:
                _discovered = (time.monotonic(), _read_alarm_index())
            except StopDeploymentError as exc:
                logger.warning("Alarm target discovery failed", extra={"error": type(exc).__name__})
                return _discovered[1] if _discovered else {}
        return _discovered[1]


def _read_alarm_index() -> dict[str, list[Target]]:
    """Every application's groups, read in parallel: a cold discovery is three calls in a row."""
    index: dict[str, list[Target]] = {}
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_CALLS) as pool:
        for found in pool.map(codedeploy.groups_by_alarm, codedeploy.applications()):
            for alarm, targets in found.items():
                index.setdefault(alarm, []).extend(targets)
    return index


def forget_discovered() -> None:
    """Drop the discovery cache (tests, and anyone who just changed a group's alarms)."""
    global _discovered
    with _discovery_lock:
        _discovered = None
