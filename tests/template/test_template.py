"""template.yaml as a whole: lint-clean, and SAM makes exactly the expected resources and outputs."""

from typing import Any

import pytest
from cfnlint.api import lint_file  # type: ignore[import-untyped]
from cfnlint.config import ManualArgs  # type: ignore[import-untyped]

from tests.template.cfn import (
    API_ID,
    FOLLOW_UP_FUNCTION_ID,
    FUNCTION_ID,
    NOTIFY_TOPIC_ARN,
    NOTIFY_TOPIC_ID,
    QUEUE_ID,
    TABLE_ID,
    TEMPLATE_PATH,
    Evaluator,
)


def test_cfn_lint_finds_nothing_not_even_informational() -> None:
    matches = lint_file(TEMPLATE_PATH, config=ManualArgs(include_checks=["I"]))

    assert [str(match) for match in matches] == []


def test_sam_translator_makes_only_the_expected_resources(cfn_template: dict[str, Any]) -> None:
    types = sorted(resource["Type"] for resource in cfn_template["Resources"].values())

    assert types == sorted(
        [
            *["AWS::Lambda::Function"] * 2,  # the stops, the follow-ups
            *["AWS::IAM::Role"] * 2,
            *["AWS::Lambda::EventInvokeConfig"] * 2,
            # eight routes, six EventBridge rules, the alarm action, the alarm topic (conditional)
            *["AWS::Lambda::Permission"] * 16,
            "AWS::ApiGatewayV2::Api",
            "AWS::ApiGatewayV2::Stage",
            # alarms, stop requests, deployments that start and the freeze sweep (freezes), how
            # deployments end, the follow-ups' sweep
            *["AWS::Events::Rule"] * 6,
            "AWS::Events::EventBusPolicy",  # member accounts' forwarded events (conditional)
            "AWS::SNS::Subscription",
            "AWS::DynamoDB::Table",  # the stop ledger
            "AWS::SNS::Topic",  # notifications (conditional)
            "AWS::KMS::Key",  # the notification topic's key (conditional)
            "AWS::SQS::Queue",
            "AWS::SQS::QueuePolicy",
            *["AWS::Logs::LogGroup"] * 2,  # the functions' logs
            "AWS::Logs::LogGroup",  # the HTTP API's access logs
            *["AWS::CloudWatch::Alarm"] * 4,  # each function's errors and throttles
            "AWS::CloudWatch::Alarm",  # failed invocations
            *["AWS::CloudWatch::Alarm"] * 2,  # failed rollbacks, failed notifications
        ]
    )


@pytest.mark.parametrize(
    ("parameters", "topic"), [({}, NOTIFY_TOPIC_ID), ({"NotifyTopicArn": NOTIFY_TOPIC_ARN}, NOTIFY_TOPIC_ARN)]
)
def test_outputs_give_the_api_url_the_functions_the_table_and_the_topic(
    cfn_template: dict[str, Any], parameters: dict[str, str], topic: str
) -> None:
    outputs = Evaluator(cfn_template, parameters).resolve(cfn_template["Outputs"])

    assert outputs["HttpApiUrl"]["Value"] == f"https://{API_ID}.execute-api.eu-west-1.amazonaws.com/"
    assert outputs["SlackCommandUrl"]["Value"] == outputs["HttpApiUrl"]["Value"] + "slack/commands"
    assert outputs["SlackInteractivityUrl"]["Value"] == outputs["HttpApiUrl"]["Value"] + "slack/interactions"
    assert "Interactivity Request URL" in outputs["SlackInteractivityUrl"]["Description"]
    assert outputs["FunctionArn"]["Value"] == f"{FUNCTION_ID}.Arn"
    assert outputs["FunctionName"]["Value"] == FUNCTION_ID
    assert outputs["FollowUpFunctionName"]["Value"] == FOLLOW_UP_FUNCTION_ID
    assert outputs["FailedInvocationsQueueUrl"]["Value"] == QUEUE_ID
    assert outputs["StopsTableName"]["Value"] == TABLE_ID
    assert outputs["NotificationTopicArn"]["Value"] == topic
