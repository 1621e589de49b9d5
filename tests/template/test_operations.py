"""Failures and telemetry: retries, the failed-invocations queue, the CloudWatch alarms and the log groups."""

from typing import Any

import pytest

from tests.template.cfn import (
    ACCESS_LOG_GROUP_ID,
    ALARM_RULE_ID,
    CODEDEPLOY_RULE_ID,
    FUNCTION_ID,
    FUNCTION_LOG_GROUP_ID,
    QUEUE_ID,
    REQUEST_RULE_ID,
    SEND_MESSAGE,
    SWEEP_RULE_ID,
    Evaluator,
    function_properties,
    resources_of_type,
)


def test_asynchronous_invocations_retry_twice_then_go_to_the_failed_queue(
    cfn_template: dict[str, Any],
) -> None:
    [config] = resources_of_type(cfn_template, "AWS::Lambda::EventInvokeConfig").values()

    assert config["FunctionName"] == FUNCTION_ID
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


def test_errors_alarm_fires_on_one_function_error_in_a_minute(cfn_template: dict[str, Any]) -> None:
    alarms = [
        Evaluator(cfn_template).resolve(resource["Properties"])
        for resource in cfn_template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]

    [errors] = [alarm for alarm in alarms if alarm["MetricName"] == "Errors"]
    assert errors["Namespace"] == "AWS/Lambda"
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": FUNCTION_ID}]
    assert (errors["Statistic"], errors["Period"], errors["EvaluationPeriods"]) == ("Sum", 60, 1)
    assert (errors["ComparisonOperator"], errors["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_function_logs_to_its_own_log_group_with_retention(cfn_template: dict[str, Any]) -> None:
    logging_config = Evaluator(cfn_template).resolve(function_properties(cfn_template)["LoggingConfig"])

    log_group = cfn_template["Resources"][logging_config["LogGroup"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    assert cfn_template["Parameters"]["LogRetentionInDays"]["Default"] == 30
    assert logging_config["LogFormat"] == "JSON"


@pytest.mark.parametrize("retention", ["1", "30", "3653"])
def test_both_log_groups_keep_logs_for_the_log_retention_parameter(
    cfn_template: dict[str, Any], retention: str
) -> None:
    log_groups = resources_of_type(cfn_template, "AWS::Logs::LogGroup", LogRetentionInDays=retention)

    assert {logical_id: group["RetentionInDays"] for logical_id, group in log_groups.items()} == {
        FUNCTION_LOG_GROUP_ID: retention,
        ACCESS_LOG_GROUP_ID: retention,
    }
