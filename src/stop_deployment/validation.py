"""The request rules shared by every way in, and the direct path's validator.

The rules live in one place: `models.StopRequest` (pydantic) is the source of truth and the HTTP API
validates with it; `stop_request.schema.json` is generated from that model (`make schemas`, and a
test checks it is current) and validates direct invocations without importing pydantic, which
would add about 100 ms to the direct path's cold start.
"""

import functools
import json
from pathlib import Path
from typing import Any

import fastjsonschema

from .errors import InvalidRequest

FIELDS = ("deploymentId", "autoRollbackEnabled")
EXAMPLE_DEPLOYMENT_ID = "d-LGUMS25CC"
# Accepted as typed: surrounding whitespace and a lower-case suffix are normalised afterwards.
DEPLOYMENT_ID_PATTERN = r"^[ \t\r\n]*d-[A-Za-z0-9]{9}[ \t\r\n]*$"
SCHEMA_PATH = Path(__file__).with_name("stop_request.schema.json")

_FIELD_RULES = {
    "deploymentId": f"deploymentId must be d- followed by 9 letters or digits, e.g. {EXAMPLE_DEPLOYMENT_ID}",
    "autoRollbackEnabled": "autoRollbackEnabled must be true or false (a JSON boolean; strings and numbers "
    "are refused because this flag decides whether CodeDeploy rolls back)",
}


def normalize_deployment_id(raw: str) -> str:
    """' d-lgums25cc ' -> 'd-LGUMS25CC' (only for ids that already match DEPLOYMENT_ID_PATTERN)."""
    trimmed = raw.strip(" \t\r\n")
    return trimmed[:2] + trimmed[2:].upper()


def invalid_field(field: str, problem: str = "invalid") -> InvalidRequest:
    """The one wording of a field error, whichever validator found it."""
    if problem == "missing":
        return InvalidRequest(f"{field} is required")
    if problem == "unknown" or field not in _FIELD_RULES:
        return InvalidRequest(f"unknown field {field!r}; the fields are {' and '.join(FIELDS)}")
    return InvalidRequest(_FIELD_RULES[field])


def parse_stop_request(payload: object) -> tuple[str, bool | None]:
    """Validate a StopDeployment-shaped payload; returns (normalised deployment id, rollback flag or None)."""
    if not isinstance(payload, dict):
        raise InvalidRequest(
            f'the request must be a JSON object like {{"deploymentId": "{EXAMPLE_DEPLOYMENT_ID}"}}'
        )
    try:
        _validator()(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise _schema_error(exc, payload) from None
    return normalize_deployment_id(payload["deploymentId"]), payload.get("autoRollbackEnabled")


@functools.cache
def _validator() -> Any:
    return fastjsonschema.compile(json.loads(SCHEMA_PATH.read_text()))


_compiled: dict[str, Any] = {}


def check(what: str, schema: dict[str, Any], data: Any) -> None:
    """Validate data against a JSON Schema, compiled once per process (compiling costs ~1 ms).

    fastjsonschema is the engine of Powertools' validation utility, whose validate() would compile
    the schema again on every call.
    """
    if what not in _compiled:
        _compiled[what] = fastjsonschema.compile(schema)
    try:
        _compiled[what](data)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise InvalidRequest(f"not a valid {what}: {exc.message.replace('data', 'event', 1)}") from None


def _schema_error(exc: fastjsonschema.JsonSchemaValueException, payload: dict[str, Any]) -> InvalidRequest:
    if exc.rule == "required":
        missing = next(field for field in FIELDS if field not in payload)
        return invalid_field(missing, "missing")
    if exc.rule == "additionalProperties":
        unknown = sorted(str(key) for key in payload if key not in FIELDS)
        return invalid_field(unknown[0], "unknown")
    return invalid_field(str(exc.path[1]) if len(exc.path) > 1 else "deploymentId")
