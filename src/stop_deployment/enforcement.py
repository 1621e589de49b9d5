"""Freezes enforced: a deployment in a frozen group is stopped (way in `freeze`).

- `enforce` runs on CodeDeploy's START event, for the deployment that just started.
- `sweep` runs on a schedule, because START events are best effort: it stops what is in flight in
  every group a Change Calendar or a kept freeze covers (alarms stop their groups themselves).

Never stopped: deployments nobody asked for (EXEMPT_CREATORS: rollbacks, Auto Scaling) and those
whose description carries FREEZE_EXEMPT_MARKER (the hotfix path, announced once). The allowlist and
dry run apply as everywhere.
"""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatchcase
from typing import Any

from . import codedeploy, ledger, notices, notify, service, settings
from .clients import MAX_PARALLEL_CALLS
from .errors import FreezeCheckFailed, StopDeploymentError
from .freeze import Freeze, freezes_now, freezes_on
from .observability import count, logger
from .results import DeploymentStatus
from .service import ROLLBACK_CREATOR
from .target import Place, Target

# Deployments nobody asked for, which a freeze must let finish: CodeDeploy's rollbacks, and the ones
# Auto Scaling starts for new instances (stopping one fails the instance's lifecycle hook and costs
# capacity, likely during an incident), CloudFormation's rollbacks and CodeDeploy's own updates.
EXEMPT_CREATORS = frozenset(
    {
        ROLLBACK_CREATOR,
        "autoscaling",
        "autoscalingTermination",
        "CloudFormationRollback",
        "CodeDeployAutoUpdate",
    }
)
_GLOB_CHARACTERS = frozenset("*?[")
_REQUESTER = "freeze"  # in a member account's CloudTrail, the reads of the freeze check and sweep


def enforce(deployment_id: str, target: Target) -> dict[str, Any]:
    """Stop `deployment_id`, which just started in `target`, if the group is frozen; say what happened."""
    config = settings.get()
    result: dict[str, Any] = {"deploymentId": deployment_id, "target": str(target)}
    if not config.freezes_configured or not config.allows(target):
        return {**result, "outcome": "not_checked"}
    try:
        freezes = freezes_on(target)
    except FreezeCheckFailed as exc:
        freezes = _check_failed(deployment_id, target, exc)
    if not freezes:
        return {**result, "outcome": "not_frozen"}
    outcome = _decide(codedeploy.get(deployment_id, target.place, _REQUESTER), target, freezes)
    return {**result, "freezes": [str(f) for f in freezes], **outcome}


def sweep() -> dict[str, Any]:
    """Stop every deployment in flight in a group frozen by a Change Calendar or a kept freeze. A source
    that cannot be read is logged and counted, and the others still apply (FREEZE_ON_ERROR is for the
    START check: a sweep would apply it to every deployment in flight)."""
    freezes, failures = freezes_now(alarms=False)
    for failure in failures:
        logger.error("Freeze sweep: a source could not be read", extra={"problem": str(failure)})
        count("FreezeChecksFailed")
    targets = _expand(freezes)
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_CALLS) as pool:
        listed = dict(zip(targets, pool.map(_in_flight, targets), strict=True))
        ids = [deployment_id for found in listed.values() for deployment_id in found]
        by_place: dict[Place, list[str]] = {}
        for target, found in listed.items():
            by_place.setdefault(target.place, []).extend(found)
        statuses = {
            (status["deploymentId"], place): status
            for place, found in by_place.items()
            for status in _described(found, place)
        }
        pairs = [
            (statuses[(d, target.place)], target)
            for target, found in listed.items()
            for d in found
            if (d, target.place) in statuses
        ]
        outcomes = list(pool.map(lambda pair: _swept(pair[0], pair[1], targets[pair[1]]), pairs))
    summary = {
        "outcome": "swept",
        "frozenGroups": len(targets),
        "inFlight": len(ids),
        "counts": dict(Counter(outcomes)),
        "problems": [str(failure) for failure in failures],
    }
    logger.info("Freeze sweep done", extra=summary)
    return summary


def _swept(deployment: DeploymentStatus, target: Target, freezes: list[Freeze]) -> str:
    try:
        return str(_decide(deployment, target, freezes)["outcome"])
    except StopDeploymentError:  # logged and announced by the service; the next sweep tries again
        return "failed"


def _expand(freezes: list[Freeze]) -> dict[Target, list[Freeze]]:
    """The allowed groups the freezes cover, each with its freezes; globs are expanded against
    ListApplications and ListDeploymentGroups in the account and region they name (only the
    applications that a glob and the allowlist can match are listed). A glob over accounts or
    regions (a calendar's `arn:aws:codedeploy:*:…`) is not expanded: the START check still applies it."""
    config = settings.get()
    candidates: set[Target] = set()
    globs: dict[Place, list[str]] = {}  # where -> the application globs to list there
    for freeze in freezes:
        if (pattern := Target.parse(freeze.target, globs=True)) is None:
            continue
        if not _GLOB_CHARACTERS & set(freeze.target):
            candidates.add(pattern)
        else:
            globs.setdefault(pattern.place, []).append(pattern.application)
    # The allowlist's application parts, of application/group and ARN globs alike.
    allowed = [pattern.rpartition(":")[2].split("/")[0] for pattern in config.allowed_deployment_groups]
    for place, application_globs in globs.items():
        try:
            applications = [
                name
                for name in codedeploy.applications(service.allowed_place(place), _REQUESTER)
                if any(fnmatchcase(name, glob) for glob in application_globs)
                and any(fnmatchcase(name, pattern) for pattern in allowed)
            ]
            with ThreadPoolExecutor(max_workers=MAX_PARALLEL_CALLS) as pool:
                found = pool.map(lambda name, at=place: codedeploy.groups(name, at, _REQUESTER), applications)
                for application, groups in zip(applications, found, strict=True):
                    candidates.update(Target(application, group, place) for group in groups)
        except StopDeploymentError as exc:
            logger.error(
                "Freeze sweep: the groups could not be listed",
                extra={"where": str(place), "problem": str(exc)},
            )
            count("FreezeChecksFailed")
    return {
        target: covering
        for target in sorted(candidates)
        if service.may_act(target) and (covering := [f for f in freezes if f.covers(target)])
    }


def _in_flight(target: Target) -> list[str]:
    try:
        return codedeploy.list_in_flight(target, _REQUESTER)
    except StopDeploymentError as exc:
        logger.warning(
            "Freeze sweep: a group could not be listed", extra={"target": str(target), "problem": str(exc)}
        )
        return []


def _described(deployment_ids: list[str], place: Place) -> list[DeploymentStatus]:
    try:
        return codedeploy.get_many(deployment_ids, place, _REQUESTER)
    except StopDeploymentError as exc:
        logger.error("Freeze sweep: the deployments could not be read", extra={"problem": str(exc)})
        count("FreezeChecksFailed")
        return []


def _decide(deployment: DeploymentStatus, target: Target, freezes: list[Freeze]) -> dict[str, Any]:
    """Stop a deployment of a frozen group, unless it is exempt; its outcome (and status)."""
    config = settings.get()
    deployment_id = deployment["deploymentId"]
    extra = {"deploymentId": deployment_id, "target": str(target), "freezes": [str(f) for f in freezes]}
    actual = Target(deployment["applicationName"], deployment["deploymentGroupName"], target.place)
    if actual != target:  # the event is not CodeDeploy's word: its group decides nothing
        logger.warning("START event names another group", extra={**extra, "actual": str(actual)})
        return {"outcome": "group_mismatch"}
    if deployment.get("creator") in EXEMPT_CREATORS:
        logger.info("Deployment passes the freeze", extra={**extra, "creator": deployment.get("creator")})
        return {"outcome": "exempt_creator"}
    if config.freeze_exempt_marker in deployment.get("description", ""):
        logger.warning("Deployment passes the freeze", extra={**extra, "outcome": "exempt"})
        # Announced once, however many times the START event comes.
        if ledger.first_time(f"freeze-exempt#{deployment_id}", ledger.EXPIRES_AFTER_SECONDS):
            notice = notices.freeze_exempt(deployment_id, target, freezes, config.freeze_exempt_marker)
            notify.publish(notice)
        return {"outcome": "exempt"}
    caller = service.Caller(
        "freeze",
        requester=", ".join(str(f) for f in freezes),
        details={"freezes": "; ".join(f"{f}: {f.explained}" for f in freezes)},
        reason="; ".join(f.explained for f in freezes),
    )
    stopped = service.stop_deployment(deployment_id, config.freeze_auto_rollback, caller, target)
    return {"outcome": stopped["outcome"], "status": stopped["status"]}


def _check_failed(deployment_id: str, target: Target, exc: FreezeCheckFailed) -> list[Freeze]:
    """FREEZE_ON_ERROR: `allow` lets the deployment run (logged, counted, announced); `stop` treats
    the group as frozen."""
    stop = settings.get().freeze_on_error == "stop"
    logger.error(
        "Freeze check failed",
        extra={"deploymentId": deployment_id, "target": str(target), "problem": str(exc), "stop": stop},
    )
    count("FreezeChecksFailed")
    if stop:
        return [Freeze("error", "FREEZE_ON_ERROR=stop", f"the freeze check failed: {exc}", str(target))]
    notify.publish(notices.freeze_check_failed(deployment_id, target, str(exc)))
    return []
