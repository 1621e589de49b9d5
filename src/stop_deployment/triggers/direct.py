"""Direct invocation with StopDeployment's request shape (Step Functions, scripts, other functions).

The way in for any event no other way in recognises. Failures raise the domain error itself: its
class name is the `errorType` a state machine catches.
"""

from typing import TYPE_CHECKING, Any

from .. import service
from ..observability import logger
from ..results import StopResult
from ..validation import parse_stop_request

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def recognise(event: Any) -> bool:
    """Every event is a direct request when nothing else claimed it: validation says what is wrong."""
    return True


def handle(_: bool, event: Any, context: "LambdaContext") -> StopResult:
    logger.set_correlation_id(context.aws_request_id)
    deployment_id, auto_rollback, place = parse_stop_request(event)
    result = service.stop_deployment(deployment_id, auto_rollback, service.Caller("direct"), place=place)
    return service.raise_if_already_completed(result)
