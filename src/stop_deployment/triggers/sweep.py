"""The scheduled sweep (an EventBridge "Scheduled Event"): follow up the stops no event confirmed."""

from typing import TYPE_CHECKING, Any

from .. import settings
from ..observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def recognise(event: Any) -> bool | None:
    return (
        isinstance(event, dict)
        and event.get("source") == "aws.events"
        and event.get("detail-type") == "Scheduled Event"
    ) or None


def handle(_: bool, event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    logger.set_correlation_id(str(event.get("id") or context.aws_request_id))
    if settings.get().stops_table is None:
        logger.info("Sweep skipped: STOPS_TABLE is not set, so there is no ledger to follow")
        return {"outcome": "ignored", "checked": 0, "counts": {}}
    from .. import followup  # loaded only by the ways in that follow up (cold start)

    return followup.sweep(context.get_remaining_time_in_millis)
