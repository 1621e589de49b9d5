"""The use cases. No event or HTTP knowledge: callers pass plain values and get results or domain errors."""

import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from . import codedeploy, settings
from .clients import MAX_PARALLEL_CALLS
from .errors import (
    AccessDenied,
    CodeDeployUnavailable,
    DeploymentAlreadyCompleted,
    DeploymentGroupNotAllowed,
    StopDeploymentError,
    Throttled,
)
from .observability import logger, metrics, metrics_lock
from .results import DeploymentOutcome, DeploymentStatus, Outcome, StopResult, TargetReport
from .target import Target

_METRIC_BY_OUTCOME: dict[Outcome, str] = {
    "stop_requested": "StopsRequested",
    "already_completed": "StopsAlreadyCompleted",
    "dry_run": "StopsDryRun",
    "refused": "StopsRefused",
    "failed": "StopsFailed",
    "skipped_rollback": "StopsSkippedRollback",
}
# Errors worth another attempt later (the caller's retry re-drives them); stopping twice is harmless.
RETRYABLE_ERRORS = (Throttled, CodeDeployUnavailable)
# Deployments that CodeDeploy started to roll back a stopped one: stopping them would make things worse.
ROLLBACK_CREATOR = "codeDeployRollback"


@dataclass(frozen=True)
class Caller:
    """Who asked, for the audit log and the ledger: the way in (direct, http, ...), the requester when
    known, why (an alarm's reason), and where to reply (the Slack command's response_url)."""

    trigger: str
    requester: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)  # e.g. the alarm's name and ARN
    reason: str | None = None
    reply_url: str | None = None


# What this invocation touched, in order, for the ledger and the notification sent after it
# (followup.after_invocation): each deployment's log fields, and each group refused or not listed.
# Module state is safe here because a Lambda process runs one invocation at a time.
_touched: list[tuple[Caller, dict[str, Any]]] = []
_touched_lock = threading.Lock()


def take_touched() -> list[tuple[Caller, dict[str, Any]]]:
    """What this invocation touched so far, forgetting it (called once, at the end of an invocation)."""
    with _touched_lock:
        taken = list(_touched)
        _touched.clear()
    return taken


def stop_deployment(
    deployment_id: str,
    auto_rollback: settings.RollbackChoice | None,
    caller: Caller,
    group: Target | None = None,
) -> StopResult:
    """Stop one deployment, subject to the allowlist and dry run.

    `group` is the deployment group the deployment was listed in, when the caller listed it: the
    allowlist is then checked without a lookup.

    `auto_rollback` None means the request did not say; DEFAULT_AUTO_ROLLBACK decides.
    `settings.GROUP_DECIDES` omits the flag (an alarm's or a freeze's `deployment-group`). A deployment
    that had already completed is a result (outcome already_completed), not an error: the goal is
    reached, and each way in decides how to report it (see `raise_if_already_completed`).
    """
    config = settings.get()
    if auto_rollback is None:
        rollback = config.default_auto_rollback
    else:
        rollback = None if auto_rollback == settings.GROUP_DECIDES else bool(auto_rollback)
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
        status = None
        if group is None and (not config.allows_every_group or config.dry_run):
            found = _look_up(deployment_id, config.allows_every_group)
            group, status = Target(found["applicationName"], found["deploymentGroupName"]), found["status"]
        if group is not None:
            result["applicationName"], result["deploymentGroupName"] = group.application, group.group
            if not config.allows(group):
                raise DeploymentGroupNotAllowed(
                    f"Deployment {deployment_id} belongs to {group}, which ALLOWED_DEPLOYMENT_GROUPS "
                    "does not include"
                )
        if config.dry_run:
            result["outcome"] = "dry_run"
            result["statusMessage"] = "Dry run: StopDeployment was not called" + (
                f"; the deployment is {status}" if status else ""
            )
        else:
            try:
                result["status"], result["statusMessage"] = codedeploy.stop(deployment_id, rollback)
            except DeploymentAlreadyCompleted as exc:
                result["outcome"] = "already_completed"
                result["statusMessage"] = str(exc)
        _record(result["outcome"], dict(result), caller, started)
        return result
    except StopDeploymentError as exc:
        outcome: Outcome = "refused" if isinstance(exc, DeploymentGroupNotAllowed) else "failed"
        _record(outcome, dict(result, error=type(exc).__name__, errorMessage=str(exc)), caller, started)
        raise


def raise_if_already_completed(result: StopResult) -> StopResult:
    """For callers who asked to stop one deployment and must hear that nothing was left to stop
    (HTTP answers 409, a direct invocation raises); a fan-out counts it as reached instead."""
    if result["outcome"] == "already_completed":
        raise DeploymentAlreadyCompleted(result["statusMessage"])
    return result


def describe_deployment(deployment_id: str) -> DeploymentStatus:
    """Current status, application, group, creator and rollback information of one deployment."""
    return codedeploy.get(deployment_id)


def stop_active_deployments(
    targets: Mapping[Target, list[str]], auto_rollback: settings.RollbackChoice | None, caller: Caller
) -> tuple[list[TargetReport], list[DeploymentOutcome]]:
    """Stop every deployment in flight in these deployment groups, in parallel.

    `targets` maps each group to how it was found. A group outside the allowlist is reported and
    never listed; a deployment in two groups is stopped once; a rollback deployment is left alone.
    One failure never prevents the other stops: each is reported, with whether a retry may help.
    """
    reports = {
        target: TargetReport(target=str(target), sources=sorted(set(how)), inFlight=[])
        for target, how in targets.items()
    }
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_CALLS) as pool:
        allowed = _allowed(reports, caller)
        owners = _owners(allowed, reports, pool, caller)
        creators = _creators(list(owners))

        def stop_one(deployment_id: str) -> DeploymentOutcome:
            group, creator = owners[deployment_id], creators.get(deployment_id)
            return _stop_listed(deployment_id, group, creator, auto_rollback, caller)

        outcomes = list(pool.map(stop_one, owners))
    return list(reports.values()), outcomes


def stop_listed(
    deployment_ids: list[str],
    group: Target,
    auto_rollback: settings.RollbackChoice | None,
    caller: Caller,
) -> list[DeploymentOutcome]:
    """Stop these deployments of `group` (listed earlier, e.g. shown in a prompt), in parallel; each
    outcome is reported as in a fan-out."""
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_CALLS) as pool:
        return list(pool.map(lambda d: _stop_listed(d, group, None, auto_rollback, caller), deployment_ids))


def _allowed(reports: dict[Target, TargetReport], caller: Caller) -> list[Target]:
    """The groups the allowlist admits; the others are reported as refused, never listed."""
    allowed = [target for target in reports if settings.get().allows(target)]
    for target in reports.keys() - set(allowed):
        _mark_failed(
            reports[target], DeploymentGroupNotAllowed(f"{target} is not in ALLOWED_DEPLOYMENT_GROUPS")
        )
        logger.warning("Target refused", extra={"target": str(target), **caller.details})
        _touch(caller, {"target": str(target), "outcome": "refused", **_problem(reports[target])})
    return allowed


def _owners(
    allowed: list[Target], reports: dict[Target, TargetReport], pool: ThreadPoolExecutor, caller: Caller
) -> dict[str, Target]:
    """Deployment id -> the first group it was listed in; each group's listing goes in its report."""
    owners: dict[str, Target] = {}
    for target, listed in zip(allowed, pool.map(_list_in_flight, allowed), strict=True):
        if isinstance(listed, StopDeploymentError):
            _mark_failed(reports[target], listed)
            _touch(caller, {"target": str(target), "outcome": "failed", **_problem(reports[target])})
            continue
        reports[target]["inFlight"] = listed
        for deployment_id in listed:
            owners.setdefault(deployment_id, target)
    return owners


def _list_in_flight(target: Target) -> list[str] | StopDeploymentError:
    try:
        return codedeploy.list_in_flight(target)
    except StopDeploymentError as exc:
        return exc


def _creators(deployment_ids: list[str]) -> dict[str, str]:
    try:
        return codedeploy.creators(deployment_ids)
    except StopDeploymentError:
        # Not knowing who created them must not delay the stops: proceed (the failure is logged).
        return {}


def _stop_listed(
    deployment_id: str,
    group: Target,
    creator: str | None,
    auto_rollback: settings.RollbackChoice | None,
    caller: Caller,
) -> DeploymentOutcome:
    """Stop one deployment a fan-out listed in `group`, and say what became of it."""
    outcome = DeploymentOutcome(
        deploymentId=deployment_id,
        outcome="skipped_rollback",
        applicationName=group.application,
        deploymentGroupName=group.group,
    )
    if creator == ROLLBACK_CREATOR:
        outcome["statusMessage"] = "CodeDeploy started it to roll back a stopped deployment; left running"
        _record("skipped_rollback", dict(outcome), caller, time.perf_counter())
        return outcome
    try:
        result = stop_deployment(deployment_id, auto_rollback, caller, group)
    except StopDeploymentError as exc:
        outcome["outcome"] = "refused" if isinstance(exc, DeploymentGroupNotAllowed) else "failed"
        _mark_failed(outcome, exc)
        return outcome
    outcome["outcome"] = result["outcome"]
    outcome["status"] = result["status"]
    outcome["statusMessage"] = result["statusMessage"]
    outcome["autoRollbackEnabled"] = result["autoRollbackEnabled"]
    return outcome


def _mark_failed(report: TargetReport | DeploymentOutcome, error: StopDeploymentError) -> None:
    report["error"] = type(error).__name__
    report["message"] = str(error)
    report["retryable"] = isinstance(error, RETRYABLE_ERRORS)


def _problem(report: TargetReport) -> dict[str, Any]:
    """A group's error under the keys a deployment's uses (`message` belongs to the log record)."""
    return {
        "error": report.get("error"),
        "errorMessage": report.get("message"),
        "retryable": report.get("retryable"),
    }


def _touch(caller: Caller, fields: dict[str, Any]) -> None:
    with _touched_lock:
        _touched.append((caller, fields))


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


def _record(outcome: Outcome, fields: dict[str, Any], caller: Caller, started: float) -> None:
    """One structured log line and one metric per deployment touched."""
    fields.update(
        outcome=outcome,
        trigger=caller.trigger,
        requester=caller.requester,
        codedeployMs=round((time.perf_counter() - started) * 1000, 1),
        **caller.details,
    )
    logger.info("deployment stop", extra=fields)
    _touch(caller, fields)
    with metrics_lock:
        metrics.add_dimension(name="trigger", value=caller.trigger)
        metrics.add_metric(name=_METRIC_BY_OUTCOME[outcome], unit=MetricUnit.Count, value=1)
