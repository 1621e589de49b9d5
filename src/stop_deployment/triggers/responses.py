"""What every HTTP way in shares: the error table, the error body, and the checks made before
Powertools reads a request. No pydantic here: the Slack route must not pay for it."""

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..errors import (
    AccessDenied,
    ChatOpsNotConfigured,
    CodeDeployTimeout,
    CodeDeployUnavailable,
    DeploymentAlreadyCompleted,
    DeploymentGroupNotAllowed,
    DeploymentNotFound,
    InvalidRequest,
    PayloadTooLarge,
    RouteNotFound,
    SlackSignatureInvalid,
    StopDeploymentError,
    Throttled,
    UnsupportedDeploymentType,
)
from ..observability import logger

MAX_BODY_BYTES = 16 * 1024
RETRY_AFTER_SECONDS = 2

# Domain error -> HTTP status; the closest class wins (CodeDeployTimeout is 504, not 502).
HTTP_STATUS: dict[type[StopDeploymentError], int] = {
    InvalidRequest: 400,
    SlackSignatureInvalid: 401,
    AccessDenied: 403,
    DeploymentGroupNotAllowed: 403,
    DeploymentNotFound: 404,
    RouteNotFound: 404,
    DeploymentAlreadyCompleted: 409,
    PayloadTooLarge: 413,
    UnsupportedDeploymentType: 422,
    Throttled: 429,
    CodeDeployUnavailable: 502,
    ChatOpsNotConfigured: 503,
    CodeDeployTimeout: 504,
}


def request_id(event: dict[str, Any]) -> str | None:
    found = (event.get("requestContext") or {}).get("requestId")
    return found if isinstance(found, str) else None


def error_body(error: StopDeploymentError, request: str | None) -> tuple[int, str]:
    status = next((HTTP_STATUS[cls] for cls in type(error).__mro__ if cls in HTTP_STATUS), 500)
    return status, json.dumps({"error": type(error).__name__, "message": str(error), "requestId": request})


def error_response(error: StopDeploymentError, request: str | None) -> Response[str]:
    status, body = error_body(error, request)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if isinstance(error, Throttled) else None
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def configure(app: ApiGatewayResolver, router: Router) -> ApiGatewayResolver:
    """Add the routes, and make every domain error and every unknown route answer with our error body."""

    def on_error(error: StopDeploymentError) -> Response[str]:
        return error_response(error, request_id(app.current_event.raw_event))

    def on_not_found(_: Exception) -> Response[str]:
        event = app.current_event
        return on_error(RouteNotFound(f"No route for {event.http_method} {event.path}"))

    app.include_router(router)
    app.exception_handler(StopDeploymentError)(on_error)
    app.not_found(on_not_found)
    return app


def resolve(
    rest: ApiGatewayResolver, http: ApiGatewayResolver, event: dict[str, Any], context: LambdaContext
) -> dict[str, Any]:
    """Resolve a REST v1 event with `rest`, an HTTP API v2 or Function URL event with `http`."""
    logger.set_correlation_id(request_id(event) or context.aws_request_id)
    problem = _unreadable_body(event)
    if problem:
        # Checked before Powertools reads the body: its validation runs before any middleware, and
        # it raises UnicodeDecodeError on a body that is not UTF-8.
        status, body = error_body(problem, request_id(event))
        return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}
    return (rest if "httpMethod" in event else http).resolve(event, context)


def _unreadable_body(event: dict[str, Any]) -> StopDeploymentError | None:
    body = event.get("body")
    if not isinstance(body, str):
        return None
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
        if len(raw) > MAX_BODY_BYTES:
            return PayloadTooLarge(f"the request body is over {MAX_BODY_BYTES // 1024} KiB")
        raw.decode()
    except (binascii.Error, UnicodeError):
        return InvalidRequest("the request body is not UTF-8 text (or not valid base64 when flagged so)")
    return None
