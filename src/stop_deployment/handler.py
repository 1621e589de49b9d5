"""The Lambda entry point: recognise the event and hand it to its way in.

Each way in is imported on first use, so a direct invocation never loads the HTTP resolver and
pydantic: cold start is part of a kill switch's reaction time.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from . import settings
from .observability import logger, metrics


def _is_http(event: dict[str, Any]) -> bool:
    # REST v1 carries httpMethod; HTTP API v2 and Function URLs carry requestContext.http.
    context = event.get("requestContext")
    return isinstance(context, dict) and ("httpMethod" in event or "http" in context)


def _is_slack(event: dict[str, Any]) -> bool:
    # The slash command has resolvers of its own (no pydantic), chosen by path before resolving.
    path = event.get("path") or event.get("rawPath")
    return isinstance(path, str) and path.rstrip("/").endswith("/slack/commands")


@metrics.log_metrics(raise_on_empty_metrics=False)
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: LambdaContext) -> Any:
    if isinstance(event, dict):
        if _is_http(event):
            if _is_slack(event):
                from .triggers import slack

                return slack.handle(event, context)
            from .triggers import http

            return http.handle(event, context)
        if event.get("detail-type") == "CloudWatch Alarm State Change":
            from .triggers import alarm

            return alarm.handle(alarm.from_eventbridge(event), context)
        if "alarmData" in event:
            from .triggers import alarm

            return alarm.handle(alarm.from_alarm_action(event), context)
        if "Records" in event:
            from .triggers import alarm

            return alarm.handle(alarm.from_sns(event), context)
        if "detail-type" in event:
            from .triggers import direct

            return direct.handle_stop_request_event(event, context)
    from .triggers import direct

    return direct.handle(event, context)


# Tracing is opt-in: when off, the X-Ray SDK is never imported.
if settings.get().tracing:
    from aws_lambda_powertools import Tracer

    lambda_handler = Tracer().capture_lambda_handler(lambda_handler)
