"""Close the loop: after the stops, record them and say so; then follow each one to its end.

- `after_invocation` runs once the way in is done (the stops were sent first), before the function
  returns: it writes one ledger item per stop requested and publishes one notification for everything
  the invocation stopped, refused or failed to stop. A repeated delivery finds its stops in the ledger
  and does not announce them again.
- `follow` checks one deployment of the ledger against CodeDeploy and reports what is new, exactly once
  per state (conditional updates): the stop landed (with the rollback CodeDeploy started), it came too
  late, the rollback succeeded or failed. CodeDeploy state-change events call it, and so does `sweep`,
  on a schedule, for what no event confirmed (EventBridge delivers them on a best-effort basis).

Nothing here may undo or hide a stop: a ledger or SNS failure is logged and counted, never raised.
"""

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import codedeploy, ledger, notices, notify, settings
from .clients import MAX_PARALLEL_CALLS
from .errors import AccessDenied, DeploymentNotFound, StopDeploymentError
from .observability import count, logger
from .results import DeploymentStatus
from .service import Caller, take_touched
from .target import HOME, Place

# Slack accepts up to 5 posts to a command's response_url, for 30 minutes; the follow-ups leave one
# for the command's own result (posted there when its work was handed over, or the prompt's outcome).
SLACK_REPLY_WINDOW = timedelta(minutes=30)
SLACK_POSTS_PER_COMMAND = 5 - 1
# How long a stopped deployment may show no rollbackInfo before "no rollback started" is reported.
ROLLBACK_GRACE = timedelta(minutes=10)
# The sweep leaves what it has not reached to the next one when the invocation has this little left.
SWEEP_RESERVE_MS = 30_000
_AWS_ERRORS = (ClientError, BotoCoreError)
_ANNOUNCED = ("stop_requested", "refused", "failed")
_ENDED = ("Succeeded", "Failed", "Stopped")
# What a rollback's item inherits from its stop's: who, why, where, and where to reply.
_INHERITED = (
    "trigger",
    "requester",
    "reason",
    "details",
    "applicationName",
    "deploymentGroupName",
    "accountId",  # a rollback runs where its stopped deployment ran
    "region",
    "threadId",
    "replyUrl",
    "replyUntil",
)


def after_invocation(invocation_id: str) -> None:
    """Record and announce what this invocation touched (nothing touched: nothing to do)."""
    touched = take_touched()
    config = settings.get()
    if not touched or (config.stops_table is None and config.notify_topic_arn is None):
        return
    try:
        _record_and_announce(touched[0][0], [fields for _, fields in touched], invocation_id)
    except Exception:  # the stops are done: whatever goes wrong here must not turn them into an error
        logger.exception("Could not record or announce the stops")
        count("NotificationsFailed")


def follow(deployment_id: str, via: str) -> str:
    """Report what is new about a deployment of the ledger; returns what was found, for the log.

    Raises StopDeploymentError (e.g. Throttled) or a DynamoDB error when that cannot be known now.
    """
    item = ledger.get(deployment_id)
    if item is None:
        outcome = "not_ours"
    elif "settledAt" in item:
        outcome = "already_reported"
    else:
        try:
            status = codedeploy.get(deployment_id, _place(item), item.get("requester"))
        except (DeploymentNotFound, AccessDenied) as exc:
            outcome = _unreadable(item, exc)
        else:
            ended = _rollback_ended if item["kind"] == "rollback" else _stop_landed
            outcome = ended(item, status)
    log = logger.debug if outcome == "not_ours" else logger.info
    log("deployment follow-up", extra={"deploymentId": deployment_id, "outcome": outcome, "via": via})
    return outcome


def follow_or_defer(deployment_id: str, via: str) -> str:
    """`follow`, with CodeDeploy or DynamoDB trouble logged, counted and left to the next sweep."""
    try:
        return follow(deployment_id, via)
    except (StopDeploymentError, *_AWS_ERRORS) as exc:
        logger.warning(
            "Follow-up deferred to the next sweep",
            extra={"deploymentId": deployment_id, "via": via, "error": type(exc).__name__},
        )
        count("FollowUpsDeferred")
        return "deferred"


def sweep(remaining_ms: Callable[[], int]) -> dict[str, Any]:
    """Follow every ledger item still unsettled CONFIRM_AFTER_SECONDS after it was recorded.

    Stops early, leaving the rest to the next sweep, when a follow-up is deferred (CodeDeploy or
    DynamoDB is struggling: more calls would not help) or the invocation's time runs short.
    """
    cutoff = _now() - timedelta(seconds=settings.get().confirm_after_seconds)
    items = ledger.unsettled(_iso(cutoff))
    counts: Counter[str] = Counter()
    for done, item in enumerate(items):
        if remaining_ms() < SWEEP_RESERVE_MS or counts["deferred"]:
            counts["left_for_next_sweep"] = len(items) - done
            break
        counts[follow_or_defer(item["deploymentId"], "sweep")] += 1
    logger.info("sweep done", extra={"checked": len(items), "counts": dict(counts)})
    return {"outcome": "swept", "checked": len(items), "counts": dict(counts)}


# --- after the stops ------------------------------------------------------------------------------------


def _record_and_announce(caller: Caller, entries: list[dict[str, Any]], invocation_id: str) -> None:
    who = _caller_fields(caller)
    stops = [e for e in entries if e["outcome"] == "stop_requested" and "deploymentId" in e]
    repeats: set[str] = set()
    if settings.get().stops_table is not None and stops:
        ledger.client()  # built once, here: the pool's threads would each build one
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CALLS, len(stops))) as pool:
            list(pool.map(_fill_group, [e for e in stops if "applicationName" not in e]))
            items = [_stop_item(e, who, caller.reply_url, invocation_id) for e in stops]
            added = zip(items, pool.map(_add, items), strict=True)
            repeats = {item["deploymentId"] for item, new in added if not new}
    if repeats:
        logger.info(
            "Stops already in the ledger: not announced again", extra={"deployments": sorted(repeats)}
        )
    # A refusal or a failure is told every time: a retry that fails again is news.
    news = [e for e in entries if e["outcome"] in _ANNOUNCED and e.get("deploymentId") not in repeats]
    if news:
        followed = settings.get().stops_table is not None
        notify.publish(notices.stops(who, news, invocation_id, followed))


def _caller_fields(caller: Caller) -> dict[str, Any]:
    return {
        "trigger": caller.trigger,
        "requester": caller.requester,
        "reason": caller.reason,
        "details": dict(caller.details),
    }


def _fill_group(entry: dict[str, Any]) -> None:
    """Where a stopped deployment was, for the ledger and the message (a stop sent without a lookup)."""
    try:
        found = codedeploy.get(entry["deploymentId"], _place(entry), entry.get("requester"))
    except StopDeploymentError:
        return  # the message says "an unknown group"; the follow-up reads it again
    entry["applicationName"] = found["applicationName"]
    entry["deploymentGroupName"] = found["deploymentGroupName"]


def _stop_item(entry: dict[str, Any], who: dict[str, Any], reply_url: str | None, thread: str) -> ledger.Item:
    now = _now()
    return {
        **who,
        **_stamped(now),
        "deploymentId": entry["deploymentId"],
        "kind": "stop",
        "applicationName": entry.get("applicationName"),
        "deploymentGroupName": entry.get("deploymentGroupName"),
        **{key: entry[key] for key in ("accountId", "region") if key in entry},
        "autoRollbackEnabled": entry.get("autoRollbackEnabled"),
        "codedeployStatus": entry.get("status"),
        "codedeployMessage": entry.get("statusMessage"),
        "threadId": thread,
        "replyUrl": reply_url,
        "replyUntil": _iso(now + SLACK_REPLY_WINDOW) if reply_url else None,
    }


def _add(item: ledger.Item) -> bool:
    """ledger.add, except that a failed write counts as new: better announced than lost."""
    try:
        return ledger.add(item)
    except _AWS_ERRORS as exc:
        logger.error(
            "Could not record the stop in the ledger",
            extra={"deploymentId": item["deploymentId"], "error": type(exc).__name__},
        )
        count("LedgerWritesFailed")
        return True


# --- following a deployment -----------------------------------------------------------------------------


def _stop_landed(item: ledger.Item, status: DeploymentStatus) -> str:
    state = status["status"]
    rollback = status.get("rollbackInfo", {})
    if state not in _ENDED:
        return "pending"
    # A rollback may be due that CodeDeploy has not named yet: wait a little before "no rollback".
    rollback_due = state != "Succeeded" and item.get("autoRollbackEnabled") is not False
    if rollback_due and not rollback and _now() - _parse(item["recordedAt"]) < ROLLBACK_GRACE:
        return "pending"
    rollback_id = rollback.get("rollbackDeploymentId") if state != "Succeeded" else None
    if rollback_id:
        # Recorded before the stop is settled, so that a crash in between cannot lose the rollback.
        ledger.add(_rollback_item(item, rollback_id))
    outcome = "too_late" if state == "Succeeded" else "stopped"
    settled = {"settled": outcome, "settledAt": _iso(_now()), "deploymentStatus": state}
    if not ledger.settle(item["deploymentId"], {**settled, "rollbackDeploymentId": rollback_id}):
        return "already_reported"
    if outcome == "too_late":
        count("StopsTooLate")
        _tell(item, notices.too_late(item))
        return outcome
    count("StopsConfirmed")
    _tell(item, notices.stop_landed(item, state, rollback_id))
    if rollback_id:
        follow_or_defer(rollback_id, "stop")  # it may have ended already, its event come and gone
    return outcome


def _rollback_ended(item: ledger.Item, status: DeploymentStatus) -> str:
    state = status["status"]
    if state not in _ENDED:
        return "pending"
    outcome = "rollback_succeeded" if state == "Succeeded" else "rollback_failed"
    if not ledger.settle(
        item["deploymentId"], {"settled": outcome, "settledAt": _iso(_now()), "deploymentStatus": state}
    ):
        return "already_reported"
    if outcome == "rollback_failed":
        count("RollbacksFailed")
        logger.error("Rollback failed", extra={"deploymentId": item["deploymentId"], "status": state})
    _tell(item, notices.rollback_ended(item, state))
    return outcome


def _place(item: Mapping[str, Any]) -> Place:
    """Where a stop (or its rollback) ran: the ledger keeps accountId and region for other accounts."""
    return Place(item["accountId"], item["region"]) if "accountId" in item else HOME


def _unreadable(item: ledger.Item, exc: StopDeploymentError) -> str:
    """CodeDeploy will never say (no such deployment, or outside what the role may read): stop asking."""
    if not ledger.settle(item["deploymentId"], {"settled": "unreadable", "settledAt": _iso(_now())}):
        return "already_reported"
    logger.error(
        "Follow-up abandoned: CodeDeploy will not describe this deployment",
        extra={"deploymentId": item["deploymentId"], "error": type(exc).__name__},
    )
    count("FollowUpsAbandoned")
    return "unreadable"


def _rollback_item(stop: ledger.Item, rollback_id: str) -> ledger.Item:
    return {
        **{key: stop[key] for key in _INHERITED if key in stop},
        **_stamped(_now()),
        "deploymentId": rollback_id,
        "kind": "rollback",
        "stoppedDeploymentId": stop["deploymentId"],
    }


def _tell(item: ledger.Item, notification: notify.Notification) -> None:
    """Publish to the topic and, while Slack still accepts it, post in the command's conversation."""
    notify.publish(notification)
    url = item.get("replyUrl")
    if not url or _iso(_now()) >= str(item.get("replyUntil", "")):
        return
    # The last post is kept for a failed rollback, the news that must not be lost when a group stop
    # has many deployments to report.
    loud = notification.event_type == "RollbackFailed"
    limit = SLACK_POSTS_PER_COMMAND if loud else SLACK_POSTS_PER_COMMAND - 1
    key = "slack-reply#" + hashlib.sha256(url.encode()).hexdigest()  # the URL itself is a credential
    try:
        allowed = ledger.take_slot(key, limit, int(_parse(str(item["replyUntil"])).timestamp()))
    except _AWS_ERRORS as exc:
        logger.error("Could not count the Slack posts", extra={"error": type(exc).__name__})
        count("SlackRepliesFailed")
        return
    if not allowed:
        logger.warning(
            "Slack's posts for this command are used; the topic has the follow-up",
            extra={"deploymentId": item["deploymentId"], "eventType": notification.event_type},
        )
        return
    notify.reply_in_slack(url, f"{notification.title}\n{notification.description}", notification)


def _stamped(now: datetime) -> ledger.Item:
    """When an item was recorded, and when DynamoDB may let it go (TTL)."""
    return {"recordedAt": _iso(now), "expiresAt": int(now.timestamp()) + ledger.EXPIRES_AFTER_SECONDS}


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
