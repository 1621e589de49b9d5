"""Reads CloudWatch: an alarm's tags, for alarms whose event does not carry them; the alarms in ALARM,
for freezes.

Only the alarm and freeze paths import this module, so other ways in never build a CloudWatch client.
"""

import functools
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .clients import CONFIG, error_code, long_lived
from .errors import FreezeCheckFailed, StopDeploymentError
from .observability import logger
from .target import HOME, Place

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient


@functools.cache
def client() -> "CloudWatchClient":
    return long_lived(boto3.client("cloudwatch", config=CONFIG))


def alarm_tags(alarm_arn: str, place: Place = HOME, requester: str | None = None) -> dict[str, str] | None:
    """The alarm's tags, read in its account and region (`place`, through the member role there when
    not the function's own), or None when they cannot be read (deleted alarm, no permission, an
    account not allowed or unreachable).

    A failed lookup is logged, not raised: the alarm's other target sources still apply.
    """
    try:
        if place == HOME:
            reader = client()
        else:
            from . import accounts  # another account's alarm

            reader = accounts.client("cloudwatch", place, requester)
        tags = reader.list_tags_for_resource(ResourceARN=alarm_arn).get("Tags", [])
    except (ClientError, BotoCoreError, StopDeploymentError) as exc:  # the last: its account not reached
        logger.warning(
            "Could not read the alarm's tags",
            extra={"alarmArn": alarm_arn, "awsErrorCode": error_code(exc), "detail": str(exc)},
        )
        return None
    return {tag["Key"]: tag["Value"] for tag in tags}


def alarms_in_alarm(prefix: str) -> list[dict[str, str]]:
    """Name, ARN and state reason of every metric and composite alarm in ALARM whose name starts with
    `prefix`: one DescribeAlarms call (a page holds 100; more pages only if that many are firing).

    Raises FreezeCheckFailed when CloudWatch cannot say.
    """
    found: list[dict[str, str]] = []
    try:
        pages = (
            client()
            .get_paginator("describe_alarms")
            .paginate(
                AlarmNamePrefix=prefix, StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
            )
        )
        for page in pages:
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                found.append(
                    {
                        "name": alarm.get("AlarmName", ""),
                        "arn": alarm.get("AlarmArn", ""),
                        "reason": alarm.get("StateReason", ""),
                    }
                )
    except (ClientError, BotoCoreError) as exc:
        raise FreezeCheckFailed(f"CloudWatch could not list the alarms in ALARM ({error_code(exc)})") from exc
    return found
