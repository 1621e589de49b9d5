"""The Lambda function: runtime, concurrency, environment, logging and tracing, and a handler that imports."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.shared.constants import LAMBDA_ADVANCED_LOGGING_LEVELS

from stop_deployment import settings
from tests.template.cfn import (
    FUNCTION_ID,
    NOTIFY_TOPIC_ARN,
    NOTIFY_TOPIC_ID,
    PSEUDO_PARAMETERS,
    REPO_ROOT,
    TABLE_ID,
    Evaluator,
    deployed_environment,
    function_properties,
)

# What the settings module reads, and Powertools' own variables: the template sets exactly these.
EXPECTED_ENVIRONMENT = {
    *settings.VARIABLES,
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}


def _import_check_script() -> str:
    return (
        "import importlib, sys\n"
        "code_dir, module_name, attribute = sys.argv[1:]\n"
        "sys.path.insert(0, code_dir)\n"
        "module = importlib.import_module(module_name)\n"
        "handler = getattr(module, attribute)\n"
        "assert callable(handler), f'{module_name}.{attribute} is not callable'\n"
        "print(module.__file__)\n"
    )


def test_function_runs_arm64_python_313_with_the_matching_powertools_layer(
    cfn_template: dict[str, Any],
) -> None:
    function = function_properties(cfn_template)

    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["MemorySize"] == 512
    assert function["Timeout"] == 300
    [layer] = [layer["Fn::Sub"] for layer in function["Layers"]]
    assert layer == "{{resolve:ssm:/aws/service/powertools/python/arm64/python3.13/latest}}"


def test_reserved_concurrency_comes_from_a_bounded_parameter(cfn_template: dict[str, Any]) -> None:
    function = function_properties(cfn_template)
    assert function["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}

    parameter = cfn_template["Parameters"]["ReservedConcurrency"]
    assert parameter["Type"] == "Number"
    assert 1 <= parameter["MinValue"] <= parameter["Default"] == 10 <= parameter["MaxValue"] <= 100


def test_lambda_log_level_matches_the_powertools_log_level(cfn_template: dict[str, Any]) -> None:
    # Lambda's application log level overrides POWERTOOLS_LOG_LEVEL, so they must say the same.
    function = function_properties(cfn_template)
    for level in cfn_template["Parameters"]["LogLevel"]["AllowedValues"]:
        evaluator = Evaluator(cfn_template, {"LogLevel": level})

        lambda_level = evaluator.resolve(function["LoggingConfig"])["ApplicationLogLevel"]
        powertools_level = evaluator.resolve(function["Environment"])["Variables"]["POWERTOOLS_LOG_LEVEL"]

        assert LAMBDA_ADVANCED_LOGGING_LEVELS[lambda_level] == powertools_level == level


@pytest.mark.parametrize(("enable_tracing", "mode"), [("true", "Active"), ("false", "PassThrough")])
def test_tracing_is_active_only_when_enabled(
    cfn_template: dict[str, Any], enable_tracing: str, mode: str
) -> None:
    evaluator = Evaluator(cfn_template, {"EnableTracing": enable_tracing})
    function = function_properties(cfn_template)

    assert evaluator.resolve(function["TracingConfig"]) == {"Mode": mode}
    assert evaluator.resolve(function["Environment"])["Variables"]["ENABLE_TRACING"] == enable_tracing


def test_environment_variables_are_exactly_the_expected_set(cfn_template: dict[str, Any]) -> None:
    variables = function_properties(cfn_template)["Environment"]["Variables"]

    assert set(variables) == EXPECTED_ENVIRONMENT
    assert variables["ALLOWED_DEPLOYMENT_GROUPS"] == {"Ref": "AllowedDeploymentGroups"}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "stop-deployment"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "StopDeployment"
    assert variables["ALARM_TARGETS"] == {"Ref": "AlarmTargets"}
    assert variables["ALARM_TARGETS_TAG_KEY"] == {"Ref": "AlarmTargetsTagKey"}
    assert variables["DISCOVER_ALARM_TARGETS"] == {"Ref": "DiscoverAlarmTargets"}
    assert variables["ALARM_AUTO_ROLLBACK"] == {"Ref": "AlarmAutoRollback"}
    assert variables["SLACK_SIGNING_SECRET_PARAM"] == {"Ref": "SlackSigningSecretParam"}
    assert variables["SLACK_ALLOWED_USERS"] == {"Ref": "SlackAllowedUsers"}
    assert variables["SLACK_ALLOWED_CHANNELS"] == {"Ref": "SlackAllowedChannels"}
    assert variables["SLACK_ALLOWED_TEAMS"] == {"Ref": "SlackAllowedTeams"}
    assert variables["STOPS_TABLE"] == {"Ref": TABLE_ID}
    assert variables["CONFIRM_AFTER_SECONDS"] == {"Ref": "ConfirmAfterSeconds"}
    assert variables["NOTIFY_TOPIC_ARN"] == {
        "Fn::If": ["CreateNotifyTopic", {"Ref": NOTIFY_TOPIC_ID}, {"Ref": "NotifyTopicArn"}]
    }


@pytest.mark.parametrize(
    ("parameters", "topic"),
    [
        ({}, NOTIFY_TOPIC_ID),
        ({"NotifyTopicArn": ""}, NOTIFY_TOPIC_ID),
        ({"NotifyTopicArn": NOTIFY_TOPIC_ARN}, NOTIFY_TOPIC_ARN),
    ],
)
def test_function_records_stops_in_its_table_and_notifies_its_own_topic_unless_one_is_given(
    cfn_template: dict[str, Any], parameters: dict[str, str], topic: str
) -> None:
    variables = Evaluator(cfn_template, parameters).resolve(function_properties(cfn_template)["Environment"])

    assert variables["Variables"]["STOPS_TABLE"] == TABLE_ID
    assert variables["Variables"]["NOTIFY_TOPIC_ARN"] == topic
    assert variables["Variables"]["CONFIRM_AFTER_SECONDS"] == "300"


def test_handler_is_a_callable_importable_from_code_uri_with_the_template_environment(
    sam_template: dict[str, Any], cfn_template: dict[str, Any], tmp_path: Path
) -> None:
    # Given a fresh interpreter that, like Lambda, has only CodeUri on its path and the template's
    # environment (defaults), When it imports the Handler's module, Then the attribute is callable.
    properties = sam_template["Resources"][FUNCTION_ID]["Properties"]
    code_dir = (REPO_ROOT / properties["CodeUri"]).resolve()
    module_name, _, attribute = properties["Handler"].rpartition(".")
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": PSEUDO_PARAMETERS["AWS::Region"],
        "AWS_DEFAULT_REGION": PSEUDO_PARAMETERS["AWS::Region"],
        **deployed_environment(cfn_template),
    }

    result = subprocess.run(
        [sys.executable, "-I", "-c", _import_check_script(), str(code_dir), module_name, attribute],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).resolve().is_relative_to(code_dir)
