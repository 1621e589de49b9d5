"""The JSON API's routes, IAM-authorised: stop by body, stop by path, a deployment's status, and
freezes (set, lift, list).

Each route validates with the request rules of validation.py (the 400 names the field), calls the
service, and answers with the result; errors leave through the HTTP way in's one error table.
"""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from ... import service
from ...errors import InvalidRequest
from ...target import HOME, Place
from ...validation import (
    parse_deployment_id,
    parse_freeze_request,
    parse_freeze_target,
    parse_place,
    parse_stop_options,
    parse_stop_request,
)
from .error_responses import json_response
from .request import HttpRequest


def stop(request: HttpRequest, _: dict[str, str]) -> dict[str, Any]:
    """POST /stop with StopDeployment's request shape."""
    deployment_id, auto_rollback, place = parse_stop_request(request.json(), "the request body")
    return _stopped(request, deployment_id, auto_rollback, place)


def stop_by_path(request: HttpRequest, path: dict[str, str]) -> dict[str, Any]:
    """POST /deployments/{deploymentId}/stop, with an optional body of options; the account and region
    may come in the body or the query string (?accountId=…&region=…)."""
    deployment_id = parse_deployment_id(path["deploymentId"])
    body = request.json()
    body_id, auto_rollback, place = parse_stop_options(body) if body is not None else (None, None, HOME)
    if body_id is not None and body_id != deployment_id:
        raise InvalidRequest(
            f"deploymentId in the body ({body_id}) does not match the path ({deployment_id})"
        )
    in_query = _query_place(request)
    if HOME not in (place, in_query) and place != in_query:
        raise InvalidRequest("the query string and the body name different accounts or regions")
    return _stopped(request, deployment_id, auto_rollback, place if place != HOME else in_query)


def describe(_: HttpRequest, path: dict[str, str]) -> dict[str, Any]:
    """GET /deployments/{deploymentId}."""
    return json_response(200, service.describe_deployment(parse_deployment_id(path["deploymentId"])))


def _stopped(
    request: HttpRequest, deployment_id: str, auto_rollback: bool | None, place: Place
) -> dict[str, Any]:
    caller = service.Caller("http", requester=request.requester)
    result = service.stop_deployment(deployment_id, auto_rollback, caller, place=place)
    return json_response(200, service.raise_if_already_completed(result))


def freeze(request: HttpRequest, path: dict[str, str]) -> dict[str, Any]:
    """PUT /freezes/{application}/{group}: freeze the group (or a glob of groups) for a while."""
    pattern = _freeze_target(request, path)
    until, reason = parse_freeze_request(request.json(), datetime.now(UTC))
    from ... import freeze  # only the freeze routes load the freeze code

    kept = freeze.set_freeze(pattern, until, reason, request.requester or "an unidentified caller")
    return json_response(200, kept.listed())


def unfreeze(request: HttpRequest, path: dict[str, str]) -> dict[str, Any]:
    """DELETE /freezes/{application}/{group}: lift the freeze set on exactly that group or glob."""
    pattern = _freeze_target(request, path)
    from ... import freeze

    lifted = freeze.lift_freeze(pattern, request.requester or "an unidentified caller")
    return json_response(200, lifted.listed())


def list_freezes(_: HttpRequest, __: dict[str, str]) -> dict[str, Any]:
    """GET /freezes: every freeze in force, from every source, and the sources that could not be read."""
    from ... import freeze

    found, problems = freeze.listing()
    return json_response(200, {"freezes": found, "problems": problems})


def _freeze_target(request: HttpRequest, path: dict[str, str]) -> str:
    """The path's application/group (URL-decoded: a client may send * as %2A), in the account and
    region the query string names (?accountId=…&region=…), if any."""
    place = _query_place(request)
    return parse_freeze_target(unquote(path["application"]), unquote(path["group"]), place)


def _query_place(request: HttpRequest) -> Place:
    return parse_place({key: request.query[key] for key in ("accountId", "region") if key in request.query})
