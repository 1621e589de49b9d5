"""Fuzzing the EventBridge Stop Deployment Request: its detail follows the direct invocation's rules."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stop_deployment import errors
from tests.fuzz.strategies import (
    MISSING,
    assert_stop_outcome,
    direct_payloads,
    expected_stop,
    fuzz,
    invoke,
    json_values,
    reset_deployments,
    sample,
)


@fuzz(300)
@given(
    detail=direct_payloads | st.just(MISSING),
    envelope=st.fixed_dictionaries(
        {},
        optional={
            "id": json_values,
            "source": json_values,
            "account": json_values,
            "resources": json_values,
            "version": json_values,
        },
    ),
)
def test_given_any_stop_request_event_when_invoked_then_detail_follows_the_direct_rules(
    deployments: Any, lambda_context: Any, detail: Any, envelope: dict[str, Any]
) -> None:
    reset_deployments()
    request: dict[str, Any] = sample("eventbridge-stop-request.json")
    request.update(envelope)
    if detail is MISSING:
        del request["detail"]
    else:
        request["detail"] = detail
    expected = expected_stop(request.get("detail"))

    outcome = invoke(request, lambda_context)

    assert isinstance(outcome, dict | errors.StopDeploymentError), repr(outcome)
    # A Stop Deployment Request whose deployment had already completed is a success: it is stopped.
    assert_stop_outcome(outcome, expected, completed_is_success=True)
