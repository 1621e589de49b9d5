"""Which deployment groups an alarm guards: configuration, the alarm's tags, discovery."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatchcase

from . import codedeploy, settings
from .clients import MAX_PARALLEL_CALLS
from .errors import StopDeploymentError
from .observability import logger
from .target import HOME, Place, Target

DISCOVERY_TTL_SECONDS = 60

_discovery_lock = threading.Lock()
# Where -> (when read, alarm name -> the groups whose alarmConfiguration lists it).
_discovered: dict[Place, tuple[float, dict[str, list[Target]]]] = {}


def guarded_by(
    alarm_name: str,
    alarm_arn: str | None,
    event_tags: dict[str, str] | None,
    place: Place = HOME,
    requester: str | None = None,
) -> dict[Target, list[str]]:
    """Target -> the sources that named it ("config", "tags", "discovery"), in a stable order.

    `event_tags` are the tags the event carried (tag propagation); without them the alarm's tags are
    looked up. A source that cannot be read is logged and the others still apply. `place` is where the
    alarm is: a group named `application/group` is that account and region's (an ARN names its own),
    and the tags and discovery are read there, as `requester`.
    """
    config = settings.get()
    found: dict[Target, list[str]] = {}

    def add(target: Target, source: str) -> None:
        sources = found.setdefault(target.at(place), [])
        if source not in sources:
            sources.append(source)

    for pattern, targets in config.alarm_targets:
        if fnmatchcase(alarm_name, pattern):
            for configured in targets:
                add(configured, "config")

    tags = event_tags if event_tags is not None else _looked_up_tags(alarm_arn, place, requester)
    for name in (tags or {}).get(config.alarm_targets_tag_key, "").split():
        if tagged := Target.parse(name):
            add(tagged, "tags")
        else:
            logger.warning(
                "Ignoring a tag target that is neither application/group nor a deployment group ARN",
                extra={"alarmName": alarm_name, "tagKey": config.alarm_targets_tag_key, "value": name},
            )

    if config.discover_alarm_targets:
        for discovered in _alarm_index(place, requester).get(alarm_name, []):
            add(discovered, "discovery")
    return found


def _looked_up_tags(alarm_arn: str | None, place: Place, requester: str | None) -> dict[str, str] | None:
    if not alarm_arn:
        return None
    from . import cloudwatch  # only when the event did not carry the tags: a client costs cold start

    return cloudwatch.alarm_tags(alarm_arn, place, requester)


def _alarm_index(place: Place, requester: str | None) -> dict[str, list[Target]]:
    """Every group's alarm configuration in `place`, cached across warm invocations for
    DISCOVERY_TTL_SECONDS."""
    with _discovery_lock:
        cached = _discovered.get(place)
        if cached is None or time.monotonic() - cached[0] > DISCOVERY_TTL_SECONDS:
            try:
                _discovered[place] = cached = (time.monotonic(), _read_alarm_index(place, requester))
            except StopDeploymentError as exc:
                logger.warning(
                    "Alarm target discovery failed", extra={"error": type(exc).__name__, "where": str(place)}
                )
                return cached[1] if cached else {}
        return cached[1]


def _read_alarm_index(place: Place, requester: str | None) -> dict[str, list[Target]]:
    """Every application's groups, read in parallel: a cold discovery is three calls in a row."""
    index: dict[str, list[Target]] = {}
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_CALLS) as pool:
        names = codedeploy.applications(place, requester)
        for found in pool.map(lambda name: codedeploy.groups_by_alarm(name, place, requester), names):
            for alarm, targets in found.items():
                index.setdefault(alarm, []).extend(targets)
    return index


def forget_discovered() -> None:
    """Drop the discovery cache (tests, and anyone who just changed a group's alarms)."""
    with _discovery_lock:
        _discovered.clear()
