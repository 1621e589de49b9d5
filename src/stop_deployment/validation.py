"""The request rules shared by every way in, and their validators.

The rules live in one place: the pydantic models in `models.py` are the source of truth, and
`request.schemas.json` is generated from them (`make schemas`; a test checks it is current). The
function validates with those JSON Schemas, compiled once by fastjsonschema (the engine under
Powertools' validator), and never imports pydantic: that would add about 100 ms to the cold start
of every way in.
"""

import functools
import json
import re
from pathlib import Path
from typing import Any

import fastjsonschema

from .errors import InvalidRequest

FIELDS = ("deploymentId", "autoRollbackEnabled")
EXAMPLE_DEPLOYMENT_ID = "d-LGUMS25CC"
EXAMPLE_REQUEST = f'{{"deploymentId": "{EXAMPLE_DEPLOYMENT_ID}", "autoRollbackEnabled": true}}'
# Accepted as typed: surrounding whitespace and a lower-case suffix are normalised afterwards.
DEPLOYMENT_ID_PATTERN = r"^[ \t\r\n]*d-[A-Za-z0-9]{9}[ \t\r\n]*$"
_DEPLOYMENT_ID = re.compile(DEPLOYMENT_ID_PATTERN)
SCHEMAS_PATH = Path(__file__).with_name("request.schemas.json")

_FIELD_RULES = {
    "deploymentId": f"deploymentId must be d- followed by 9 letters or digits, e.g. {EXAMPLE_DEPLOYMENT_ID}",
    "autoRollbackEnabled": "autoRollbackEnabled must be true or false (a JSON boolean; strings and numbers "
    "are refused because this flag decides whether CodeDeploy rolls back)",
}


def normalize_deployment_id(raw: str) -> str:
    """' d-lgums25cc ' -> 'd-LGUMS25CC' (only for ids that already match DEPLOYMENT_ID_PATTERN)."""
    trimmed = raw.strip(" \t\r\n")
    return trimmed[:2] + trimmed[2:].upper()


def is_deployment_id(text: str) -> bool:
    return _DEPLOYMENT_ID.match(text) is not None


def parse_deployment_id(raw: str) -> str:
    """A deployment id as typed (in a path), normalised; InvalidRequest naming the rule."""
    if not is_deployment_id(raw):
        raise invalid_field("deploymentId")
    return normalize_deployment_id(raw)


def invalid_field(field: str, problem: str = "invalid") -> InvalidRequest:
    """The one wording of a field error, whichever validator found it."""
    if problem == "missing":
        return InvalidRequest(f"{field} is required")
    if problem == "unknown" or field not in _FIELD_RULES:
        return InvalidRequest(f"unknown field {field!r}; the fields are {' and '.join(FIELDS)}")
    return InvalidRequest(_FIELD_RULES[field])


def parse_stop_request(payload: object, what: str = "the request") -> tuple[str, bool | None]:
    """Validate StopDeployment's request shape; returns (normalised deployment id, rollback flag or None)."""
    request = _validated("StopRequest", payload, what)
    return normalize_deployment_id(request["deploymentId"]), request.get("autoRollbackEnabled")


def parse_stop_options(payload: object) -> tuple[str | None, bool | None]:
    """Validate the optional body of POST /deployments/{id}/stop; returns (its id if any, rollback flag)."""
    options = _validated("StopOptions", payload, "the request body")
    deployment_id = options.get("deploymentId")
    rollback = options.get("autoRollbackEnabled")
    return (None if deployment_id is None else normalize_deployment_id(deployment_id)), rollback


def check(what: str, schema: dict[str, Any], data: Any) -> None:
    """Validate an event's shape against a JSON Schema."""
    try:
        _compiled(what, schema)(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise InvalidRequest(f"not a valid {what}: {exc.message.replace('data', 'event', 1)}") from None


def _validated(model: str, payload: object, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidRequest(f"{what} must be a JSON object like {EXAMPLE_REQUEST}")
    try:
        _compiled(model, _request_schemas()[model])(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise _field_error(exc, payload) from None
    return payload


@functools.cache
def _request_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = json.loads(SCHEMAS_PATH.read_text())
    return schemas


_validators: dict[str, Any] = {}


def _compiled(name: str, schema: dict[str, Any]) -> Any:
    """The schema's validator, compiled once per process: compiling costs 1 to 5 ms."""
    if name not in _validators:
        _validators[name] = fastjsonschema.compile(schema)
    return _validators[name]


def _field_error(exc: fastjsonschema.JsonSchemaValueException, payload: dict[str, Any]) -> InvalidRequest:
    if exc.rule == "required":
        missing = next(field for field in FIELDS if field not in payload)
        return invalid_field(missing, "missing")
    if exc.rule == "additionalProperties":
        unknown = sorted(str(key) for key in payload if key not in FIELDS)
        return invalid_field(unknown[0], "unknown")
    return invalid_field(str(exc.path[1]) if len(exc.path) > 1 else "deploymentId")
