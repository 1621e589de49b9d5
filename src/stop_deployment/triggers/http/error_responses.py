"""The one table from domain error to HTTP status, and the error body every HTTP caller gets:
`{"error": <class name>, "message": <safe text>, "requestId": <the API's request id>}`."""

import json
from typing import Any

from ...errors import (
    AccessDenied,
    AccountNotAllowed,
    AccountUnreachable,
    ChatOpsNotConfigured,
    CodeDeployTimeout,
    CodeDeployUnavailable,
    DeploymentAlreadyCompleted,
    DeploymentGroupNotAllowed,
    DeploymentNotFound,
    FreezeNotFound,
    FreezesNotConfigured,
    FreezeStoreUnavailable,
    InvalidRequest,
    PayloadTooLarge,
    RouteNotFound,
    SlackSignatureInvalid,
    StopDeploymentError,
    Throttled,
    UnsupportedDeploymentType,
)

RETRY_AFTER_SECONDS = 2

# Domain error -> HTTP status; the closest class wins (CodeDeployTimeout is 504, not 502).
HTTP_STATUS: dict[type[StopDeploymentError], int] = {
    InvalidRequest: 400,
    SlackSignatureInvalid: 401,
    AccessDenied: 403,
    DeploymentGroupNotAllowed: 403,
    AccountNotAllowed: 403,
    DeploymentNotFound: 404,
    RouteNotFound: 404,
    FreezeNotFound: 404,
    DeploymentAlreadyCompleted: 409,
    PayloadTooLarge: 413,
    UnsupportedDeploymentType: 422,
    Throttled: 429,
    CodeDeployUnavailable: 502,
    AccountUnreachable: 502,
    FreezeStoreUnavailable: 502,
    ChatOpsNotConfigured: 503,
    FreezesNotConfigured: 503,
    CodeDeployTimeout: 504,
}
# What the IAM-signed JSON API can answer (the Slack route's 401 and 503 are its own).
API_ERRORS = {
    cls: code for cls, code in HTTP_STATUS.items() if cls not in (SlackSignatureInvalid, ChatOpsNotConfigured)
}


def status_of(error: StopDeploymentError) -> int:
    return next((HTTP_STATUS[cls] for cls in type(error).__mro__ if cls in HTTP_STATUS), 500)


def error_response(error: StopDeploymentError, request_id: str | None) -> dict[str, Any]:
    body = {"error": type(error).__name__, "message": str(error), "requestId": request_id}
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if isinstance(error, Throttled) else {}
    return json_response(status_of(error), body, headers)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A proxy response for REST, HTTP API and Function URLs alike."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
