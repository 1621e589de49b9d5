"""EventBridge events whose detail is StopDeployment's request shape (`detail-type` "Stop Deployment
Request"): a bus, a pipeline or a bot asks for one deployment to be stopped.

Validated exactly like a direct invocation. A deployment that had already completed is a success:
the event asked for it to be stopped and it is.
"""

from typing import TYPE_CHECKING, Any

from .. import service
from ..errors import InvalidRequest
from ..observability import logger
from ..results import StopResult
from ..validation import parse_stop_request

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

DETAIL_TYPE = "Stop Deployment Request"


def recognise(event: Any) -> bool | None:
    """Any EventBridge event the alarm way in did not claim: one of another type is refused here."""
    return (isinstance(event, dict) and "detail-type" in event) or None


def handle(_: bool, event: dict[str, Any], context: "LambdaContext") -> StopResult:
    logger.set_correlation_id(str(event.get("id") or context.aws_request_id))
    if event["detail-type"] != DETAIL_TYPE:
        raise InvalidRequest(
            f"unsupported EventBridge event {event['detail-type']!r}; this function handles "
            f"'CloudWatch Alarm State Change', {DETAIL_TYPE!r}, CodeDeploy's 'CodeDeploy Deployment "
            "State-change Notification' and 'Scheduled Event' (the sweep)"
        )
    deployment_id, auto_rollback, place = parse_stop_request(event.get("detail"), "the event's detail")
    requester = f"{event.get('source')} in account {event.get('account')}"
    caller = service.Caller("eventbridge", requester)
    return service.stop_deployment(deployment_id, auto_rollback, caller, place=place)
