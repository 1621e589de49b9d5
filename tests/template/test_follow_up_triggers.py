"""How follow-ups reach the follow-up function: CodeDeploy's state-change events, and the sweep's schedule.

They have a function of their own so that they never take the stop function's reserved concurrency.
Only START (a deployment that starts, for freezes) goes to the stop function instead, through a rule
of its own (test_alarm_routing.py), and so does the freeze sweep's schedule, which stops deployments
(test_freezes.py). The rules' delivery (default bus, retries, dead letters) and who
may invoke are checked with the other rules in test_alarm_routing.py, the queue policy in
test_operations.py.
"""

from typing import Any

import pytest

from stop_deployment.triggers import deployment_event, sweep
from tests.template.cfn import (
    ACCOUNT_ID,
    ALARM_RULE_ID,
    CODEDEPLOY_RULE_ID,
    FOLLOW_UP_FUNCTION_ID,
    FREEZE_SWEEP_INPUT,
    FUNCTION_ID,
    REQUEST_RULE_ID,
    START_RULE_ID,
    SWEEP_RULE_ID,
    load_event,
    pattern_matches,
    resources_of_type,
)

CODEDEPLOY_EVENTS = ["codedeploy-state-change-stop.json", "codedeploy-state-change-success.json"]
START_EVENT = "codedeploy-state-change-start.json"  # the stop function's (freezes)
# The fields of every EventBridge event, and of a CodeDeploy deployment's state change (as in
# aws/aws-lambda-go events/testdata/codedeploy-deployment-event.json).
ENVELOPE = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
CODEDEPLOY_DETAIL = {"instanceGroupId", "region", "application", "deploymentId", "state", "deploymentGroup"}


def _codedeploy_event(state: str) -> dict[str, Any]:
    event: dict[str, Any] = load_event("codedeploy-state-change-stop.json")
    event["detail"]["state"] = state
    return event


def test_codedeploy_events_and_the_sweep_invoke_the_follow_up_function_not_the_stop_function(
    sam_template: dict[str, Any], cfn_template: dict[str, Any]
) -> None:
    # Given the template as written, Then the follow-up function has exactly the two follow-up
    # events, and the stop function none of them (its events are the ways in of the stops).
    events = {
        function_id: sam_template["Resources"][function_id]["Properties"]["Events"]
        for function_id in (FUNCTION_ID, FOLLOW_UP_FUNCTION_ID)
    }
    assert set(events[FOLLOW_UP_FUNCTION_ID]) == {"CodeDeployStateChange", "SweepUnconfirmedStops"}
    assert {event["Type"] for event in events[FOLLOW_UP_FUNCTION_ID].values()} == {
        "EventBridgeRule",
        "Schedule",
    }
    assert not {"CodeDeployStateChange", "SweepUnconfirmedStops"} & set(events[FUNCTION_ID])
    # The stop function's only schedule is the freeze sweep's (it stops deployments), never this one.
    schedules = {name for name, event in events[FUNCTION_ID].items() if event["Type"] == "Schedule"}
    assert schedules == {"SweepFrozenGroups"}
    # The stop function's only CodeDeploy event is START, for freezes.
    from_codedeploy = {
        name
        for name, event in events[FUNCTION_ID].items()
        if "aws.codedeploy" in event["Properties"].get("Pattern", {}).get("source", [])
    }
    assert from_codedeploy == {"CodeDeployStart"}

    # When SAM makes the rules, Then both target the follow-up function.
    rules = resources_of_type(cfn_template, "AWS::Events::Rule")
    for rule_id in (CODEDEPLOY_RULE_ID, SWEEP_RULE_ID):
        assert [target["Arn"] for target in rules[rule_id]["Targets"]] == [f"{FOLLOW_UP_FUNCTION_ID}.Arn"]


def test_codedeploy_rule_routes_stop_success_and_failure_of_deployments(cfn_template: dict[str, Any]) -> None:
    rules = resources_of_type(cfn_template, "AWS::Events::Rule")
    pattern = rules[CODEDEPLOY_RULE_ID]["EventPattern"]

    assert pattern == {
        "source": ["aws.codedeploy"],
        "detail-type": ["CodeDeploy Deployment State-change Notification"],
        "detail": {"state": ["STOP", "SUCCESS", "FAILURE"]},
    }
    for name in CODEDEPLOY_EVENTS:
        assert pattern_matches(pattern, load_event(name))
    for state in ("STOP", "SUCCESS", "FAILURE"):
        assert pattern_matches(pattern, _codedeploy_event(state))
    for state in ("START", "READY"):  # START goes to the stop function (freezes); READY to no one
        assert not pattern_matches(pattern, _codedeploy_event(state))
    assert not pattern_matches(pattern, load_event(START_EVENT))
    instance_event = {
        **_codedeploy_event("SUCCESS"),
        "detail-type": "CodeDeploy Instance State-change Notification",
    }
    assert not pattern_matches(pattern, instance_event)
    assert not pattern_matches(pattern, {**_codedeploy_event("STOP"), "source": "com.example.spoof"})
    # And the other rules do not take these events.
    for other in (ALARM_RULE_ID, REQUEST_RULE_ID, START_RULE_ID):
        assert not pattern_matches(rules[other]["EventPattern"], load_event(CODEDEPLOY_EVENTS[0]))


def test_codedeploy_rule_delivers_every_state_the_function_follows(cfn_template: dict[str, Any]) -> None:
    pattern = resources_of_type(cfn_template, "AWS::Events::Rule")[CODEDEPLOY_RULE_ID]["EventPattern"]

    assert pattern["source"] == [deployment_event.SOURCE]
    assert pattern["detail-type"] == [deployment_event.DETAIL_TYPE]
    assert set(deployment_event.FOLLOWED_STATES) <= set(pattern["detail"]["state"])


def test_sweep_runs_every_five_minutes_and_passes_the_scheduled_event_as_it_is(
    cfn_template: dict[str, Any],
) -> None:
    rule = resources_of_type(cfn_template, "AWS::Events::Rule")[SWEEP_RULE_ID]

    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert "EventPattern" not in rule
    [target] = rule["Targets"]
    # No Input: the function recognises EventBridge's own "Scheduled Event".
    assert not {"Input", "InputPath", "InputTransformer"} & set(target)
    assert sweep.recognise(load_event("scheduled-sweep.json")) == "follow-ups"
    # And the freeze sweep's input (the stop function's schedule) is not taken for this sweep.
    assert sweep.recognise(FREEZE_SWEEP_INPUT) == "freezes"


@pytest.mark.parametrize("name", [*CODEDEPLOY_EVENTS, START_EVENT])
def test_codedeploy_event_files_have_the_real_shape(name: str) -> None:
    event = load_event(name)

    assert set(event) == ENVELOPE
    assert set(event["detail"]) == CODEDEPLOY_DETAIL
    detail = event["detail"]
    assert (detail["deploymentId"], detail["application"], detail["deploymentGroup"]) == (
        "d-LGUMS25CC",
        "checkout",
        "prod",
    )
    assert detail["region"] == event["region"] == "us-east-1"
    assert event["account"] == ACCOUNT_ID
    prefix = f"arn:aws:codedeploy:us-east-1:{ACCOUNT_ID}:"
    assert event["resources"] == [prefix + "application:checkout", prefix + "deploymentgroup:checkout/prod"]
    assert detail["state"] == name.removeprefix("codedeploy-state-change-").removesuffix(".json").upper()
    assert deployment_event.recognise(event) is True


def test_scheduled_sweep_event_file_has_the_real_shape() -> None:
    event = load_event("scheduled-sweep.json")

    assert set(event) == ENVELOPE
    assert (event["source"], event["detail-type"], event["detail"]) == ("aws.events", "Scheduled Event", {})
    [rule_arn] = event["resources"]
    assert rule_arn.startswith(f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/")
