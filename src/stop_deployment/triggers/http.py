"""The HTTP API: the same routes for API Gateway REST (v1), HTTP API (v2) and Lambda Function URLs.

Powertools validates requests with the pydantic models; every failure leaves through `_error_response`,
the one table from domain error to HTTP status, so callers always get `{"error", "message", "requestId"}`.
"""

import base64
import binascii
import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
)
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import service
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
from ..models import StopOptions, StopRequest
from ..observability import logger
from ..results import DeploymentStatus, StopResult
from ..validation import DEPLOYMENT_ID_PATTERN, FIELDS, invalid_field, normalize_deployment_id
from . import slack

MAX_BODY_BYTES = 16 * 1024
_EXAMPLE_BODY = '{"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": true}'
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

_ERROR_BODY_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "The error code, e.g. DeploymentGroupNotAllowed"},
        "message": {"type": "string", "description": "What went wrong, in plain words"},
        "requestId": {"type": ["string", "null"], "description": "Quote it to find the log lines"},
    },
}
# What the IAM-signed routes can answer (the Slack route's 401 and 503 are its own).
_API_STATUS = {
    cls: code for cls, code in HTTP_STATUS.items() if cls not in (SlackSignatureInvalid, ChatOpsNotConfigured)
}
ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    status: {
        "description": ", ".join(sorted(cls.__name__ for cls, code in _API_STATUS.items() if code == status)),
        "content": {"application/json": {"schema": _ERROR_BODY_SCHEMA}},
    }
    for status in sorted(set(_API_STATUS.values()))
}

DeploymentIdInPath = Annotated[str, Path(pattern=DEPLOYMENT_ID_PATTERN, examples=["d-LGUMS25CC"])]

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


@router.post(
    "/stop",
    summary="Stop a deployment (StopDeployment's request shape)",
    responses={200: {"description": "The stop result"}, **ERROR_RESPONSES},
)
def stop(request: Annotated[StopRequest, Body()]) -> StopResult:
    return _stop(request.deploymentId, request.autoRollbackEnabled)


@router.post(
    "/deployments/<deploymentId>/stop",
    summary="Stop the deployment named in the path",
    responses={200: {"description": "The stop result"}, **ERROR_RESPONSES},
)
def stop_by_path(
    deploymentId: DeploymentIdInPath,
    options: Annotated[StopOptions | None, Body()] = None,
) -> StopResult:
    deployment_id = normalize_deployment_id(deploymentId)
    if options and options.deploymentId and options.deploymentId != deployment_id:
        raise InvalidRequest(
            f"deploymentId in the body ({options.deploymentId}) does not match the path ({deployment_id})"
        )
    return _stop(deployment_id, options.autoRollbackEnabled if options else None)


@router.get(
    "/deployments/<deploymentId>",
    summary="Current status, application, group, creator and rollback information",
    responses={200: {"description": "The deployment's status"}, **ERROR_RESPONSES},
)
def describe(deploymentId: DeploymentIdInPath) -> DeploymentStatus:
    return service.describe_deployment(normalize_deployment_id(deploymentId))


def _stop(deployment_id: str, auto_rollback: bool | None) -> StopResult:
    caller = service.Caller("http", requester=_requester(router.current_event.raw_event))
    result = service.stop_deployment(deployment_id, auto_rollback, caller)
    if result["outcome"] == "already_completed":
        raise DeploymentAlreadyCompleted(result["statusMessage"])
    return result


def _requester(event: dict[str, Any]) -> str | None:
    """The IAM caller's ARN, from REST (identity) or HTTP API / Function URL (authorizer.iam)."""
    context = event.get("requestContext") or {}
    arn = (context.get("identity") or {}).get("userArn") or (
        (context.get("authorizer") or {}).get("iam") or {}
    ).get("userArn")
    return arn if isinstance(arn, str) else None


def _request_id(event: dict[str, Any]) -> str | None:
    request_id = (event.get("requestContext") or {}).get("requestId")
    return request_id if isinstance(request_id, str) else None


def _error_body(error: StopDeploymentError, request_id: str | None) -> tuple[int, str]:
    status = next((HTTP_STATUS[cls] for cls in type(error).__mro__ if cls in HTTP_STATUS), 500)
    body = {"error": type(error).__name__, "message": str(error), "requestId": request_id}
    return status, json.dumps(body)


def _error_response(error: StopDeploymentError) -> Response[str]:
    status, body = _error_body(error, _request_id(router.current_event.raw_event))
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if isinstance(error, Throttled) else None
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def _validation_error(error: RequestValidationError) -> Response[str]:
    """Powertools answers 422 with pydantic's details; we answer 400 naming the field."""
    content_type = router.current_event.headers.get("content-type") or "application/json"
    if "json" not in content_type.lower():
        # Powertools parsed the body as a form (curl -d's default), so its field errors would mislead.
        return _error_response(
            InvalidRequest(
                f"the request body must be JSON sent as Content-Type: application/json, not {content_type}"
            )
        )
    return _error_response(_first_invalid_field(error.errors()))


def _first_invalid_field(errors: Any) -> InvalidRequest:
    for detail in errors:
        location = [str(part) for part in detail.get("loc", ())]
        kind = detail.get("type", "")
        if kind == "json_invalid":
            return InvalidRequest("the request body is not valid JSON")
        field = next((part for part in location[1:] if part in FIELDS or kind == "extra_forbidden"), None)
        if field is None:
            continue
        return invalid_field(field, {"missing": "missing", "extra_forbidden": "unknown"}.get(kind, "invalid"))
    return InvalidRequest(f"the request body must be a JSON object like {_EXAMPLE_BODY}")


def _not_found(_: Exception) -> Response[str]:
    event = router.current_event
    return _error_response(RouteNotFound(f"No route for {event.http_method} {event.path}"))


def _resolver(app: ApiGatewayResolver) -> ApiGatewayResolver:
    app.include_router(router)
    app.include_router(slack.router)
    app.exception_handler(StopDeploymentError)(_error_response)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.not_found(_not_found)
    return app


# REST v1 events need the REST resolver; HTTP API v2 and Function URL events share a shape.
_rest = _resolver(APIGatewayRestResolver(enable_validation=True))
_http = _resolver(APIGatewayHttpResolver(enable_validation=True))


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(_request_id(event) or context.aws_request_id)
    problem = _unreadable_body(event)
    if problem:
        # Checked before Powertools reads the body: its validation runs before any middleware, and
        # it raises UnicodeDecodeError on a body that is not UTF-8.
        status, body = _error_body(problem, _request_id(event))
        return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}
    app = _rest if "httpMethod" in event else _http
    return app.resolve(event, context)


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


def openapi_resolver() -> ApiGatewayResolver:
    """The resolver whose routes docs/openapi.json describes (both resolvers share the routes)."""
    return _http
