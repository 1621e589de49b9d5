"""Freezes in the template: the freeze sweep's schedule, and what the stop role allows, call by call,
for the sweep and for the manual freezes set, lifted and listed through the API.

The manual-freeze routes themselves are checked with the other routes (test_http_api.py); START, the
other way freezes are enforced, with the stop function's rules (test_alarm_routing.py); the roles'
statements one by one in the test_iam_*.py modules (the freezes' reads in
test_iam_deployments_and_alarms.py, the ledger's in test_iam_ledger_and_topic.py).
"""

import json
from typing import Any

import pytest

from stop_deployment.ledger import FREEZES_KEY
from stop_deployment.triggers import sweep
from tests.template.cfn import (
    APPLICATION_ARN_PREFIX,
    BATCH_GET,
    DOCUMENT_ARN_PREFIX,
    FOLLOW_UP_FUNCTION_ID,
    FREEZE_CALENDARS,
    FREEZE_SWEEP_INPUT,
    FREEZE_SWEEP_RULE_ID,
    FUNCTION_ID,
    GET,
    GET_CALENDAR_STATE,
    GET_ITEM,
    GROUP_ARN_PREFIX,
    LIST,
    LIST_APPLICATIONS,
    LIST_GROUPS,
    PUT_ITEM,
    QUEUE_ID,
    STOP,
    SWEEP_RULE_ID,
    TABLE_ID,
    UPDATE_ITEM,
    allows,
    load_event,
    resources_of_type,
    role_statements,
)

TABLE_ARN = f"{TABLE_ID}.Arn"  # what Evaluator makes of !GetAtt StopsTable.Arn


def test_freeze_sweep_runs_every_five_minutes_on_the_stop_function_with_its_own_input(
    sam_template: dict[str, Any], cfn_template: dict[str, Any]
) -> None:
    # Given the stop function's SweepFrozenGroups event, When SAM makes its rule, Then every 5
    # minutes it sends the stop function exactly {"sweep": "freezes"}, the shape the function
    # recognises as the freeze sweep (and events/freeze-sweep.json, which `sam local invoke` uses).
    event = sam_template["Resources"][FUNCTION_ID]["Properties"]["Events"]["SweepFrozenGroups"]
    assert event["Type"] == "Schedule"

    rule = resources_of_type(cfn_template, "AWS::Events::Rule")[FREEZE_SWEEP_RULE_ID]

    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert rule.get("State", "ENABLED") == "ENABLED"
    assert "EventPattern" not in rule
    [target] = rule["Targets"]
    assert target["Arn"] == f"{FUNCTION_ID}.Arn"
    assert json.loads(target["Input"]) == FREEZE_SWEEP_INPUT == load_event("freeze-sweep.json")
    assert not {"InputPath", "InputTransformer"} & set(target)
    assert sweep.recognise(json.loads(target["Input"])) == "freezes"
    # A sweep that cannot be delivered ends in the failed-invocations queue, like the other rules'.
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 600}
    assert target["DeadLetterConfig"] == {"Arn": f"{QUEUE_ID}.Arn"}


def test_the_follow_up_function_gets_no_freeze_sweep_and_cannot_stop_anything(
    sam_template: dict[str, Any], cfn_template: dict[str, Any]
) -> None:
    # The freeze sweep stops deployments, so it is the stop function's: the follow-up function's
    # only schedule is its own sweep, with no Input, and its role may stop nothing whatever the
    # options.
    follow_up_events = sam_template["Resources"][FOLLOW_UP_FUNCTION_ID]["Properties"]["Events"]
    schedules = {name for name, event in follow_up_events.items() if event["Type"] == "Schedule"}
    assert schedules == {"SweepUnconfirmedStops"}
    rules = resources_of_type(cfn_template, "AWS::Events::Rule")
    to_follow_up = [
        rule_id
        for rule_id, rule in rules.items()
        if any(target["Arn"] == f"{FOLLOW_UP_FUNCTION_ID}.Arn" for target in rule["Targets"])
    ]
    assert FREEZE_SWEEP_RULE_ID not in to_follow_up
    assert "Input" not in rules[SWEEP_RULE_ID]["Targets"][0]

    for discover in ("true", "false"):
        for calendars in ("", FREEZE_CALENDARS):
            statements = role_statements(
                cfn_template,
                function_id=FOLLOW_UP_FUNCTION_ID,
                DiscoverAlarmTargets=discover,
                FreezeCalendars=calendars,
            )
            assert not allows(statements, STOP, "*")
            assert not allows(statements, LIST_APPLICATIONS, "*")
            assert not allows(statements, GET_CALENDAR_STATE, DOCUMENT_ARN_PREFIX + "holiday-freeze")


@pytest.mark.parametrize("discover", ["true", "false"])
@pytest.mark.parametrize("calendars", ["", FREEZE_CALENDARS])
@pytest.mark.parametrize("allowed", ["*", "checkout/prod,*/staging"])
def test_stop_role_allows_every_call_of_the_freeze_sweep_whatever_the_options(
    cfn_template: dict[str, Any], discover: str, calendars: str, allowed: str
) -> None:
    # Given any options (discovery off included: the sweep expands globs such as */prod on its own),
    # Then the stop role may read the freezes item, list the applications and their groups, list and
    # read the deployments in flight in an allowed group and stop them, and, with calendars, read
    # their state.
    statements = role_statements(
        cfn_template,
        DiscoverAlarmTargets=discover,
        FreezeCalendars=calendars,
        AllowedDeploymentGroups=allowed,
    )
    group = GROUP_ARN_PREFIX + "checkout/prod"

    assert allows(statements, GET_ITEM, TABLE_ARN, [FREEZES_KEY])
    assert allows(statements, LIST_APPLICATIONS, "*")
    for application in ("checkout", "payments"):  # any application a glob's first part matches
        assert allows(statements, LIST_GROUPS, APPLICATION_ARN_PREFIX + application)
    for action in (LIST, BATCH_GET, GET):
        assert allows(statements, action, group)
    assert allows(statements, STOP, "*")
    assert allows(statements, PUT_ITEM, TABLE_ARN, ["d-7QK2M4X1B"])  # the stop, recorded
    calendar = DOCUMENT_ARN_PREFIX + "holiday-freeze"
    assert allows(statements, GET_CALENDAR_STATE, calendar) is bool(calendars)
    # The deployments themselves stay readable in the allowed groups only.
    assert allows(statements, LIST, GROUP_ARN_PREFIX + "payments/prod") is (allowed == "*")


def test_stop_role_may_set_lift_and_list_manual_freezes_on_the_freezes_item_only(
    cfn_template: dict[str, Any],
) -> None:
    # Given the default options, Then PUT /freezes/... may create the freezes item (the first
    # freeze ever: a conditional PutItem) or add to it (UpdateItem SET), DELETE may remove one
    # (UpdateItem REMOVE with ReturnValues, which needs no permission of its own) and GET /freezes
    # may read it; updates reach no stop's item (reads may: Slack's status command), and nothing may
    # delete, query or scan.
    statements = role_statements(cfn_template)

    for action in (GET_ITEM, UPDATE_ITEM, PUT_ITEM):
        assert allows(statements, action, TABLE_ARN, [FREEZES_KEY]), action
    assert not allows(statements, UPDATE_ITEM, TABLE_ARN, ["d-7QK2M4X1B"])
    assert not allows(statements, UPDATE_ITEM, TABLE_ARN, [FREEZES_KEY, "d-7QK2M4X1B"])
    assert not allows(statements, UPDATE_ITEM, TABLE_ARN, ["freezes-x"])  # that item only
    assert allows(statements, GET_ITEM, TABLE_ARN, ["d-7QK2M4X1B"])
    for action in ("dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchWriteItem"):
        assert not allows(statements, action, TABLE_ARN, [FREEZES_KEY]), action
    # No condition narrows what an update may return or touch.
    conditions = [json.dumps(s["Condition"]) for s in statements if "Condition" in s]
    assert not [c for c in conditions if "dynamodb:ReturnValues" in c or "dynamodb:Attributes" in c]
