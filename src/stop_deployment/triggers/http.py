"""The HTTP API: the same routes for API Gateway REST (v1), HTTP API (v2) and Lambda Function URLs.

Powertools validates requests with the pydantic models; every failure leaves through
responses.HTTP_STATUS, the one table from domain error to HTTP status, so callers always get
`{"error", "message", "requestId"}`. The Slack route lives in slack.py, on resolvers without pydantic.
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import service
from ..errors import ChatOpsNotConfigured, DeploymentAlreadyCompleted, InvalidRequest, SlackSignatureInvalid
from ..models import StopOptions, StopRequest
from ..results import DeploymentStatus, StopResult
from ..validation import DEPLOYMENT_ID_PATTERN, FIELDS, invalid_field, normalize_deployment_id
from . import responses

_EXAMPLE_BODY = '{"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": true}'

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
    cls: code
    for cls, code in responses.HTTP_STATUS.items()
    if cls not in (SlackSignatureInvalid, ChatOpsNotConfigured)
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


def _validation_error(error: RequestValidationError) -> Response[str]:
    """Powertools answers 422 with pydantic's details; we answer 400 naming the field."""
    problem = _first_invalid_field(error.errors())
    return responses.error_response(problem, responses.request_id(router.current_event.raw_event))


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


def _resolver(app: ApiGatewayResolver) -> ApiGatewayResolver:
    responses.configure(app, router)
    app.exception_handler(RequestValidationError)(_validation_error)
    return app


# REST v1 events need the REST resolver; HTTP API v2 and Function URL events share a shape.
_rest = _resolver(APIGatewayRestResolver(enable_validation=True))
_http = _resolver(APIGatewayHttpResolver(enable_validation=True))


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return responses.resolve(_rest, _http, event, context, json_body=True)


def openapi_resolver() -> ApiGatewayResolver:
    """The resolver whose routes docs/openapi.json describes (both resolvers share the routes)."""
    return _http
