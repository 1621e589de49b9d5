"""What every HTTP way in shares: the error table, the error body, and the checks made before
Powertools reads a request. No pydantic here: the Slack route must not pay for it."""

import base64
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
from ..validation import check

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


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_OBJECT = {"type": "object"}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_STRING_LISTS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
_BODY = {"body": _nullable({"type": "string"}), "isBase64Encoded": {"type": "boolean"}}
# The envelope fields Powertools and this module read. API Gateway and Lambda always send them
# well-formed, but anyone allowed to invoke the function directly can send anything.
REST_EVENT_SCHEMA = {
    "type": "object",
    "required": ["httpMethod", "path", "requestContext"],
    "properties": {
        "httpMethod": {"type": "string"},
        "path": {"type": "string"},
        "headers": _nullable(_STRINGS),
        "multiValueHeaders": _nullable(_STRING_LISTS),
        "queryStringParameters": _nullable(_STRINGS),
        "multiValueQueryStringParameters": _nullable(_STRING_LISTS),
        "pathParameters": _nullable(_STRINGS),
        **_BODY,
        "requestContext": {
            "type": "object",
            "properties": {"identity": _nullable(_OBJECT), "authorizer": _nullable(_OBJECT)},
        },
    },
}
HTTP_EVENT_SCHEMA = {
    "type": "object",
    "required": ["rawPath", "requestContext"],
    "properties": {
        "rawPath": {"type": "string"},
        "rawQueryString": {"type": "string"},
        "headers": _STRINGS,
        "cookies": {"type": "array", "items": {"type": "string"}},
        "queryStringParameters": _STRINGS,
        "pathParameters": _STRINGS,
        **_BODY,
        "requestContext": {
            "type": "object",
            "required": ["http", "stage"],
            "properties": {
                "http": {
                    "type": "object",
                    "required": ["method", "path"],
                    "properties": {"method": {"type": "string"}, "path": {"type": "string"}},
                },
                "stage": {"type": "string"},
                "authorizer": _nullable({"type": "object", "properties": {"iam": _nullable(_OBJECT)}}),
            },
        },
    },
}


def resolve(
    rest: ApiGatewayResolver,
    http: ApiGatewayResolver,
    event: dict[str, Any],
    context: LambdaContext,
    *,
    json_body: bool,
) -> dict[str, Any]:
    """Resolve a REST v1 event with `rest`, an HTTP API v2 or Function URL event with `http`.

    Checked first, because Powertools reads the body before any of our code runs (and raises on
    some bodies): the envelope, the body's encoding and size and, when `json_body`, that a body is
    JSON of a sane depth sent as application/json.
    """
    logger.set_correlation_id(request_id(event) or context.aws_request_id)
    is_rest = "httpMethod" in event
    try:
        if is_rest:
            check("REST API event", REST_EVENT_SCHEMA, event)
        else:
            check("HTTP API event", HTTP_EVENT_SCHEMA, event)
        body = _decoded_body(event)
        if json_body:
            event = _with_json_body(event, body)
    except StopDeploymentError as problem:
        status, payload = error_body(problem, request_id(event))
        return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": payload}
    return (rest if is_rest else http).resolve(event, context)


def _decoded_body(event: dict[str, Any]) -> str:
    body = event.get("body") or ""
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the request body is over {MAX_BODY_BYTES // 1024} KiB")
        return raw.decode()
    except (ValueError, UnicodeError):  # binascii.Error is a ValueError
        raise InvalidRequest(
            "the request body is not UTF-8 text (or not valid base64 when flagged so)"
        ) from None


def _with_json_body(event: dict[str, Any], body: str) -> dict[str, Any]:
    """The event with its Content-Type spelled as Powertools expects (and none without a body);
    InvalidRequest for a body it would misread (a form, multipart) or choke on (deep nesting)."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    content_type = headers.pop("content-type", None)
    if body.strip():
        if content_type and content_type.split(";")[0].strip().lower() != "application/json":
            raise InvalidRequest(
                f"the request body must be JSON sent as Content-Type: application/json, not {content_type}"
            )
        try:
            json.loads(body)
        except RecursionError:
            raise InvalidRequest("the request body is JSON nested too deeply") from None
        except ValueError:
            pass  # Powertools reports invalid JSON, as a 400 naming it
        headers["content-type"] = "application/json"
    fixed = {**event, "headers": headers}
    if event.get("multiValueHeaders"):  # REST v1 carries both; Powertools reads this one
        multi = {name.lower(): values for name, values in event["multiValueHeaders"].items()}
        multi.pop("content-type", None)
        fixed["multiValueHeaders"] = {
            **multi,
            **({"content-type": [headers["content-type"]]} if body.strip() else {}),
        }
    return fixed
