"""The Lambda entry point: recognise the event and hand it to its way in.

Each way in is imported on first use, so a direct invocation never loads the HTTP resolver and
pydantic: cold start is part of a kill switch's reaction time.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from . import settings
from .observability import logger, metrics


def _is_http(event: Any) -> bool:
    # REST v1 carries httpMethod; HTTP API v2 and Function URLs carry requestContext.http.
    return (
        isinstance(event, dict)
        and isinstance(event.get("requestContext"), dict)
        and ("httpMethod" in event or "http" in event["requestContext"])
    )


@metrics.log_metrics(raise_on_empty_metrics=False)
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: LambdaContext) -> Any:
    if _is_http(event):
        from .triggers import http

        return http.handle(event, context)
    from .triggers import direct

    return direct.handle(event, context)


# Tracing is opt-in: when off, the X-Ray SDK is never imported.
if settings.get().tracing:
    from aws_lambda_powertools import Tracer

    lambda_handler = Tracer().capture_lambda_handler(lambda_handler)
