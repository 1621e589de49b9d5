"""Fuzzing the direct invocation: any payload gets a stop result or our error, and bad input calls nothing."""

from typing import Any

from hypothesis import example, given

from stop_deployment import errors
from tests.fuzz.strategies import (
    assert_stop_outcome,
    direct_payloads,
    expected_stop,
    fuzz,
    invoke,
    reset_deployments,
)


@fuzz(600)
@given(payload=direct_payloads)
@example(payload={"deploymentId": " d-lgums25cc\n"})
@example(payload={"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": "true"})
def test_given_any_direct_payload_when_invoked_then_a_result_or_our_error_and_bad_input_calls_nothing(
    deployments: Any, lambda_context: Any, payload: Any
) -> None:
    reset_deployments()
    expected = expected_stop(payload)

    outcome = invoke(payload, lambda_context)

    assert isinstance(outcome, dict | errors.StopDeploymentError), repr(outcome)
    assert_stop_outcome(outcome, expected, completed_is_success=False)
