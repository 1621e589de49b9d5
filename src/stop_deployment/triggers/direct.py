"""Direct invocation with StopDeployment's request shape (Step Functions, scripts, other functions).

Failures raise the domain error itself: its class name is the `errorType` a state machine catches.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import service
from ..errors import DeploymentAlreadyCompleted, InvalidRequest
from ..observability import logger
from ..results import StopResult
from ..validation import parse_stop_request

STOP_REQUEST_DETAIL_TYPE = "Stop Deployment Request"


def handle(event: Any, context: LambdaContext) -> StopResult:
    logger.set_correlation_id(context.aws_request_id)
    deployment_id, auto_rollback = parse_stop_request(event)
    result = service.stop_deployment(deployment_id, auto_rollback, service.Caller("direct"))
    if result["outcome"] == "already_completed":
        raise DeploymentAlreadyCompleted(result["statusMessage"])
    return result


def handle_stop_request_event(event: dict[str, Any], context: LambdaContext) -> StopResult:
    """An EventBridge event whose detail is StopDeployment's request shape (a bus, a pipeline, a bot).

    Validated exactly like a direct invocation. A deployment that had already completed is a success:
    the event asked for it to be stopped and it is.
    """
    logger.set_correlation_id(str(event.get("id") or context.aws_request_id))
    if event.get("detail-type") != STOP_REQUEST_DETAIL_TYPE:
        raise InvalidRequest(
            f"unsupported EventBridge event {event.get('detail-type')!r}; this function handles "
            f"'CloudWatch Alarm State Change' and {STOP_REQUEST_DETAIL_TYPE!r}"
        )
    deployment_id, auto_rollback = parse_stop_request(event.get("detail"))
    requester = f"{event.get('source')} in account {event.get('account')}"
    return service.stop_deployment(deployment_id, auto_rollback, service.Caller("eventbridge", requester))
