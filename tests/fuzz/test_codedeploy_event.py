"""Fuzzing the CodeDeploy state-change events and the sweep: whatever EventBridge brings, the function
answers or raises InvalidRequest, never stops anything (no group is frozen), and calls CodeDeploy
only to follow up a well-formed event about a deployment in its ledger."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local import fake_codedeploy
from local.world import IN_FLIGHT_ID, OTHER_TEAM_ID
from stop_deployment import errors
from stop_deployment.handler import lambda_handler
from tests.fuzz.strategies import (
    MISSING,
    calls,
    deployment_ids,
    fuzz,
    invoke,
    json_values,
    reset_deployments,
    sample,
    stopped,
    valid_format_ids,
)

STATES = ["START", "SUCCESS", "FAILURE", "STOP", "READY"]
# Well-formed details often, so that follow-ups are reached; then anything at all.
well_formed = st.fixed_dictionaries(
    {
        "deploymentId": st.sampled_from([IN_FLIGHT_ID, OTHER_TEAM_ID]) | valid_format_ids,
        "state": st.sampled_from(STATES),
    },
    optional={
        "application": st.text(min_size=1, max_size=100),
        "deploymentGroup": st.text(min_size=1, max_size=100),
    },
)
details = well_formed | st.fixed_dictionaries(
    {},
    optional={
        "deploymentId": deployment_ids | json_values,
        "state": st.sampled_from(STATES) | json_values,
        "application": st.text(max_size=120) | json_values,
        "deploymentGroup": st.text(max_size=120) | json_values,
        "region": json_values,
        "instanceGroupId": json_values,
    },
)


@pytest.fixture
def stop_in_ledger(deployments: Any, loop: str, lambda_context: Any) -> None:
    """d-LGUMS25CC stopped and in the ledger, its stop still pending (so no event can settle it)."""
    fake_codedeploy.set_stop_delay(3600)
    lambda_handler({"deploymentId": IN_FLIGHT_ID}, lambda_context)


@fuzz(300)
@given(
    detail=details | json_values | st.just(MISSING),
    event_id=st.one_of(st.uuids().map(str), st.just("same-id"), json_values),
)
def test_given_any_codedeploy_event_when_invoked_then_nothing_is_stopped_and_only_our_deployments_are_read(
    stop_in_ledger: None, lambda_context: Any, detail: Any, event_id: Any
) -> None:
    reset_deployments()
    event: dict[str, Any] = sample("codedeploy-state-change-stop.json")
    event["id"] = event_id
    if detail is MISSING:
        del event["detail"]
    else:
        event["detail"] = detail

    outcome = invoke(event, lambda_context)

    assert isinstance(outcome, dict | errors.InvalidRequest), repr(outcome)
    assert stopped() == []
    followed = (
        isinstance(outcome, dict)
        and outcome["deploymentId"] == IN_FLIGHT_ID
        and outcome["state"] in ("STOP", "SUCCESS", "FAILURE")
    )
    assert calls() == ([("GetDeployment", {"deploymentId": IN_FLIGHT_ID})] if followed else [])
    if isinstance(outcome, dict):
        assert outcome["outcome"] == _expected(outcome["state"], followed)


def _expected(state: str, followed: bool) -> str:
    if state == "START":
        return "not_frozen"  # nothing freezes a group here (tests/integration/test_freeze.py has freezes)
    if state in ("STOP", "SUCCESS", "FAILURE"):
        return "pending" if followed else "not_ours"
    return "ignored"


@fuzz(100)
@given(envelope=st.dictionaries(st.sampled_from(["id", "detail", "time", "resources"]), json_values))
def test_given_any_scheduled_event_when_invoked_then_the_sweep_only_reads(
    deployments: Any, loop: str, lambda_context: Any, envelope: dict[str, Any]
) -> None:
    reset_deployments()
    event: dict[str, Any] = {**sample("scheduled-sweep.json"), **envelope}

    outcome = invoke(event, lambda_context)

    assert isinstance(outcome, dict), repr(outcome)
    assert outcome["outcome"] == "swept"
    assert stopped() == []
    assert IN_FLIGHT_ID not in {params.get("deploymentId") for _, params in calls()}
