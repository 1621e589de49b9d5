"""The Lambda entry point: recognise the event and hand it to its way in.

WAYS_IN is tried in order; the first way in whose `recognise` returns something handles the event,
and gets what was recognised (the HTTP event's kind, the alarm event's parser) so that nothing is
detected twice. Each trigger module is small and cheap to import; what a way in costs beyond the
shared core (Slack's secret provider, a CloudWatch client, discovery) is loaded only when it runs:
cold start is part of a kill switch's reaction time.
"""

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import accounts, settings
from .observability import logger, metrics
from .triggers import alarm, deferred, deployment_event, direct, http, stop_request, sweep

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

WAYS_IN: tuple[tuple[Callable[[Any], Any], Callable[[Any, Any, "LambdaContext"], Any]], ...] = (
    (http.recognise, http.handle),  # API Gateway REST and HTTP APIs, Function URLs (JSON API and Slack)
    (alarm.recognise, alarm.handle),  # EventBridge alarm state changes, alarm actions, SNS
    (deployment_event.recognise, deployment_event.handle),  # CodeDeploy state changes: freezes, follow-ups
    (sweep.recognise, sweep.handle),  # the schedules: follow-ups no event brought, frozen groups
    (deferred.recognise, deferred.handle),  # Slack work the Slack routes handed over (deferral.py)
    (stop_request.recognise, stop_request.handle),  # EventBridge "Stop Deployment Request"
    (direct.recognise, direct.handle),  # anything else: StopDeployment's own request shape
)


@metrics.log_metrics(raise_on_empty_metrics=False)
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: "LambdaContext") -> Any:
    accounts.learn_home(context.invoked_function_arn)
    for recognise, handle in WAYS_IN:
        if (found := recognise(event)) is not None:
            try:
                return handle(found, event, context)
            finally:
                # Once the stops were sent, even when the way in raised; imported only now, so that
                # the ledger and SNS code costs the stop nothing at cold start.
                from . import followup

                followup.after_invocation(context.aws_request_id)
    raise AssertionError("direct.recognise accepts every event")  # pragma: no cover


_config = settings.get()
if _config.stops_table is None:
    logger.info("STOPS_TABLE is not set: stops are not recorded and not followed up")
if _config.notify_topic_arn is None:
    logger.info("NOTIFY_TOPIC_ARN is not set: no notifications are sent")

# Tracing is opt-in: when off, the X-Ray SDK is never imported.
if _config.tracing:
    from aws_lambda_powertools import Tracer

    lambda_handler = Tracer().capture_lambda_handler(lambda_handler)

# What the imports built lives as long as the process: take it out of the collector's sight, so that
# the collections set off while botocore parses a service model (the first client, on the first
# invocation) do not scan it again and again. Measured: the first client is built about 30% faster.
gc.freeze()
