"""Direct invocation with StopDeployment's request shape (Step Functions, scripts, other functions).

Failures raise the domain error itself: its class name is the `errorType` a state machine catches.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import service
from ..errors import DeploymentAlreadyCompleted
from ..observability import logger
from ..results import StopResult
from ..validation import parse_stop_request


def handle(event: Any, context: LambdaContext) -> StopResult:
    logger.set_correlation_id(context.aws_request_id)
    deployment_id, auto_rollback = parse_stop_request(event)
    result = service.stop_deployment(deployment_id, auto_rollback, service.Caller("direct"))
    if result["outcome"] == "already_completed":
        raise DeploymentAlreadyCompleted(result["statusMessage"])
    return result
