"""CodeDeploy "Deployment State-change Notification" events: freezes and follow-ups.

START: a deployment that starts in a frozen group is stopped at once (enforcement.enforce).
STOP, SUCCESS and FAILURE of a deployment the function stopped (or of the rollback CodeDeploy started
for it) lead to `followup.follow`, which reads the deployment and reports what is new, once. A
follow-up that CodeDeploy or DynamoDB cannot serve now is left to the sweep rather than failed
(EventBridge's retry would only add noise). Every other event is ignored.
"""

from typing import TYPE_CHECKING, Any

from .. import settings
from ..errors import AccountNotAllowed, InvalidRequest
from ..observability import logger
from ..target import HOME, Place, Target
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
        "account": {"type": "string"},
        "region": {"type": "string"},
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


def _where(event: dict[str, Any]) -> Place | None:
    """Where the deployment runs: HOME, an allowed account and region whose member accounts forward
    their events here (member-role.yaml), or None for anywhere else (a bus may forward others')."""
    account, region = event.get("account"), event.get("region")
    if account is None and region is None:
        return HOME
    from .. import accounts

    try:
        return accounts.check_allowed(Place(str(account or ""), str(region or "")))
    except AccountNotAllowed:
        return None


def recognise(event: Any) -> bool | None:
    return (
        isinstance(event, dict) and event.get("source") == SOURCE and event.get("detail-type") == DETAIL_TYPE
    ) or None


def handle(_: bool, event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    check("CodeDeploy state-change event", SCHEMA, event)
    logger.set_correlation_id(event["id"])
    detail = event["detail"]
    deployment_id, state = detail["deploymentId"], detail["state"]
    result = {"deploymentId": deployment_id, "state": state}
    if state == "START":
        place = _where(event)
        if place is None:
            logger.info("START event from an account or region not allowed: ignored", extra=result)
            return {**result, "outcome": "other_account"}
        named = Target.parse(f"{detail.get('application', '')}/{detail.get('deploymentGroup', '')}")
        if named is None:
            raise InvalidRequest("a START event must name its application and deploymentGroup")
        target = named.at(place)
        from .. import enforcement  # loaded only for START events (cold start of the other ways in)

        checked = {**result, **enforcement.enforce(deployment_id, target)}
        logger.info("deployment start checked for freezes", extra=checked)
        return checked
    if state not in FOLLOWED_STATES or settings.get().stops_table is None:
        logger.debug("CodeDeploy event ignored", extra={**result, "outcome": "ignored"})
        return {**result, "outcome": "ignored"}
    from .. import followup  # loaded only by the ways in that follow up (cold start)

    return {**result, "outcome": followup.follow_or_defer(deployment_id, f"event {state}")}
