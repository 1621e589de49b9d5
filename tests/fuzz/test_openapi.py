"""Schemathesis against docs/openapi.json: the documented routes, driven in-process through the ASGI
adapter `local.serve.app` (each request becomes an HTTP API v2 event for lambda_handler, signed as a
local IAM user), on the local CodeDeploy where the documented example d-LGUMS25CC is in flight.

Checked for valid and invalid requests alike: no 5xx, every status code is one the document lists,
and every response body matches the document's schema for that status.
"""

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is not installed (.venv/bin/pip install schemathesis==4.32.5)"
)
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    response_schema_conformance,
    status_code_conformance,
)

from local import fake_codedeploy  # noqa: E402
from local.serve import app  # noqa: E402
from local.world import IN_FLIGHT_ID  # noqa: E402

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_path(OPENAPI)
schema.app = app


@pytest.fixture
def api(seeded: Any, loop: str) -> Any:
    """checkout/prod with d-LGUMS25CC in flight (the document's example) and d-C0MPLETED done; the
    ledger table, which keeps the freezes."""
    return seeded


@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_given_any_request_the_document_allows_or_forbids_then_the_answer_is_documented(
    api: Any, case: Any
) -> None:
    # Each case starts with the example deployment in flight, so stops can succeed.
    fake_codedeploy.set_status(IN_FLIGHT_ID, "InProgress")
    fake_codedeploy.clear_calls()

    case.call_and_validate(checks=CHECKS)
