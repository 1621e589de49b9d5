"""CodeDeploy "Deployment State-change Notification" events: follow-ups for the deployments in the ledger.

STOP, SUCCESS and FAILURE of a deployment the function stopped (or of the rollback CodeDeploy started
for it) lead to `followup.follow`, which reads the deployment and reports what is new, once. Every other
event is ignored: this way in never stops anything. A follow-up that CodeDeploy or DynamoDB cannot
serve now is left to the sweep rather than failed (EventBridge's retry would only add noise).
"""

from typing import TYPE_CHECKING, Any

from .. import settings
from ..observability import logger
from ..validation import check

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

SOURCE = "aws.codedeploy"
DETAIL_TYPE = "CodeDeploy Deployment State-change Notification"
FOLLOWED_STATES = ("STOP", "SUCCESS", "FAILURE")
_TEXT = {"type": "string", "minLength": 1, "maxLength": 100}
# Only the fields this function reads are checked; CodeDeploy may add others.
SCHEMA = {
    "type": "object",
    "required": ["id", "detail"],
    "properties": {
        "id": {"type": "string"},
        "detail": {
            "type": "object",
            "required": ["deploymentId", "state"],
            "properties": {
                "deploymentId": {"type": "string", "pattern": "^d-[A-Z0-9]{9}$"},
                "state": {"enum": ["START", "SUCCESS", "FAILURE", "STOP", "READY"]},
                "application": _TEXT,
                "deploymentGroup": _TEXT,
            },
        },
    },
}


def recognise(event: Any) -> bool | None:
    return (
        isinstance(event, dict) and event.get("source") == SOURCE and event.get("detail-type") == DETAIL_TYPE
    ) or None


def handle(_: bool, event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    check("CodeDeploy state-change event", SCHEMA, event)
    logger.set_correlation_id(event["id"])
    deployment_id, state = event["detail"]["deploymentId"], event["detail"]["state"]
    result = {"deploymentId": deployment_id, "state": state}
    if state not in FOLLOWED_STATES or settings.get().stops_table is None:
        logger.debug("CodeDeploy event ignored", extra={**result, "outcome": "ignored"})
        return {**result, "outcome": "ignored"}
    from .. import followup  # loaded only by the ways in that follow up (cold start)

    return {**result, "outcome": followup.follow_or_defer(deployment_id, f"event {state}")}
