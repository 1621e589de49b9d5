"""The schedules: follow up the stops no event confirmed (EventBridge's own "Scheduled Event", on the
follow-up function), and stop what runs in frozen groups (`{"sweep": "freezes"}`, the input of the
stop function's schedule: CodeDeploy's START events are best effort)."""

from typing import TYPE_CHECKING, Any, Literal

from .. import settings
from ..observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

Sweep = Literal["follow-ups", "freezes"]
FREEZE_SWEEP = {"sweep": "freezes"}


def recognise(event: Any) -> Sweep | None:
    if event == FREEZE_SWEEP:
        return "freezes"
    scheduled = (
        isinstance(event, dict)
        and event.get("source") == "aws.events"
        and event.get("detail-type") == "Scheduled Event"
    )
    return "follow-ups" if scheduled else None


def handle(sweep: Sweep, event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    logger.set_correlation_id(str(event.get("id") or context.aws_request_id))
    if sweep == "freezes":
        from .. import enforcement  # loaded only by the ways in that enforce freezes (cold start)

        return enforcement.sweep()
    if settings.get().stops_table is None:
        logger.info("Sweep skipped: STOPS_TABLE is not set, so there is no ledger to follow")
        return {"outcome": "ignored", "checked": 0, "counts": {}}
    from .. import followup  # loaded only by the ways in that follow up (cold start)

    return followup.sweep(context.get_remaining_time_in_millis)
