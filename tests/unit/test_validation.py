"""The request rules: one source (the pydantic model), two validators that must agree."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from local import schemas
from stop_deployment import accounts
from stop_deployment.errors import InvalidRequest
from stop_deployment.models import StopOptions, StopRequest
from stop_deployment.target import HOME, Place
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
    {"deploymentId": "d-LGUMS25CC", "accountId": "222222222222", "region": "eu-west-1"},
    {"deploymentId": "d-LGUMS25CC", "accountId": "222222222222"},
    {"deploymentId": "d-LGUMS25CC", "region": "ap-southeast-2", "accountId": None},
    {"deploymentId": "d-LGUMS25CC", "accountId": "22222222222"},
    {"deploymentId": "d-LGUMS25CC", "accountId": 222222222222},
    {"deploymentId": "d-LGUMS25CC", "accountId": "222222222222\n"},
    {"deploymentId": "d-LGUMS25CC", "region": "EU-WEST-1"},
    {"deploymentId": "d-LGUMS25CC", "region": "moon-1"},
    {"deploymentId": "d-LGUMS25CC", "region": ""},
]


@pytest.fixture(autouse=True)
def _home() -> None:
    """The function's own account, as the handler learns it from its context (no STS here)."""
    accounts.learn_home("arn:aws:lambda:us-east-1:123456789012:function:stop-deployment")


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
        actual: Any = validate(payload)[:2]
    except InvalidRequest:
        actual = InvalidRequest

    assert actual == expected


@pytest.mark.parametrize(
    ("where", "place"),
    [
        ({}, HOME),
        ({"accountId": "222222222222", "region": "eu-west-1"}, Place("222222222222", "eu-west-1")),
        ({"accountId": "222222222222"}, Place("222222222222", "us-east-1")),
        ({"region": "eu-west-1"}, Place("123456789012", "eu-west-1")),
        ({"accountId": "123456789012", "region": "us-east-1"}, HOME),
        ({"accountId": "123456789012"}, HOME),
    ],
)
def test_a_stop_request_is_for_the_functions_own_account_and_region_unless_it_says(
    where: dict[str, str], place: Place
) -> None:
    assert parse_stop_request({"deploymentId": "d-LGUMS25CC", **where})[2] == place


def test_ids_are_trimmed_and_upper_cased() -> None:
    assert parse_stop_request({"deploymentId": " d-lgums25cc\n"}) == ("d-LGUMS25CC", None, HOME)
