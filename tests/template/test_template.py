"""template.yaml as a whole: lint-clean, and SAM makes exactly the expected resources and outputs."""

from typing import Any

from cfnlint.api import lint_file  # type: ignore[import-untyped]
from cfnlint.config import ManualArgs  # type: ignore[import-untyped]

from tests.template.cfn import (
    API_ID,
    FUNCTION_ID,
    QUEUE_ID,
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
            "AWS::Lambda::Function",
            "AWS::IAM::Role",
            "AWS::Lambda::EventInvokeConfig",
            # four routes, two EventBridge rules, the alarm action, the SNS topic (conditional)
            *["AWS::Lambda::Permission"] * 8,
            "AWS::ApiGatewayV2::Api",
            "AWS::ApiGatewayV2::Stage",
            "AWS::Events::Rule",
            "AWS::Events::Rule",
            "AWS::SNS::Subscription",
            "AWS::SQS::Queue",
            "AWS::SQS::QueuePolicy",
            "AWS::Logs::LogGroup",  # the function's logs
            "AWS::Logs::LogGroup",  # the HTTP API's access logs
            "AWS::CloudWatch::Alarm",
            "AWS::CloudWatch::Alarm",
            "AWS::CloudWatch::Alarm",
        ]
    )


def test_outputs_give_the_api_url_and_the_function(cfn_template: dict[str, Any]) -> None:
    outputs = Evaluator(cfn_template).resolve(cfn_template["Outputs"])

    assert outputs["HttpApiUrl"]["Value"] == f"https://{API_ID}.execute-api.eu-west-1.amazonaws.com/"
    assert outputs["SlackCommandUrl"]["Value"] == outputs["HttpApiUrl"]["Value"] + "slack/commands"
    assert outputs["FunctionArn"]["Value"] == f"{FUNCTION_ID}.Arn"
    assert outputs["FunctionName"]["Value"] == FUNCTION_ID
    assert outputs["FailedInvocationsQueueUrl"]["Value"] == QUEUE_ID
