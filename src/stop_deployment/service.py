"""The use cases. No event or HTTP knowledge: callers pass plain values and get results or domain errors."""

import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from . import codedeploy, settings
from .errors import AccessDenied, DeploymentAlreadyCompleted, DeploymentGroupNotAllowed, StopDeploymentError
from .observability import logger, metrics
from .results import DeploymentStatus, Outcome, StopResult

_METRIC_BY_OUTCOME = {
    "stop_requested": "StopsRequested",
    "already_completed": "StopsAlreadyCompleted",
    "dry_run": "StopsDryRun",
    "refused": "StopsRefused",
    "failed": "StopsFailed",
}


@dataclass(frozen=True)
class Caller:
    """Who asked, for the audit log: the way in (direct, http, ...) and the requester when known."""

    trigger: str
    requester: str | None = None


def stop_deployment(deployment_id: str, auto_rollback: bool | None, caller: Caller) -> StopResult:
    """Stop one deployment, subject to the allowlist and dry run.

    `auto_rollback` None means the request did not say; DEFAULT_AUTO_ROLLBACK decides. A deployment
    that had already completed is a result (outcome already_completed), not an error: the goal is
    reached, and each way in decides how to report it.
    """
    config = settings.get()
    rollback = config.default_auto_rollback if auto_rollback is None else auto_rollback
    result: StopResult = {
        "deploymentId": deployment_id,
        "status": None,
        "statusMessage": "",
        "autoRollbackEnabled": rollback,
        "outcome": "stop_requested",
    }
    started = time.perf_counter()
    try:
        # StopDeployment cannot be scoped by IAM, so the allowlist is the real guard: look the
        # deployment up to learn its group. A dry run looks it up too, to show what would stop.
        if not config.allows_every_group or config.dry_run:
            found = _look_up(deployment_id, config.allows_every_group)
            result["applicationName"] = found["applicationName"]
            result["deploymentGroupName"] = found["deploymentGroupName"]
            if not config.allows(found["applicationName"], found["deploymentGroupName"]):
                raise DeploymentGroupNotAllowed(
                    f"Deployment {deployment_id} belongs to {found['applicationName']}/"
                    f"{found['deploymentGroupName']}, which ALLOWED_DEPLOYMENT_GROUPS does not include"
                )
            if config.dry_run:
                result["outcome"] = "dry_run"
                result["statusMessage"] = (
                    f"Dry run: StopDeployment was not called; the deployment is {found['status']}"
                )
                return _recorded(result, caller, started)
        try:
            result["status"], result["statusMessage"] = codedeploy.stop(deployment_id, rollback)
        except DeploymentAlreadyCompleted as exc:
            result["outcome"] = "already_completed"
            result["statusMessage"] = str(exc)
        return _recorded(result, caller, started)
    except StopDeploymentError as exc:
        outcome = "refused" if isinstance(exc, DeploymentGroupNotAllowed) else "failed"
        _record(outcome, dict(result, error=type(exc).__name__), caller, started)
        raise


def _look_up(deployment_id: str, allows_every_group: bool) -> DeploymentStatus:
    try:
        return codedeploy.get(deployment_id)
    except AccessDenied as exc:
        if allows_every_group:
            raise
        # The template scopes GetDeployment to the allowed groups, so a denied lookup means the
        # deployment is (most likely) outside them: a refusal, not an outage.
        raise DeploymentGroupNotAllowed(
            f"Deployment {deployment_id} could not be confirmed to belong to ALLOWED_DEPLOYMENT_GROUPS "
            "(the function's role may read only those groups)"
        ) from exc


def describe_deployment(deployment_id: str) -> DeploymentStatus:
    """Current status, application, group, creator and rollback information of one deployment."""
    return codedeploy.get(deployment_id)


def _recorded(result: StopResult, caller: Caller, started: float) -> StopResult:
    _record(result["outcome"], dict(result), caller, started)
    return result


def _record(outcome: Outcome | str, fields: dict[str, Any], caller: Caller, started: float) -> None:
    """One structured log line and one metric per deployment touched."""
    fields.update(
        outcome=outcome,
        trigger=caller.trigger,
        requester=caller.requester,
        codedeployMs=round((time.perf_counter() - started) * 1000, 1),
    )
    logger.info("deployment stop", extra=fields)
    metrics.add_dimension(name="trigger", value=caller.trigger)
    metrics.add_metric(name=_METRIC_BY_OUTCOME[outcome], unit=MetricUnit.Count, value=1)
