"""Failures and telemetry: retries, the failed-invocations queue, the CloudWatch alarms and the log groups."""

from collections.abc import Mapping
from typing import Any

import pytest

from stop_deployment import observability
from tests.template.cfn import (
    ACCESS_LOG_GROUP_ID,
    ALARM_RULE_ID,
    CODEDEPLOY_RULE_ID,
    FOLLOW_UP_FUNCTION_ID,
    FOLLOW_UP_LOG_GROUP_ID,
    FREEZE_SWEEP_RULE_ID,
    FUNCTION_ID,
    FUNCTION_IDS,
    FUNCTION_LOG_GROUP_ID,
    QUEUE_ID,
    REQUEST_RULE_ID,
    SEND_MESSAGE,
    START_RULE_ID,
    SWEEP_RULE_ID,
    Evaluator,
    function_properties,
    resources_of_type,
)


def _alarms(cfn_template: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every CloudWatch alarm of the stack, evaluated for the defaults."""
    return [
        Evaluator(cfn_template).resolve(resource["Properties"])
        for resource in cfn_template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]


def _fires_on_one_in_a_minute(alarm: Mapping[str, Any]) -> None:
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 60, 1)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert alarm["TreatMissingData"] == "notBreaching"


def test_asynchronous_invocations_of_both_functions_retry_twice_then_go_to_the_failed_queue(
    cfn_template: dict[str, Any],
) -> None:
    configs = resources_of_type(cfn_template, "AWS::Lambda::EventInvokeConfig").values()

    assert sorted(config["FunctionName"] for config in configs) == sorted(FUNCTION_IDS)
    for config in configs:
        assert config["Qualifier"] == "$LATEST"
        assert config["MaximumRetryAttempts"] == 2
        assert 60 <= config["MaximumEventAgeInSeconds"] <= 900
        assert config["DestinationConfig"] == {"OnFailure": {"Destination": f"{QUEUE_ID}.Arn"}}

    queue = resources_of_type(cfn_template, "AWS::SQS::Queue")[QUEUE_ID]
    assert queue == {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 24 * 60 * 60}


def test_failed_queue_accepts_dead_letters_only_from_the_stacks_rules(cfn_template: dict[str, Any]) -> None:
    [policy] = resources_of_type(cfn_template, "AWS::SQS::QueuePolicy").values()

    assert policy["Queues"] == [QUEUE_ID]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Sid": "EventBridgeRuleDeadLetters",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": SEND_MESSAGE,
            "Resource": f"{QUEUE_ID}.Arn",
            "Condition": {
                "ArnEquals": {
                    "aws:SourceArn": [
                        f"{ALARM_RULE_ID}.Arn",
                        f"{REQUEST_RULE_ID}.Arn",
                        f"{START_RULE_ID}.Arn",
                        f"{FREEZE_SWEEP_RULE_ID}.Arn",
                        f"{CODEDEPLOY_RULE_ID}.Arn",
                        f"{SWEEP_RULE_ID}.Arn",
                    ]
                }
            },
        }
    ]


def test_failed_invocations_alarm_fires_on_one_visible_message(cfn_template: dict[str, Any]) -> None:
    alarms = resources_of_type(cfn_template, "AWS::CloudWatch::Alarm").values()

    [failed] = [alarm for alarm in alarms if alarm["Namespace"] == "AWS/SQS"]
    assert failed["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert failed["Dimensions"] == [{"Name": "QueueName", "Value": f"{QUEUE_ID}.QueueName"}]
    assert (failed["Statistic"], failed["Period"], failed["EvaluationPeriods"]) == ("Maximum", 60, 1)
    assert (failed["ComparisonOperator"], failed["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert failed["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_each_function_has_an_alarm_on_one_error_and_one_throttle_in_a_minute(
    cfn_template: dict[str, Any], metric: str
) -> None:
    on_metric = [alarm for alarm in _alarms(cfn_template) if alarm["MetricName"] == metric]

    assert sorted(alarm["Dimensions"][0]["Value"] for alarm in on_metric) == sorted(FUNCTION_IDS)
    for alarm in on_metric:
        assert alarm["Namespace"] == "AWS/Lambda"
        assert [dimension["Name"] for dimension in alarm["Dimensions"]] == ["FunctionName"]
        _fires_on_one_in_a_minute(alarm)


@pytest.mark.parametrize("metric", ["RollbacksFailed", "NotificationsFailed"])
def test_a_failed_rollback_or_notification_raises_an_alarm_on_the_functions_own_metric(
    cfn_template: dict[str, Any], metric: str
) -> None:
    # Given the metric as the code emits it (the functions' namespace, the one dimension service),
    # Then one occurrence in a minute raises the alarm, handled like the function's Errors alarm.
    # The metric goes through the logs, not SNS: a failed rollback is raised even when SNS fails.
    variables = function_properties(cfn_template, FOLLOW_UP_FUNCTION_ID)["Environment"]["Variables"]
    alarms = _alarms(cfn_template)

    [alarm] = [alarm for alarm in alarms if alarm["MetricName"] == metric]
    assert alarm["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"] == observability.NAMESPACE
    assert alarm["Dimensions"] == [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}]
    assert variables["POWERTOOLS_SERVICE_NAME"] == observability.SERVICE
    _fires_on_one_in_a_minute(alarm)
    [errors] = [
        a for a in alarms if a["MetricName"] == "Errors" and a["Dimensions"][0]["Value"] == FUNCTION_ID
    ]
    assert {key: value for key, value in alarm.items() if key.endswith("Actions")} == {
        key: value for key, value in errors.items() if key.endswith("Actions")
    }


@pytest.mark.parametrize(
    ("function_id", "log_group_id", "name"),
    [
        (FUNCTION_ID, FUNCTION_LOG_GROUP_ID, "/aws/lambda/stop-deployment-StopDeployment"),
        (FOLLOW_UP_FUNCTION_ID, FOLLOW_UP_LOG_GROUP_ID, "/aws/lambda/stop-deployment-FollowUp"),
    ],
)
def test_each_function_logs_to_its_own_log_group_with_retention(
    cfn_template: dict[str, Any], function_id: str, log_group_id: str, name: str
) -> None:
    logging_config = Evaluator(cfn_template).resolve(
        function_properties(cfn_template, function_id)["LoggingConfig"]
    )

    assert logging_config["LogGroup"] == log_group_id
    log_group = cfn_template["Resources"][log_group_id]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert Evaluator(cfn_template).resolve(log_group["Properties"]["LogGroupName"]) == name
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    assert (log_group["DeletionPolicy"], log_group["UpdateReplacePolicy"]) == ("Delete", "Delete")
    assert cfn_template["Parameters"]["LogRetentionInDays"]["Default"] == 30
    assert logging_config["LogFormat"] == "JSON"


@pytest.mark.parametrize("retention", ["1", "30", "3653"])
def test_every_log_group_keeps_logs_for_the_log_retention_parameter(
    cfn_template: dict[str, Any], retention: str
) -> None:
    log_groups = resources_of_type(cfn_template, "AWS::Logs::LogGroup", LogRetentionInDays=retention)

    assert {logical_id: group["RetentionInDays"] for logical_id, group in log_groups.items()} == {
        FUNCTION_LOG_GROUP_ID: retention,
        FOLLOW_UP_LOG_GROUP_ID: retention,
        ACCESS_LOG_GROUP_ID: retention,
    }
