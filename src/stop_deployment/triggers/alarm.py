"""CloudWatch alarms: EventBridge state-change events, an alarm's own Lambda action, SNS notifications.

Only a transition to ALARM acts: the function resolves the targets the alarm guards and stops every
deployment in flight there. OK and INSUFFICIENT_DATA are logged and ignored. When a stop failed for a
retryable reason the invocation raises after every target was attempted, so the asynchronous retry
re-drives it; stopping again is harmless and already-stopped deployments are no longer in flight.
"""

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import alarm_targets, service, settings
from ..errors import InvalidRequest, StopsIncomplete
from ..observability import logger
from ..target import ACCOUNT_PATTERN, HOME, REGION_PATTERN, Place
from ..validation import check

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

_STATES = ["ALARM", "OK", "INSUFFICIENT_DATA"]
_STATE = {
    "type": "object",
    "required": ["value"],
    "properties": {"value": {"enum": _STATES}, "reason": {"type": "string"}},
}
_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
_TAGS = {"type": "object", "additionalProperties": {"type": "string"}}
_ARN = {"type": "string", "pattern": "^arn:[^:]+:cloudwatch:"}
# An EventBridge event's detail and an alarm action's alarmData share these fields.
_ALARM_DATA = {
    "type": "object",
    "required": ["alarmName", "state"],
    "properties": {
        "alarmName": _NAME,
        "state": _STATE,
        "alarmTags": _TAGS,
        "alarmTagsStatus": {"type": "string"},
    },
}

# Only the fields this function reads are checked; CloudWatch may add others.
EVENTBRIDGE_SCHEMA = {
    "type": "object",
    "required": ["id", "detail"],
    "properties": {
        "id": {"type": "string"},
        "account": {"type": "string"},
        "region": {"type": "string"},
        "resources": {"type": "array", "items": {"type": "string"}},
        "detail": _ALARM_DATA,
    },
}
ALARM_ACTION_SCHEMA = {
    "type": "object",
    "required": ["alarmArn", "alarmData"],
    "properties": {
        "alarmArn": _ARN,
        "alarmData": _ALARM_DATA,
    },
}
SNS_SCHEMA = {
    "type": "object",
    "required": ["Records"],
    "properties": {
        "Records": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,  # SNS invokes Lambda with one record per message
            "items": {
                "type": "object",
                "required": ["Sns"],
                "properties": {
                    "Sns": {
                        "type": "object",
                        "required": ["Message", "MessageId"],
                        "properties": {"Message": {"type": "string"}, "MessageId": {"type": "string"}},
                    }
                },
            },
        }
    },
}
SNS_MESSAGE_SCHEMA = {
    "type": "object",
    "required": ["AlarmName", "NewStateValue"],
    "properties": {
        "AlarmName": _NAME,
        "NewStateValue": {"enum": _STATES},
        "NewStateReason": {"type": "string"},
        "AlarmArn": _ARN,
        "AlarmTags": _TAGS,
        "AlarmTagsStatus": {"type": "string"},
    },
}


@dataclass(frozen=True)
class Alarm:
    name: str
    arn: str | None
    state: str
    source: str  # eventbridge, alarm-action or sns
    tags: dict[str, str] | None  # as the event carried them; None: not carried (or incomplete)
    event_id: str | None
    reason: str | None  # CloudWatch's words for the state change, for people (notifications)
    # Where the alarm is: its ARN's account and region, else the EventBridge event's (an event
    # forwarded from a member account keeps its own); HOME when neither says.
    place: Place = HOME


def from_eventbridge(event: dict[str, Any]) -> Alarm:
    check("EventBridge alarm event", EVENTBRIDGE_SCHEMA, event)
    detail = event["detail"]
    arns = [r for r in event.get("resources", []) if ":alarm:" in r]
    return Alarm(
        detail["alarmName"],
        arns[0] if arns else None,
        detail["state"]["value"],
        "eventbridge",
        _carried_tags(detail.get("alarmTags"), detail.get("alarmTagsStatus")),
        event["id"],
        detail["state"].get("reason"),
        _place(arns[0] if arns else None, event.get("account"), event.get("region")),
    )


def from_alarm_action(event: dict[str, Any]) -> Alarm:
    check("alarm Lambda action event", ALARM_ACTION_SCHEMA, event)
    data = event["alarmData"]
    return Alarm(
        data["alarmName"],
        event["alarmArn"],
        data["state"]["value"],
        "alarm-action",
        _carried_tags(data.get("alarmTags"), data.get("alarmTagsStatus")),
        None,
        data["state"].get("reason"),
        _place(event["alarmArn"]),
    )


def from_sns(event: dict[str, Any]) -> Alarm:
    check("SNS event", SNS_SCHEMA, event)
    notification = event["Records"][0]["Sns"]
    try:
        message = json.loads(notification["Message"])
    except (ValueError, RecursionError):  # not JSON, or JSON nested too deeply to parse
        raise InvalidRequest("the SNS message is not a CloudWatch alarm notification (not JSON)") from None
    check("SNS alarm notification", SNS_MESSAGE_SCHEMA, message)
    return Alarm(
        message["AlarmName"],
        message.get("AlarmArn"),
        message["NewStateValue"],
        "sns",
        _carried_tags(message.get("AlarmTags"), message.get("AlarmTagsStatus")),
        notification["MessageId"],
        message.get("NewStateReason"),
        _place(message.get("AlarmArn")),
    )


Parser = Callable[[dict[str, Any]], Alarm]


def recognise(event: Any) -> Parser | None:
    """The parser for this alarm event's shape, or None when it is not an alarm event."""
    if not isinstance(event, dict):
        return None
    if event.get("detail-type") == "CloudWatch Alarm State Change":
        return from_eventbridge
    if "alarmData" in event:
        return from_alarm_action
    if "Records" in event:
        return from_sns
    return None


def handle(parse: Parser, event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    alarm = parse(event)
    logger.set_correlation_id(alarm.event_id or context.aws_request_id)
    summary: dict[str, Any] = {
        "alarm": {"name": alarm.name, "arn": alarm.arn, "state": alarm.state, "source": alarm.source}
    }
    if alarm.state != "ALARM":
        summary.update(outcome="ignored", targets=[], deployments=[], counts={})
        logger.info(
            "alarm ignored", extra={"alarmName": alarm.name, "state": alarm.state, "outcome": "ignored"}
        )
        return summary
    caller = service.Caller(
        "alarm",
        requester=alarm.arn or alarm.name,
        details={"alarmName": alarm.name, "alarmArn": alarm.arn or ""},
        reason=alarm.reason,
    )
    found = alarm_targets.guarded_by(alarm.name, alarm.arn, alarm.tags, alarm.place, caller.requester)
    reports, outcomes = service.stop_active_deployments(found, settings.get().alarm_auto_rollback, caller)
    counts = dict(Counter(outcome["outcome"] for outcome in outcomes))
    if not found:
        overall = "no_targets"
        logger.warning("No targets for this alarm", extra={"alarmName": alarm.name})
    else:
        overall = "stops_attempted" if outcomes else "nothing_in_flight"
    summary.update(outcome=overall, targets=reports, deployments=outcomes, counts=counts)
    logger.info(
        "alarm handled",
        extra={
            "alarmName": alarm.name,
            "alarmArn": alarm.arn,
            "outcome": overall,
            "counts": counts,
            "targets": [str(target) for target in found],
        },
    )
    if settings.get().alarm_freeze_minutes and counts.get("stop_requested"):
        from .. import freeze  # after the stops: the freeze costs them nothing

        freeze.freeze_after_alarm(alarm.name, [t for t in found if service.may_act(t)])
    retry = [o["deploymentId"] for o in outcomes if o.get("retryable")] + [
        r["target"] for r in reports if r.get("retryable")
    ]
    if retry:
        raise StopsIncomplete(
            f"Alarm {alarm.name}: {', '.join(retry)} could not be stopped or listed for a reason a retry "
            "may fix (throttling or CodeDeploy unavailable); every other target was handled"
        )
    return summary


def _place(alarm_arn: str | None, account: Any = None, region: Any = None) -> Place:
    """The alarm's account and region, from its ARN or else the event's fields; HOME when they are the
    function's own (or unknown). Not valid ones are ignored: the alarm is then taken as the function's."""
    parts = (alarm_arn or "").split(":")
    if len(parts) > 4 and parts[4]:
        region, account = parts[3], parts[4]
    if not (isinstance(account, str) and re.fullmatch(ACCOUNT_PATTERN, account)):
        return HOME
    if not (isinstance(region, str) and re.fullmatch(REGION_PATTERN, region)):
        region = ""
    from .. import accounts  # the alarm's account is compared with the function's own

    return accounts.located(Place(account, region))


def _carried_tags(tags: dict[str, str] | None, status: str | None) -> dict[str, str] | None:
    """The tags the event carried, when complete; otherwise None, so that they are looked up."""
    if tags is None or (status is not None and status != "SUCCESS"):
        return None
    return tags
