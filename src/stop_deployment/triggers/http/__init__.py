"""HTTP events: API Gateway REST (v1), HTTP API (v2) and Lambda Function URLs, one path for all.

`recognise` tells the event's kind; `handle` reads the request once (request.py), picks its route
from ROUTES and answers; every domain error leaves through error_responses.py, so callers always get
`{"error", "message", "requestId"}`. The JSON API's routes are in api.py, Slack's in ..slack.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import RouteNotFound, StopDeploymentError
from ...observability import logger
from . import api
from .error_responses import error_response
from .request import HttpRequest, Kind, parse, request_id

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

RouteHandler = Callable[[HttpRequest, dict[str, str]], dict[str, Any]]


def _slack_command(request: HttpRequest, _: dict[str, str]) -> dict[str, Any]:
    from ..slack import route  # only Slack's requests load the Slack package

    return route.slash_command(request)


def _slack_interaction(request: HttpRequest, _: dict[str, str]) -> dict[str, Any]:
    from ..slack import route

    return route.interaction(request)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {name} marks a path parameter
    handle: RouteHandler
    summary: str  # for the OpenAPI document
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        object.__setattr__(self, "pattern", re.compile(f"^{pattern}$"))


ROUTES = (
    Route("POST", "/stop", api.stop, "Stop a deployment (StopDeployment's request shape)"),
    Route(
        "POST", "/deployments/{deploymentId}/stop", api.stop_by_path, "Stop the deployment named in the path"
    ),
    Route(
        "GET",
        "/deployments/{deploymentId}",
        api.describe,
        "Current status, application, group, creator and rollback information",
    ),
    Route("GET", "/freezes", api.list_freezes, "Every freeze in force: who set it, why, until when"),
    Route(
        "PUT",
        "/freezes/{application}/{group}",
        api.freeze,
        "Freeze a deployment group (* allowed): deployments that start there are stopped",
    ),
    Route("DELETE", "/freezes/{application}/{group}", api.unfreeze, "Lift the freeze set on a group"),
    Route("POST", "/slack/commands", _slack_command, "Slack slash command (signed by Slack, not IAM)"),
    Route(
        "POST", "/slack/interactions", _slack_interaction, "Slack button clicks (signed by Slack, not IAM)"
    ),
)


def recognise(event: Any) -> Kind | None:
    # REST v1 carries httpMethod; HTTP API v2 and Function URLs carry requestContext.http.
    context = event.get("requestContext") if isinstance(event, dict) else None
    if not isinstance(context, dict):
        return None
    if "httpMethod" in event:
        return "rest"
    return "http" if "http" in context else None


def handle(kind: Kind, event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    api_request_id = request_id(event)  # read even when the envelope is invalid, for the error body
    logger.set_correlation_id(api_request_id or context.aws_request_id)
    try:
        request = parse(event, kind)
        for route in ROUTES:
            if route.method == request.method and (found := route.pattern.match(request.path)):
                return route.handle(request, found.groupdict())
        raise RouteNotFound(f"No route for {request.method} {request.path}")
    except StopDeploymentError as error:
        return error_response(error, api_request_id)
