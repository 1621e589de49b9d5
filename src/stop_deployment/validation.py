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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fastjsonschema

from .errors import InvalidRequest
from .settings import MAX_FREEZE_MINUTES
from .target import ACCOUNT_PATTERN, HOME, NAME_GLOB, REGION_PATTERN, Place, Target

EXAMPLE_DEPLOYMENT_ID = "d-LGUMS25CC"
EXAMPLE_REQUEST = f'{{"deploymentId": "{EXAMPLE_DEPLOYMENT_ID}", "autoRollbackEnabled": true}}'
# Accepted as typed: surrounding whitespace and a lower-case suffix are normalised afterwards.
DEPLOYMENT_ID_PATTERN = r"^[ \t\r\n]*d-[A-Za-z0-9]{9}[ \t\r\n]*$"
_DEPLOYMENT_ID = re.compile(DEPLOYMENT_ID_PATTERN)
SCHEMAS_PATH = Path(__file__).with_name("request.schemas.json")
# RFC 3339 with a time zone: a freeze's end must not depend on the caller's clock settings.
FREEZE_UNTIL_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"
EXAMPLE_UNTIL = "2026-12-24T18:00:00Z"
ACCOUNT_ID_PATTERN = f"^{ACCOUNT_PATTERN}$"
REGION_CODE_PATTERN = f"^{REGION_PATTERN}$"

_FIELD_RULES = {
    "deploymentId": f"deploymentId must be d- followed by 9 letters or digits, e.g. {EXAMPLE_DEPLOYMENT_ID}",
    "autoRollbackEnabled": "autoRollbackEnabled must be true or false (a JSON boolean; strings and numbers "
    "are refused because this flag decides whether CodeDeploy rolls back)",
    "minutes": f"minutes must be a whole number from 1 to {MAX_FREEZE_MINUTES} (7 days)",
    "until": f"until must be a time with its time zone, e.g. {EXAMPLE_UNTIL}, in the future and at most "
    "7 days ahead",
    "reason": "reason must be text of 1 to 200 characters: why the group is frozen",
    "application": "application must be a CodeDeploy application name (letters, digits, +=,.@_-) or a "
    "glob with *",
    "group": "group must be a CodeDeploy deployment group name (letters, digits, +=,.@_-) or a glob with *",
    "accountId": "accountId must be an AWS account id: 12 digits, e.g. 111122223333",
    "region": "region must be an AWS region code, e.g. eu-west-1",
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


def invalid_field(field: str, problem: str = "invalid", model: str = "StopRequest") -> InvalidRequest:
    """The one wording of a field error, whichever validator found it."""
    if problem == "missing":
        return InvalidRequest(f"{field} is required")
    if problem == "unknown" or field not in _FIELD_RULES:
        fields = list(_request_schemas()[model]["properties"])
        return InvalidRequest(
            f"unknown field {field!r}; the fields are {', '.join(fields[:-1])} and {fields[-1]}"
        )
    return InvalidRequest(_FIELD_RULES[field])


def parse_stop_request(payload: object, what: str = "the request") -> tuple[str, bool | None, Place]:
    """Validate StopDeployment's request shape with this function's optional accountId and region;
    returns (normalised deployment id, rollback flag or None, where: HOME unless said)."""
    request = _validated("StopRequest", payload, what)
    deployment_id = normalize_deployment_id(request["deploymentId"])
    return deployment_id, request.get("autoRollbackEnabled"), parse_place(request)


def parse_stop_options(payload: object) -> tuple[str | None, bool | None, Place]:
    """Validate the optional body of POST /deployments/{id}/stop; returns (its id if any, rollback flag,
    where)."""
    options = _validated("StopOptions", payload, "the request body")
    deployment_id = options.get("deploymentId")
    normalized = None if deployment_id is None else normalize_deployment_id(deployment_id)
    return normalized, options.get("autoRollbackEnabled"), parse_place(options)


def parse_place(fields: dict[str, Any]) -> Place:
    """The accountId and region of a request (a query string, a Slack option), each optional: an
    absent one is the function's own; HOME for the function's own however spelled. InvalidRequest
    naming a malformed one."""
    account, region = fields.get("accountId"), fields.get("region")
    for field, value, pattern in (
        ("accountId", account, ACCOUNT_PATTERN),
        ("region", region, REGION_PATTERN),
    ):
        if value is not None and not (isinstance(value, str) and re.fullmatch(pattern, value)):
            raise invalid_field(field)
    if not (account or region):
        return HOME
    from . import accounts  # only for a request that names a place: comparing needs the own account

    return accounts.located(Place(account or "", region or ""))


def parse_freeze_target(application: str, group: str, place: Place = HOME) -> str:
    """The pattern of a freeze, `*` allowed in either name: `application/group` in the function's own
    account and region, the group's ARN in another `place`. InvalidRequest naming the part."""
    for field, name in (("application", application), ("group", group)):
        if not NAME_GLOB.fullmatch(name):
            raise invalid_field(field)
    return str(Target(application, group, place))


def parse_freeze_request(payload: object, now: datetime) -> tuple[datetime, str]:
    """Validate the body of PUT /freezes/{application}/{group}; returns (its end, its reason).
    Exactly one of minutes and until says when it ends: after `now`, at most 7 days ahead."""
    request = _validated("FreezeRequest", payload, "the request body", '{"minutes": 120, "reason": "launch"}')
    minutes, until = request.get("minutes"), request.get("until")
    if isinstance(minutes, float):  # JSON Schema's integer admits 120.0; the model (StrictInt) does not
        raise invalid_field("minutes")
    if (minutes is None) == (until is None):
        raise InvalidRequest("give either minutes or until (not both): when the freeze ends")
    if minutes is not None:
        end = now + timedelta(minutes=minutes)
    else:
        try:
            end = datetime.fromisoformat(str(until))
        except ValueError:  # matches the pattern, but is no date (month 13, hour 25)
            raise invalid_field("until") from None
        if not now < end <= now + timedelta(minutes=MAX_FREEZE_MINUTES):
            raise invalid_field("until")
    return end.astimezone(UTC), request["reason"].strip()


def check(what: str, schema: dict[str, Any], data: Any) -> None:
    """Validate an event's shape against a JSON Schema."""
    try:
        _compiled(what, schema)(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise InvalidRequest(f"not a valid {what}: {exc.message.replace('data', 'event', 1)}") from None


def _validated(model: str, payload: object, what: str, example: str = EXAMPLE_REQUEST) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidRequest(f"{what} must be a JSON object like {example}")
    schema = _request_schemas()[model]
    try:
        # A copy: the compiled validator fills in the schema's defaults, and the caller's dict is theirs.
        validated: dict[str, Any] = _compiled(model, schema)(dict(payload))
    except fastjsonschema.JsonSchemaValueException as exc:
        raise _field_error(exc, payload, model, schema) from None
    return validated


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


def _field_error(
    exc: fastjsonschema.JsonSchemaValueException, payload: dict[str, Any], model: str, schema: dict[str, Any]
) -> InvalidRequest:
    if exc.rule == "required":
        missing = next(field for field in schema["required"] if field not in payload)
        return invalid_field(missing, "missing")
    if exc.rule == "additionalProperties":
        unknown = sorted(str(key) for key in payload if key not in schema["properties"])
        return invalid_field(unknown[0], "unknown", model)
    field = (
        str(exc.path[1]) if len(exc.path) > 1 else next(iter(schema.get("required", schema["properties"])))
    )
    return invalid_field(field, model=model)
