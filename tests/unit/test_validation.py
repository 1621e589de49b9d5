"""The request rules: one source (the pydantic model), two validators that must agree."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from local import schemas
from stop_deployment.errors import InvalidRequest
from stop_deployment.models import StopOptions, StopRequest
from stop_deployment.triggers.http import ROUTES
from stop_deployment.validation import SCHEMAS_PATH, parse_stop_options, parse_stop_request

PAYLOADS: list[Any] = [
    {"deploymentId": "d-LGUMS25CC"},
    {"deploymentId": "d-lgums25cc", "autoRollbackEnabled": False},
    {"deploymentId": " \td-LGUMS25CC\n", "autoRollbackEnabled": True},
    {"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": None},
    {"deploymentId": "D-LGUMS25CC"},
    {"deploymentId": "d-LGUMS25C"},
    {"deploymentId": "d-LGUMS25CCX"},
    {"deploymentId": "d-LGUMS_5CC"},
    {"deploymentId": "d-LGUMS25CÇ"},
    {"deploymentId": "x d-LGUMS25CC"},
    {"deploymentId": ""},
    {"deploymentId": None},
    {"deploymentId": 1},
    {"deploymentId": ["d-LGUMS25CC"]},
    {"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": "true"},
    {"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": "yes"},
    {"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": 1},
    {"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": 0},
    {"deploymentId": "d-LGUMS25CC", "extra": 1},
    {"autoRollbackEnabled": True},
    {},
]


def test_the_json_schema_file_is_generated_from_the_models() -> None:
    assert json.loads(SCHEMAS_PATH.read_text()) == schemas.request_schemas(), "run `make schemas`"


def test_docs_openapi_is_current() -> None:
    assert json.loads(schemas.OPENAPI_PATH.read_text()) == schemas.openapi(), "run `make schemas`"


def test_every_iam_route_is_documented_and_every_documented_route_exists() -> None:
    routes = {(route.method, route.path) for route in ROUTES if not route.path.startswith("/slack/")}

    assert routes == set(schemas.DOCUMENTED_ROUTES)


VALIDATORS: list[Any] = [(StopRequest, parse_stop_request), (StopOptions, parse_stop_options)]


@pytest.mark.parametrize(("model", "validate"), VALIDATORS, ids=["StopRequest", "StopOptions"])
@pytest.mark.parametrize("payload", [*PAYLOADS, {"autoRollbackEnabled": False}, {"deploymentId": None}])
def test_the_validator_and_its_pydantic_model_agree(model: Any, validate: Any, payload: Any) -> None:
    try:
        parsed = model.model_validate(payload)
        expected: Any = (parsed.deploymentId, parsed.autoRollbackEnabled)
    except ValidationError:
        expected = InvalidRequest

    try:
        actual: Any = validate(payload)
    except InvalidRequest:
        actual = InvalidRequest

    assert actual == expected


def test_ids_are_trimmed_and_upper_cased() -> None:
    assert parse_stop_request({"deploymentId": " d-lgums25cc\n"}) == ("d-LGUMS25CC", None)
