"""Reads an alarm's tags from CloudWatch, for alarms whose event does not carry them.

Only the alarm trigger imports this module, so other ways in never build a CloudWatch client.
"""

import functools
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .clients import CONFIG, long_lived
from .observability import logger

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient


@functools.cache
def client() -> "CloudWatchClient":
    return long_lived(boto3.client("cloudwatch", config=CONFIG))


def alarm_tags(alarm_arn: str) -> dict[str, str] | None:
    """The alarm's tags, or None when they cannot be read (deleted alarm, another account's, no permission).

    A failed lookup is logged, not raised: the alarm's other target sources still apply.
    """
    try:
        tags = client().list_tags_for_resource(ResourceARN=alarm_arn).get("Tags", [])
    except (ClientError, BotoCoreError) as exc:
        code = (
            exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else type(exc).__name__
        )
        logger.warning(
            "Could not read the alarm's tags",
            extra={"alarmArn": alarm_arn, "awsErrorCode": code, "detail": str(exc)},
        )
        return None
    return {tag["Key"]: tag["Value"] for tag in tags}
