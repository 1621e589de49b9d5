"""How alarms, stop requests and starting deployments reach the stop function: the rules, the SNS
subscription, who may invoke.

The follow-ups' rule and schedule, which invoke the follow-up function, have their own module
(test_follow_up_triggers.py), and so does the freeze sweep's schedule (test_freezes.py); the Lambda
permissions of both functions and the rules' shared delivery settings are checked here for every
rule.
"""

import json
from collections.abc import Mapping
from typing import Any

import pytest

from tests.template.cfn import (
    ACCOUNT_ID,
    ALARM_ARN_PREFIX,
    ALARM_RULE_ID,
    CODEDEPLOY_RULE_ID,
    FOLLOW_UP_FUNCTION_ID,
    FREEZE_SWEEP_INPUT,
    FREEZE_SWEEP_RULE_ID,
    FUNCTION_ID,
    PSEUDO_PARAMETERS,
    QUEUE_ID,
    REQUEST_RULE_ID,
    START_RULE_ID,
    SWEEP_RULE_ID,
    TOPIC_ARN,
    load_event,
    pattern_matches,
    resources_of_type,
)

ALARM_PRINCIPAL = "lambda.alarms.cloudwatch.amazonaws.com"
EVENTS_PRINCIPAL = "events.amazonaws.com"
# The function each rule invokes: the stops' rules (freezes' included: START and the freeze sweep)
# the stop function, the follow-ups' the other.
RULE_TARGETS = {
    ALARM_RULE_ID: FUNCTION_ID,
    REQUEST_RULE_ID: FUNCTION_ID,
    START_RULE_ID: FUNCTION_ID,
    FREEZE_SWEEP_RULE_ID: FUNCTION_ID,
    CODEDEPLOY_RULE_ID: FOLLOW_UP_FUNCTION_ID,
    SWEEP_RULE_ID: FOLLOW_UP_FUNCTION_ID,
}


def _alarm_event(name: str, state: str, configuration: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "7f3c2a10-5b1e-4e0c-9a0d-2b6f1c9e8d41",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "region": "eu-west-1",
        "resources": [ALARM_ARN_PREFIX + name],
        "detail": {
            "alarmName": name,
            "state": {"value": state, "reason": "...", "timestamp": "2025-03-04T10:15:30.115+0000"},
            "previousState": {"value": "OK", "reason": "...", "timestamp": "2025-03-04T10:14:30.101+0000"},
            "configuration": configuration,
        },
    }


METRIC_CONFIGURATION = {"metrics": [{"id": "m1", "returnData": True}]}
COMPOSITE_CONFIGURATION = {"alarmRule": 'ALARM("kill-switch-checkout-5xx")'}
STOP_REQUEST_EVENT = {
    "version": "0",
    "id": "0d5e1c3a-7b2f-4e6d-8c9a-1b2c3d4e5f60",
    "detail-type": "Stop Deployment Request",
    "source": "com.example.release-tooling",
    "account": "123456789012",
    "region": "eu-west-1",
    "resources": [],
    "detail": {"deploymentId": "d-7QK2M4X1B", "autoRollbackEnabled": True},
}


@pytest.mark.parametrize(
    ("parameters", "stop_principals"),
    [
        ({}, ["apigateway.amazonaws.com"] * 8 + [EVENTS_PRINCIPAL] * 4 + [ALARM_PRINCIPAL]),
        (
            {"AlarmTopicArn": TOPIC_ARN},
            ["apigateway.amazonaws.com"] * 8
            + [EVENTS_PRINCIPAL] * 4
            + [ALARM_PRINCIPAL, "sns.amazonaws.com"],
        ),
    ],
)
def test_only_the_intended_services_may_invoke_each_function(
    cfn_template: dict[str, Any], parameters: dict[str, str], stop_principals: list[str]
) -> None:
    # Given the Lambda permissions, Then the stop function is invoked by the API, the stops' rules
    # (alarms, stop requests, deployments that start, the freeze sweep), alarms (and the alarm
    # topic), and the follow-up function by the follow-ups' two rules only. (The stop function's
    # invocation of itself needs no permission here: its role, of the same account, suffices.)
    permissions = resources_of_type(cfn_template, "AWS::Lambda::Permission", **parameters).values()

    principals: dict[str, list[str]] = {}
    rules: dict[str, list[str]] = {}
    for permission in permissions:
        function = permission["FunctionName"].removesuffix(".Arn")
        principals.setdefault(function, []).append(permission["Principal"])
        if permission["Principal"] == EVENTS_PRINCIPAL:
            rules.setdefault(function, []).append(permission["SourceArn"])
    assert {function: sorted(found) for function, found in principals.items()} == {
        FUNCTION_ID: sorted(stop_principals),
        FOLLOW_UP_FUNCTION_ID: [EVENTS_PRINCIPAL] * 2,
    }
    assert {function: sorted(found) for function, found in rules.items()} == {
        FUNCTION_ID: sorted(
            f"{rule_id}.Arn"
            for rule_id in (ALARM_RULE_ID, REQUEST_RULE_ID, START_RULE_ID, FREEZE_SWEEP_RULE_ID)
        ),
        FOLLOW_UP_FUNCTION_ID: sorted([f"{CODEDEPLOY_RULE_ID}.Arn", f"{SWEEP_RULE_ID}.Arn"]),
    }
    assert {p["Action"] for p in permissions} == {"lambda:InvokeFunction"}
    assert all(p.get("SourceArn") for p in permissions)


@pytest.mark.parametrize("prefix", ["kill-switch-", "stop-"])
def test_only_this_accounts_alarms_named_with_the_prefix_may_invoke_the_function(
    cfn_template: dict[str, Any], prefix: str
) -> None:
    permissions = resources_of_type(cfn_template, "AWS::Lambda::Permission", AlarmNamePrefix=prefix).values()

    [alarm_action] = [p for p in permissions if p["Principal"] == ALARM_PRINCIPAL]
    assert alarm_action["SourceArn"] == f"{ALARM_ARN_PREFIX}{prefix}*"
    assert alarm_action["SourceAccount"] == PSEUDO_PARAMETERS["AWS::AccountId"]


@pytest.mark.parametrize("prefix", ["kill-switch-", "stop-"])
def test_alarm_rule_routes_only_alarms_named_with_the_prefix_going_to_alarm(
    cfn_template: dict[str, Any], prefix: str
) -> None:
    rules = resources_of_type(cfn_template, "AWS::Events::Rule", AlarmNamePrefix=prefix)
    pattern = rules[ALARM_RULE_ID]["EventPattern"]

    assert pattern == {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": [{"prefix": prefix}], "state": {"value": ["ALARM"]}},
    }
    for configuration in (METRIC_CONFIGURATION, COMPOSITE_CONFIGURATION):
        assert pattern_matches(pattern, _alarm_event(f"{prefix}checkout-5xx", "ALARM", configuration))
        assert not pattern_matches(pattern, _alarm_event(f"{prefix}checkout-5xx", "OK", configuration))
        assert not pattern_matches(
            pattern, _alarm_event(f"{prefix}checkout-5xx", "INSUFFICIENT_DATA", configuration)
        )
        assert not pattern_matches(
            pattern, _alarm_event(f"other-{prefix}checkout-5xx", "ALARM", configuration)
        )
    assert not pattern_matches(pattern, STOP_REQUEST_EVENT)


def test_stop_request_rule_takes_stop_deployment_requests_from_any_source(
    cfn_template: dict[str, Any],
) -> None:
    rules = resources_of_type(cfn_template, "AWS::Events::Rule")
    pattern = rules[REQUEST_RULE_ID]["EventPattern"]

    assert pattern == {"detail-type": ["Stop Deployment Request"]}
    assert pattern_matches(pattern, STOP_REQUEST_EVENT)
    assert pattern_matches(pattern, {**STOP_REQUEST_EVENT, "source": "my.other.tool"})
    assert not pattern_matches(
        pattern, _alarm_event("kill-switch-checkout-5xx", "ALARM", METRIC_CONFIGURATION)
    )


def test_start_rule_routes_only_deployments_that_start_to_the_stop_function(
    cfn_template: dict[str, Any],
) -> None:
    # Given the rules SAM makes, Then CodeDeploy's START events (of every deployment group: the
    # function checks the freezes and its allowlist) reach the stop function through one rule, and
    # no other state, event or source matches it.
    rules = resources_of_type(cfn_template, "AWS::Events::Rule")
    pattern = rules[START_RULE_ID]["EventPattern"]
    start = load_event("codedeploy-state-change-start.json")

    assert pattern == {
        "account": [ACCOUNT_ID],
        "source": ["aws.codedeploy"],
        "detail-type": ["CodeDeploy Deployment State-change Notification"],
        "detail": {"state": ["START"]},
    }
    assert [target["Arn"] for target in rules[START_RULE_ID]["Targets"]] == [f"{FUNCTION_ID}.Arn"]
    patterns = {rule_id: rule["EventPattern"] for rule_id, rule in rules.items() if "EventPattern" in rule}
    matching = [rule_id for rule_id, found in patterns.items() if pattern_matches(found, start)]
    assert matching == [START_RULE_ID]
    for state in ("STOP", "SUCCESS", "FAILURE", "READY"):
        assert not pattern_matches(pattern, {**start, "detail": {**start["detail"], "state": state}})
    assert not pattern_matches(pattern, {**start, "source": "com.example.spoof"})
    assert not pattern_matches(pattern, {**start, "account": "999999999999"})  # forwarded by a bus
    instance_event = {**start, "detail-type": "CodeDeploy Instance State-change Notification"}
    assert not pattern_matches(pattern, instance_event)
    assert not pattern_matches(pattern, STOP_REQUEST_EVENT)


def test_every_rule_uses_the_default_bus_bounded_retries_and_the_failed_queue(
    cfn_template: dict[str, Any],
) -> None:
    rules = resources_of_type(cfn_template, "AWS::Events::Rule")

    assert set(rules) == set(RULE_TARGETS)
    for rule_id, rule in rules.items():
        assert "EventBusName" not in rule  # the default bus
        assert rule.get("State", "ENABLED") == "ENABLED"
        [target] = rule["Targets"]
        assert target["Arn"] == f"{RULE_TARGETS[rule_id]}.Arn"
        # The event as it is, but for the freeze sweep's own input (test_freezes.py).
        if rule_id == FREEZE_SWEEP_RULE_ID:
            assert json.loads(target["Input"]) == FREEZE_SWEEP_INPUT
            assert not {"InputPath", "InputTransformer"} & set(target)
        else:
            assert not {"Input", "InputPath", "InputTransformer"} & set(target)
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 600}
        assert target["DeadLetterConfig"] == {"Arn": f"{QUEUE_ID}.Arn"}


def test_alarm_topic_subscription_exists_only_when_a_topic_is_given(cfn_template: dict[str, Any]) -> None:
    assert resources_of_type(cfn_template, "AWS::SNS::Subscription") == {}

    [subscription] = resources_of_type(
        cfn_template, "AWS::SNS::Subscription", AlarmTopicArn=TOPIC_ARN, AlarmNamePrefix="stop-"
    ).values()
    assert subscription == {
        "Protocol": "lambda",
        "Endpoint": f"{FUNCTION_ID}.Arn",
        "TopicArn": TOPIC_ARN,
        "Region": "eu-central-1",
        "FilterPolicyScope": "MessageBody",
        "FilterPolicy": {"AlarmName": [{"prefix": "stop-"}], "NewStateValue": ["ALARM"]},
    }
    permissions = resources_of_type(cfn_template, "AWS::Lambda::Permission", AlarmTopicArn=TOPIC_ARN).values()
    [sns] = [p for p in permissions if p["Principal"] == "sns.amazonaws.com"]
    assert sns["SourceArn"] == TOPIC_ARN


def test_subscription_filter_passes_alarm_notifications_of_the_prefix_only(
    cfn_template: dict[str, Any],
) -> None:
    [subscription] = resources_of_type(
        cfn_template, "AWS::SNS::Subscription", AlarmTopicArn=TOPIC_ARN
    ).values()
    message = {"AlarmName": "kill-switch-checkout-5xx", "NewStateValue": "ALARM", "OldStateValue": "OK"}

    assert pattern_matches(subscription["FilterPolicy"], message)
    assert not pattern_matches(subscription["FilterPolicy"], {**message, "NewStateValue": "OK"})
    assert not pattern_matches(subscription["FilterPolicy"], {**message, "AlarmName": "checkout-5xx"})
