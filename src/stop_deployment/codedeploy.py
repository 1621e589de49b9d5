"""The only module that talks to CodeDeploy: a lazily created boto3 client and error translation.

The endpoint comes from the environment as boto3 resolves it (AWS_ENDPOINT_URL_CODEDEPLOY points
it at the local CodeDeploy); it is never set here.
"""

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from . import __version__
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

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

# Worst case per call: 3 attempts x (2 s connect + 3 s read) + standard-mode backoff (< 1 s + < 2 s)
# = 18 s, so a lookup and a stop fit well inside the function's 60 s timeout.
MAX_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 3

_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    user_agent_extra=f"stop-deployment/{__version__}",
)

# CodeDeploy error code -> the domain error reported to the caller. Anything else is "unavailable".
_ERRORS: dict[str, type[StopDeploymentError]] = {
    "DeploymentIdRequiredException": InvalidRequest,
    "InvalidDeploymentIdException": InvalidRequest,
    "DeploymentDoesNotExistException": DeploymentNotFound,
    "DeploymentGroupDoesNotExistException": DeploymentNotFound,
    "DeploymentAlreadyCompletedException": DeploymentAlreadyCompleted,
    "UnsupportedActionForDeploymentTypeException": UnsupportedDeploymentType,
    "ThrottlingException": Throttled,
    "AccessDeniedException": AccessDenied,
}

_MESSAGES: dict[type[StopDeploymentError], str] = {
    InvalidRequest: "CodeDeploy rejected the deployment id {id}",
    DeploymentNotFound: "Deployment {id} (or its group) does not exist in this account and region",
    DeploymentAlreadyCompleted: "Deployment {id} had already completed; there was nothing left to stop",
    UnsupportedDeploymentType: "CodeDeploy cannot stop deployment {id}: its deployment type does not "
    "allow it (a CloudFormation blue/green deployment is stopped by cancelling the stack update)",
    Throttled: "CodeDeploy throttled the request for {id} after retries; try again shortly",
    AccessDenied: "This function's role is not allowed to act on deployment {id}; see the function's logs",
    CodeDeployUnavailable: "CodeDeploy did not answer for {id}; the deployment may not have been stopped",
    CodeDeployTimeout: "CodeDeploy did not answer in time for {id}; the deployment may not have been stopped",
}


@functools.cache
def client() -> "CodeDeployClient":
    """One client per process, created on first use so warm invocations reuse its connections."""
    return boto3.client("codedeploy", config=_CONFIG)


def stop(deployment_id: str, auto_rollback: bool | None) -> tuple[str, str]:
    """Call StopDeployment; returns CodeDeploy's (status, statusMessage). None omits the flag."""
    kwargs: dict[str, Any] = {"deploymentId": deployment_id}
    if auto_rollback is not None:
        kwargs["autoRollbackEnabled"] = auto_rollback
    with _translated("StopDeployment", deployment_id):
        response = client().stop_deployment(**kwargs)
    return response.get("status", ""), response.get("statusMessage", "")


def get(deployment_id: str) -> DeploymentStatus:
    """Call GetDeployment and keep the fields a person needs to judge the deployment."""
    with _translated("GetDeployment", deployment_id):
        info = client().get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    status: DeploymentStatus = {
        "deploymentId": info.get("deploymentId", deployment_id),
        "status": info.get("status", "Unknown"),
        "applicationName": info.get("applicationName", ""),
        "deploymentGroupName": info.get("deploymentGroupName", ""),
    }
    if "creator" in info:
        status["creator"] = info["creator"]
    for key in ("createTime", "completeTime"):
        if key in info:
            status[key] = info[key].isoformat()
    if info.get("rollbackInfo"):
        status["rollbackInfo"] = info["rollbackInfo"]
    if error := info.get("errorInformation"):
        status["errorInformation"] = {"code": str(error.get("code", "")), "message": error.get("message", "")}
    return status


@contextmanager
def _translated(operation: str, deployment_id: str) -> Iterator[None]:
    """Turn boto3 errors into domain errors; AWS's own message (it can carry ARNs) only reaches the log."""
    started = time.perf_counter()
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        error = _ERRORS.get(code, CodeDeployUnavailable)
        _log_failure(operation, deployment_id, code, str(exc), started, exc.response)
        raise error(_MESSAGES[error].format(id=deployment_id)) from exc
    except (ConnectTimeoutError, ReadTimeoutError) as exc:
        _log_failure(operation, deployment_id, type(exc).__name__, str(exc), started)
        raise CodeDeployTimeout(_MESSAGES[CodeDeployTimeout].format(id=deployment_id)) from exc
    except BotoCoreError as exc:
        _log_failure(operation, deployment_id, type(exc).__name__, str(exc), started)
        raise CodeDeployUnavailable(_MESSAGES[CodeDeployUnavailable].format(id=deployment_id)) from exc


def _log_failure(
    operation: str,
    deployment_id: str,
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
            "deploymentId": deployment_id,
            "awsErrorCode": code,
            "awsErrorMessage": detail,
            "awsRequestId": metadata.get("RequestId"),
            "attempts": metadata.get("RetryAttempts", 0) + 1 if metadata else None,
            "durationMs": round((time.perf_counter() - started) * 1000, 1),
        },
    )
