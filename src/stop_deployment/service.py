"""The use cases. No event or HTTP knowledge: callers pass plain values and get results or domain errors."""

import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
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
from .target import HOME, Place, Target

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
# A fan-out across accounts runs up to MAX_PARALLEL_CALLS calls per account, this many in all.
MAX_FAN_OUT_THREADS = 100
_slots: dict[str, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()
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
    place: Place = HOME,
) -> StopResult:
    """Stop one deployment in `place` (the function's own account and region unless said), subject to
    ALLOWED_ACCOUNTS / ALLOWED_REGIONS, the allowlist and dry run.

    `group` is the deployment group the deployment was listed in, when the caller listed it: the
    allowlist is then checked without a lookup, in the group's place.

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
    place = group.place if group is not None else place
    if place != HOME:
        result["accountId"], result["region"] = place.account, place.region
    started = time.perf_counter()
    try:
        place = allowed_place(place)
        # StopDeployment cannot be scoped by IAM, so the allowlist is the real guard: look the
        # deployment up to learn its group. A dry run looks it up too, to show what would stop.
        status = None
        if group is None and (not config.allows_every_group or config.dry_run):
            found = _look_up(deployment_id, config.allows_every_group, place, caller.requester)
            status = found["status"]
            group = Target(found["applicationName"], found["deploymentGroupName"], place)
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
                result["status"], result["statusMessage"] = codedeploy.stop(
                    deployment_id, rollback, place, caller.requester
                )
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


def describe_deployment(
    deployment_id: str, place: Place = HOME, requester: str | None = None
) -> DeploymentStatus:
    """Current status, application, group, creator and rollback information of one deployment."""
    return codedeploy.get(deployment_id, allowed_place(place), requester)


def allowed_target(target: Target) -> Target:
    """The group located (HOME however spelled) if the function may stop deployments there; else, before
    any call, AccountNotAllowed (its account or region) or DeploymentGroupNotAllowed (the allowlist)."""
    located = Target(target.application, target.group, allowed_place(target.place))
    if not settings.get().allows(located):
        raise DeploymentGroupNotAllowed(f"{target} is not in ALLOWED_DEPLOYMENT_GROUPS")
    return located


def may_act(target: Target) -> bool:
    """Whether the function may stop deployments in the group (allowed_target, as a yes or no)."""
    try:
        allowed_target(target)
    except DeploymentGroupNotAllowed:  # AccountNotAllowed too
        return False
    return True


def allowed_place(place: Place) -> Place:
    """`place`, located (HOME however spelled); AccountNotAllowed, before any call, outside the bounds."""
    if place == HOME:
        return HOME
    from . import accounts  # only for another account: the usual path never loads STS

    return accounts.check_allowed(place)


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
    allowed = _allowed(reports, caller)
    accounts = {located.place.account for _, located in allowed}
    threads = min(MAX_FAN_OUT_THREADS, MAX_PARALLEL_CALLS * len(accounts) or 1)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        # Each group is read on its own, and its stops start as soon as its reads are done: no group
        # waits for the slowest group's listing (with many accounts, that is most of the time).
        reads = {pool.submit(_in_flight, pair[1], caller.requester): pair for pair in allowed}
        stops: dict[tuple[str, Place], Future[DeploymentOutcome]] = {}
        for done in as_completed(reads):
            target, located = reads[done]
            found = done.result()
            if isinstance(found, StopDeploymentError):
                continue  # reported below, in the targets' order
            reports[target]["inFlight"], creators = found
            for deployment_id in reports[target]["inFlight"]:
                if (deployment_id, located.place) not in stops:  # a deployment in two groups: once
                    stops[(deployment_id, located.place)] = pool.submit(
                        _stop_listed,
                        deployment_id,
                        located,
                        creators.get(deployment_id),
                        auto_rollback,
                        caller,
                    )
        for future, (target, _) in reads.items():
            if isinstance(failed := future.result(), StopDeploymentError):
                _mark_failed(reports[target], failed)
                _touch(caller, {"target": str(target), "outcome": "failed", **_problem(reports[target])})
        # In the targets' order, each deployment once, as listed.
        keys = dict.fromkeys(
            (deployment_id, located.place)
            for target, located in allowed
            for deployment_id in reports[target]["inFlight"]
        )
        outcomes = [stops[key].result() for key in keys]
    return list(reports.values()), outcomes


def _slot(place: Place) -> threading.BoundedSemaphore:
    """One of the account's MAX_PARALLEL_CALLS places in a fan-out: CodeDeploy's rate limits are per
    account, so accounts run side by side while each keeps to the bound of a single-account fan-out."""
    with _slots_lock:
        return _slots.setdefault(place.account, threading.BoundedSemaphore(MAX_PARALLEL_CALLS))


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


def _allowed(reports: dict[Target, TargetReport], caller: Caller) -> list[tuple[Target, Target]]:
    """The groups the account bounds and the allowlist admit, located (HOME however spelled); the
    others are reported as refused, never listed."""
    allowed = []
    for target in reports:
        try:
            located = allowed_target(target)
        except DeploymentGroupNotAllowed as exc:  # AccountNotAllowed too
            _mark_failed(reports[target], exc)
            logger.warning("Target refused", extra={"target": str(target), **caller.details})
            _touch(caller, {"target": str(target), "outcome": "refused", **_problem(reports[target])})
        else:
            allowed.append((target, located))
    return allowed


def _in_flight(
    target: Target, requester: str | None
) -> tuple[list[str], dict[str, str]] | StopDeploymentError:
    """The group's deployments in flight and who created each (to leave rollbacks alone), each call
    within the account's share of the fan-out; the listing's error, returned for its report."""
    try:
        with _slot(target.place):
            listed = codedeploy.list_in_flight(target, requester)
    except StopDeploymentError as exc:
        return exc
    try:
        with _slot(target.place):
            return listed, codedeploy.creators(listed, target.place, requester) if listed else {}
    except StopDeploymentError:
        # Not knowing who created them must not delay the stops: proceed (the failure is logged).
        return listed, {}


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
    if group.place != HOME:
        outcome["accountId"], outcome["region"] = group.place.account, group.place.region
    if creator == ROLLBACK_CREATOR:
        outcome["statusMessage"] = "CodeDeploy started it to roll back a stopped deployment; left running"
        _record("skipped_rollback", dict(outcome), caller, time.perf_counter())
        return outcome
    try:
        with _slot(group.place):
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


def _look_up(
    deployment_id: str, allows_every_group: bool, place: Place, requester: str | None
) -> DeploymentStatus:
    try:
        return codedeploy.get(deployment_id, place, requester)
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
