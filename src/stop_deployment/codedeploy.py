"""The only module that talks to CodeDeploy: a lazily created boto3 client and error translation."""

import functools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from .clients import CONFIG, MAX_PARALLEL_CALLS, long_lived
from .errors import (
    AccessDenied,
    CodeDeployTimeout,
    CodeDeployUnavailable,
    DeploymentAlreadyCompleted,
    DeploymentNotFound,
    InvalidRequest,
    StopDeploymentError,
    Throttled,
    UnsupportedDeploymentType,
)
from .observability import logger
from .results import DeploymentStatus
from .target import HOME, Place, Target

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

# Statuses of a deployment still in flight (the API's spellings; Baking and Ready included).
ACTIVE_STATUSES = ["Created", "Queued", "InProgress", "Baking", "Ready"]
_BATCH_GET_DEPLOYMENTS_LIMIT = 25
_BATCH_GET_GROUPS_LIMIT = 100

# CodeDeploy error code -> the domain error reported to the caller. Anything else is "unavailable".
_ERRORS: dict[str, type[StopDeploymentError]] = {
    "DeploymentIdRequiredException": InvalidRequest,
    "InvalidDeploymentIdException": InvalidRequest,
    "DeploymentDoesNotExistException": DeploymentNotFound,
    "DeploymentGroupDoesNotExistException": DeploymentNotFound,
    "ApplicationDoesNotExistException": DeploymentNotFound,  # a target naming a missing application
    "DeploymentAlreadyCompletedException": DeploymentAlreadyCompleted,
    "UnsupportedActionForDeploymentTypeException": UnsupportedDeploymentType,
    "ThrottlingException": Throttled,
    "AccessDeniedException": AccessDenied,
}

# {subject} is "deployment d-…" or "deployment group app/group".
_MESSAGES: dict[type[StopDeploymentError], str] = {
    InvalidRequest: "CodeDeploy rejected the request for {subject}",
    DeploymentNotFound: "The {subject} (or its application or group) does not exist there",
    DeploymentAlreadyCompleted: "The {subject} had already completed; there was nothing left to stop",
    UnsupportedDeploymentType: "CodeDeploy cannot stop the {subject}: its deployment type does not "
    "allow it (a CloudFormation blue/green deployment is stopped by cancelling the stack update)",
    Throttled: "CodeDeploy throttled the request for the {subject} after retries; try again shortly",
    AccessDenied: "This function's role may not act on the {subject}; see the function's logs",
    CodeDeployUnavailable: "CodeDeploy did not answer for the {subject}; nothing was confirmed",
    CodeDeployTimeout: "CodeDeploy did not answer in time for the {subject}; nothing was confirmed",
}


@functools.cache
def client() -> "CodeDeployClient":
    """One client per process for the function's own account and region, created on first use so warm
    invocations reuse its connections."""
    return long_lived(boto3.client("codedeploy", config=CONFIG))


def client_in(place: Place, requester: str | None) -> "CodeDeployClient":
    """The client for `place`: the function's own, or the member role's there (see accounts.py), whose
    CloudTrail session names `requester`. AccountNotAllowed before any call for a place not allowed."""
    if place == HOME:
        return client()
    from . import accounts  # only for another account: STS costs the usual path nothing

    located = accounts.check_allowed(place)
    return client() if located == HOME else accounts.client("codedeploy", located, requester)


def stop(
    deployment_id: str, auto_rollback: bool | None, place: Place = HOME, requester: str | None = None
) -> tuple[str, str]:
    """Call StopDeployment; returns CodeDeploy's (status, statusMessage). None omits the flag."""
    kwargs: dict[str, Any] = {"deploymentId": deployment_id}
    if auto_rollback is not None:
        kwargs["autoRollbackEnabled"] = auto_rollback
    with _translated("StopDeployment", _deployment(deployment_id, place)):
        response = client_in(place, requester).stop_deployment(**kwargs)
    return response.get("status", ""), response.get("statusMessage", "")


def get(deployment_id: str, place: Place = HOME, requester: str | None = None) -> DeploymentStatus:
    """Call GetDeployment and keep the fields a person needs to judge the deployment."""
    with _translated("GetDeployment", _deployment(deployment_id, place)):
        info = client_in(place, requester).get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    return _status(info, deployment_id)


def _deployment(deployment_id: str, place: Place) -> str:
    return f"deployment {deployment_id}" + ("" if place == HOME else f" in {place}")


def _status(info: Any, deployment_id: str) -> DeploymentStatus:
    status: DeploymentStatus = {
        "deploymentId": info.get("deploymentId", deployment_id),
        "status": info.get("status", "Unknown"),
        "applicationName": info.get("applicationName", ""),
        "deploymentGroupName": info.get("deploymentGroupName", ""),
    }
    if "creator" in info:
        status["creator"] = info["creator"]
    if info.get("description"):
        status["description"] = info["description"]
    for key in ("createTime", "completeTime"):
        if key in info:
            status[key] = info[key].isoformat()
    if info.get("rollbackInfo"):
        status["rollbackInfo"] = info["rollbackInfo"]
    if error := info.get("errorInformation"):
        status["errorInformation"] = {"code": str(error.get("code", "")), "message": error.get("message", "")}
    return status


def list_in_flight(target: Target, requester: str | None = None) -> list[str]:
    """Ids of the group's deployments still in flight, every page of ListDeployments."""
    ids: list[str] = []
    token: dict[str, str] = {}
    # Pages by hand: a boto3 paginator loads a model of its own, ~5 ms of cold start on the alarm path.
    with _translated("ListDeployments", f"deployment group {target}"):
        while True:
            page = client_in(target.place, requester).list_deployments(
                applicationName=target.application,
                deploymentGroupName=target.group,
                includeOnlyStatuses=ACTIVE_STATUSES,  # type: ignore[arg-type]
                **token,  # type: ignore[arg-type]
            )
            ids.extend(page.get("deployments", []))
            if not page.get("nextToken"):
                return ids
            token = {"nextToken": page["nextToken"]}


def creators(deployment_ids: list[str], place: Place = HOME, requester: str | None = None) -> dict[str, str]:
    """Who created each deployment (codeDeployRollback marks a rollback)."""
    found = get_many(deployment_ids, place, requester)
    return {status["deploymentId"]: status.get("creator", "") for status in found}


def get_many(
    deployment_ids: list[str], place: Place = HOME, requester: str | None = None
) -> list[DeploymentStatus]:
    """GetDeployment's answer for many deployments: BatchGetDeployments calls of at most 25 ids each,
    in parallel."""
    chunks = [
        deployment_ids[i : i + _BATCH_GET_DEPLOYMENTS_LIMIT]
        for i in range(0, len(deployment_ids), _BATCH_GET_DEPLOYMENTS_LIMIT)
    ]

    def get_batch(ids: list[str]) -> list[DeploymentStatus]:
        with _translated("BatchGetDeployments", f"deployments {', '.join(ids)}"):
            infos = client_in(place, requester).batch_get_deployments(deploymentIds=ids)
        found = infos.get("deploymentsInfo", [])
        return [_status(info, info["deploymentId"]) for info in found if "deploymentId" in info]

    if len(chunks) < 2:  # the usual case, without a thread pool
        return get_batch(chunks[0]) if chunks else []
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_CALLS) as pool:
        return [status for found in pool.map(get_batch, chunks) for status in found]


def applications(place: Place = HOME, requester: str | None = None) -> list[str]:
    """Every application's name, every page of ListApplications."""
    with _translated("ListApplications", "applications" + ("" if place == HOME else f" in {place}")):
        pages = client_in(place, requester).get_paginator("list_applications").paginate()
        return [name for page in pages for name in page["applications"]]


def groups(application: str, place: Place = HOME, requester: str | None = None) -> list[str]:
    """The names of the application's deployment groups, every page of ListDeploymentGroups."""
    with _translated("ListDeploymentGroups", f"application {application}"):
        pages = (
            client_in(place, requester)
            .get_paginator("list_deployment_groups")
            .paginate(applicationName=application)
        )
        return [name for page in pages for name in page["deploymentGroups"]]


def groups_by_alarm(
    application: str, place: Place = HOME, requester: str | None = None
) -> dict[str, list[Target]]:
    """Alarm name -> the groups of this application whose alarmConfiguration lists it (every group
    read)."""
    index: dict[str, list[Target]] = {}
    names = groups(application, place, requester)
    for start in range(0, len(names), _BATCH_GET_GROUPS_LIMIT):
        chunk = names[start : start + _BATCH_GET_GROUPS_LIMIT]
        with _translated("BatchGetDeploymentGroups", f"application {application}"):
            infos = client_in(place, requester).batch_get_deployment_groups(
                applicationName=application, deploymentGroupNames=chunk
            )
        for info in infos.get("deploymentGroupsInfo", []):
            for alarm in info.get("alarmConfiguration", {}).get("alarms", []):
                found = Target(application, info["deploymentGroupName"], place)
                index.setdefault(alarm["name"], []).append(found)
    return index


@contextmanager
def _translated(operation: str, subject: str) -> Iterator[None]:
    """Turn boto3 errors into domain errors; AWS's own message (it can carry ARNs) only reaches the log."""
    started = time.perf_counter()
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        error = _ERRORS.get(code, CodeDeployUnavailable)
        _log_failure(operation, subject, code, str(exc), started, exc.response)
        raise error(_MESSAGES[error].format(subject=subject)) from exc
    except (ConnectTimeoutError, ReadTimeoutError) as exc:
        _log_failure(operation, subject, type(exc).__name__, str(exc), started)
        raise CodeDeployTimeout(_MESSAGES[CodeDeployTimeout].format(subject=subject)) from exc
    except BotoCoreError as exc:
        _log_failure(operation, subject, type(exc).__name__, str(exc), started)
        raise CodeDeployUnavailable(_MESSAGES[CodeDeployUnavailable].format(subject=subject)) from exc


def _log_failure(
    operation: str,
    subject: str,
    code: str,
    detail: str,
    started: float,
    response: Any = None,
) -> None:
    metadata = (response or {}).get("ResponseMetadata", {})
    logger.warning(
        "CodeDeploy call failed",
        extra={
            "operation": operation,
            "subject": subject,
            "awsErrorCode": code,
            "awsErrorMessage": detail,
            "awsRequestId": metadata.get("RequestId"),
            "attempts": metadata.get("RetryAttempts", 0) + 1 if metadata else None,
            "durationMs": round((time.perf_counter() - started) * 1000, 1),
        },
    )
