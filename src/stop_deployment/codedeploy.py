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
from .target import Target

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
    DeploymentNotFound: "The {subject} (or its application or group) does not exist in this account "
    "and region",
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
    """One client per process, created on first use so warm invocations reuse its connections."""
    return long_lived(boto3.client("codedeploy", config=CONFIG))


def stop(deployment_id: str, auto_rollback: bool | None) -> tuple[str, str]:
    """Call StopDeployment; returns CodeDeploy's (status, statusMessage). None omits the flag."""
    kwargs: dict[str, Any] = {"deploymentId": deployment_id}
    if auto_rollback is not None:
        kwargs["autoRollbackEnabled"] = auto_rollback
    with _translated("StopDeployment", f"deployment {deployment_id}"):
        response = client().stop_deployment(**kwargs)
    return response.get("status", ""), response.get("statusMessage", "")


def get(deployment_id: str) -> DeploymentStatus:
    """Call GetDeployment and keep the fields a person needs to judge the deployment."""
    with _translated("GetDeployment", f"deployment {deployment_id}"):
        info = client().get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    return _status(info, deployment_id)


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


def list_in_flight(target: Target) -> list[str]:
    """Ids of the group's deployments still in flight, every page of ListDeployments."""
    ids: list[str] = []
    token: dict[str, str] = {}
    # Pages by hand: a boto3 paginator loads a model of its own, ~5 ms of cold start on the alarm path.
    with _translated("ListDeployments", f"deployment group {target}"):
        while True:
            page = client().list_deployments(
                applicationName=target.application,
                deploymentGroupName=target.group,
                includeOnlyStatuses=ACTIVE_STATUSES,  # type: ignore[arg-type]
                **token,  # type: ignore[arg-type]
            )
            ids.extend(page.get("deployments", []))
            if not page.get("nextToken"):
                return ids
            token = {"nextToken": page["nextToken"]}


def creators(deployment_ids: list[str]) -> dict[str, str]:
    """Who created each deployment (codeDeployRollback marks a rollback)."""
    return {status["deploymentId"]: status.get("creator", "") for status in get_many(deployment_ids)}


def get_many(deployment_ids: list[str]) -> list[DeploymentStatus]:
    """GetDeployment's answer for many deployments: BatchGetDeployments calls of at most 25 ids each,
    in parallel."""
    chunks = [
        deployment_ids[i : i + _BATCH_GET_DEPLOYMENTS_LIMIT]
        for i in range(0, len(deployment_ids), _BATCH_GET_DEPLOYMENTS_LIMIT)
    ]
    if len(chunks) < 2:  # the usual case, without a thread pool
        return _get_batch(chunks[0]) if chunks else []
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_CALLS) as pool:
        return [status for found in pool.map(_get_batch, chunks) for status in found]


def _get_batch(deployment_ids: list[str]) -> list[DeploymentStatus]:
    with _translated("BatchGetDeployments", f"deployments {', '.join(deployment_ids)}"):
        infos = client().batch_get_deployments(deploymentIds=deployment_ids).get("deploymentsInfo", [])
    return [_status(info, info["deploymentId"]) for info in infos if "deploymentId" in info]


def applications() -> list[str]:
    """Every application's name, every page of ListApplications."""
    with _translated("ListApplications", "applications"):
        pages = client().get_paginator("list_applications").paginate()
        return [name for page in pages for name in page["applications"]]


def groups(application: str) -> list[str]:
    """The names of the application's deployment groups, every page of ListDeploymentGroups."""
    with _translated("ListDeploymentGroups", f"application {application}"):
        pages = client().get_paginator("list_deployment_groups").paginate(applicationName=application)
        return [name for page in pages for name in page["deploymentGroups"]]


def groups_by_alarm(application: str) -> dict[str, list[Target]]:
    """Alarm name -> the groups of this application whose alarmConfiguration lists it (every group
    read)."""
    index: dict[str, list[Target]] = {}
    names = groups(application)
    for start in range(0, len(names), _BATCH_GET_GROUPS_LIMIT):
        chunk = names[start : start + _BATCH_GET_GROUPS_LIMIT]
        with _translated("BatchGetDeploymentGroups", f"application {application}"):
            infos = client().batch_get_deployment_groups(
                applicationName=application, deploymentGroupNames=chunk
            )
        for info in infos.get("deploymentGroupsInfo", []):
            for alarm in info.get("alarmConfiguration", {}).get("alarms", []):
                index.setdefault(alarm["name"], []).append(Target(application, info["deploymentGroupName"]))
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
