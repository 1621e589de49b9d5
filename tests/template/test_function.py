"""The two Lambda functions: runtime, concurrency, environment, logging, tracing, a handler that imports.

The stop function and the follow-up function run the same code with the same settings (shared
through Globals); they differ in their events, roles, reserved concurrency and log groups.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.shared.constants import LAMBDA_ADVANCED_LOGGING_LEVELS

from stop_deployment import settings
from tests.template.cfn import (
    FOLLOW_UP_FUNCTION_ID,
    FUNCTION_ID,
    FUNCTION_IDS,
    NOTIFY_TOPIC_ARN,
    NOTIFY_TOPIC_ID,
    PSEUDO_PARAMETERS,
    REPO_ROOT,
    TABLE_ID,
    Evaluator,
    deployed_environment,
    function_properties,
)

# What Lambda itself sets in every function's environment (reserved: a template cannot set them),
# among those the settings module reads.
SET_BY_LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION"}
# What the settings module reads, and Powertools' own variables: the template sets exactly these.
EXPECTED_ENVIRONMENT = {
    *(set(settings.VARIABLES) - SET_BY_LAMBDA),
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}
# What the functions take from Globals and must not set (or override) themselves, but for the one
# variable the follow-up function sets itself: the read-only member role it assumes elsewhere.
FOLLOW_UP_OWN_VARIABLES = {"MEMBER_ROLE_NAME"}
SHARED_PROPERTIES = {
    "CodeUri",
    "Handler",
    "Runtime",
    "Architectures",
    "MemorySize",
    "Layers",
    "Tracing",
    "Environment",
    "EventInvokeConfig",
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


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_runs_arm64_python_313_with_the_matching_powertools_layer(
    cfn_template: dict[str, Any], function_id: str
) -> None:
    function = function_properties(cfn_template, function_id)

    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["MemorySize"] == 512
    assert function["Timeout"] == 300
    [layer] = [layer["Fn::Sub"] for layer in function["Layers"]]
    assert layer == "{{resolve:ssm:/aws/service/powertools/python/arm64/python3.13/latest}}"


def test_both_functions_share_code_handler_runtime_environment_and_retries_through_globals(
    sam_template: dict[str, Any], cfn_template: dict[str, Any]
) -> None:
    # Given the template as written, Then what the functions share is said once, in Globals.
    assert set(sam_template["Globals"]["Function"]) >= SHARED_PROPERTIES
    stop_written = sam_template["Resources"][FUNCTION_ID]["Properties"]
    follow_up_written = sam_template["Resources"][FOLLOW_UP_FUNCTION_ID]["Properties"]
    assert not SHARED_PROPERTIES & set(stop_written)
    assert not (SHARED_PROPERTIES - {"Environment"}) & set(follow_up_written)
    assert follow_up_written["Environment"] == {
        "Variables": {"MEMBER_ROLE_NAME": {"Fn::Sub": "${MemberRoleName}-FollowUp"}}
    }

    # When SAM merges Globals in, Then both functions run the same code the same way, and log
    # alike, each to its own group.
    stop = function_properties(cfn_template, FUNCTION_ID)
    follow_up = function_properties(cfn_template, FOLLOW_UP_FUNCTION_ID)
    for name in ("Code", "Handler", "Runtime", "Architectures", "MemorySize", "Layers", "TracingConfig"):
        assert stop[name] == follow_up[name], name
    stop_variables = stop["Environment"]["Variables"]
    follow_up_variables = follow_up["Environment"]["Variables"]
    assert set(stop_variables) == set(follow_up_variables)
    for name in set(stop_variables) - FOLLOW_UP_OWN_VARIABLES:
        assert stop_variables[name] == follow_up_variables[name], name
    assert {**stop["LoggingConfig"], "LogGroup": None} == {**follow_up["LoggingConfig"], "LogGroup": None}
    assert stop["LoggingConfig"]["LogGroup"] != follow_up["LoggingConfig"]["LogGroup"]


def test_reserved_concurrency_comes_from_a_bounded_parameter(cfn_template: dict[str, Any]) -> None:
    function = function_properties(cfn_template)
    assert function["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}

    parameter = cfn_template["Parameters"]["ReservedConcurrency"]
    assert parameter["Type"] == "Number"
    assert 1 <= parameter["MinValue"] <= parameter["Default"] == 10 <= parameter["MaxValue"] <= 100


def test_follow_ups_have_a_reserved_concurrency_of_their_own(cfn_template: dict[str, Any]) -> None:
    # Follow-ups (an event per deployment of the account, the sweep) never use the stops' slots:
    # each function reserves its own, from its own parameter (bounds in test_parameters.py).
    stop = function_properties(cfn_template, FUNCTION_ID)
    follow_up = function_properties(cfn_template, FOLLOW_UP_FUNCTION_ID)

    assert stop["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}
    assert follow_up["ReservedConcurrentExecutions"] == {"Ref": "FollowUpReservedConcurrency"}


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_lambda_log_level_matches_the_powertools_log_level(
    cfn_template: dict[str, Any], function_id: str
) -> None:
    # Lambda's application log level overrides POWERTOOLS_LOG_LEVEL, so they must say the same.
    function = function_properties(cfn_template, function_id)
    for level in cfn_template["Parameters"]["LogLevel"]["AllowedValues"]:
        evaluator = Evaluator(cfn_template, {"LogLevel": level})

        lambda_level = evaluator.resolve(function["LoggingConfig"])["ApplicationLogLevel"]
        powertools_level = evaluator.resolve(function["Environment"])["Variables"]["POWERTOOLS_LOG_LEVEL"]

        assert LAMBDA_ADVANCED_LOGGING_LEVELS[lambda_level] == powertools_level == level


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
@pytest.mark.parametrize(("enable_tracing", "mode"), [("true", "Active"), ("false", "PassThrough")])
def test_tracing_is_active_only_when_enabled(
    cfn_template: dict[str, Any], enable_tracing: str, mode: str, function_id: str
) -> None:
    evaluator = Evaluator(cfn_template, {"EnableTracing": enable_tracing})
    function = function_properties(cfn_template, function_id)

    assert evaluator.resolve(function["TracingConfig"]) == {"Mode": mode}
    assert evaluator.resolve(function["Environment"])["Variables"]["ENABLE_TRACING"] == enable_tracing


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_environment_variables_are_exactly_the_expected_set(
    cfn_template: dict[str, Any], function_id: str
) -> None:
    # Both functions read the same settings: each gets every variable settings.VARIABLES names,
    # but those Lambda sets itself.
    variables = function_properties(cfn_template, function_id)["Environment"]["Variables"]

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
    assert variables["SLACK_CONFIRM"] == {"Ref": "SlackConfirm"}
    assert variables["SLACK_CONFIRM_MINUTES"] == {"Ref": "SlackConfirmMinutes"}
    assert variables["SLACK_EXTRA_RESPONSE_HOSTS"] == {"Ref": "SlackExtraResponseHosts"}
    assert variables["STOPS_TABLE"] == {"Ref": TABLE_ID}
    assert variables["CONFIRM_AFTER_SECONDS"] == {"Ref": "ConfirmAfterSeconds"}
    assert variables["NOTIFY_TOPIC_ARN"] == {
        "Fn::If": ["CreateNotifyTopic", {"Ref": NOTIFY_TOPIC_ID}, {"Ref": "NotifyTopicArn"}]
    }
    # Freezes: only alarms named with the prefix the alarm rule routes can freeze a group.
    assert variables["ALARM_NAME_PREFIX"] == {"Ref": "AlarmNamePrefix"}
    assert variables["FREEZE_CALENDARS"] == {"Ref": "FreezeCalendars"}
    assert variables["FREEZE_AUTO_ROLLBACK"] == {"Ref": "FreezeAutoRollback"}
    assert variables["FREEZE_EXEMPT_MARKER"] == {"Ref": "FreezeExemptMarker"}
    assert variables["FREEZE_ON_ERROR"] == {"Ref": "FreezeOnError"}
    # Set freezes: how long an alarm's stop freezes the groups it guards (0: off).
    assert variables["ALARM_FREEZE_MINUTES"] == {"Ref": "AlarmFreezeMinutes"}
    # Organisation-wide: where else the functions may act (test_organisation.py has the rest).
    assert variables["ALLOWED_ACCOUNTS"] == {"Ref": "AllowedAccounts"}
    assert variables["ALLOWED_REGIONS"] == {"Ref": "AllowedRegions"}


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
@pytest.mark.parametrize(
    ("parameters", "topic"),
    [
        ({}, NOTIFY_TOPIC_ID),
        ({"NotifyTopicArn": ""}, NOTIFY_TOPIC_ID),
        ({"NotifyTopicArn": NOTIFY_TOPIC_ARN}, NOTIFY_TOPIC_ARN),
    ],
)
def test_function_records_stops_in_its_table_and_notifies_its_own_topic_unless_one_is_given(
    cfn_template: dict[str, Any], parameters: dict[str, str], topic: str, function_id: str
) -> None:
    variables = Evaluator(cfn_template, parameters).resolve(
        function_properties(cfn_template, function_id)["Environment"]
    )

    assert variables["Variables"]["STOPS_TABLE"] == TABLE_ID
    assert variables["Variables"]["NOTIFY_TOPIC_ARN"] == topic
    assert variables["Variables"]["CONFIRM_AFTER_SECONDS"] == "300"


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_handler_is_a_callable_importable_from_code_uri_with_the_template_environment(
    sam_template: dict[str, Any], cfn_template: dict[str, Any], tmp_path: Path, function_id: str
) -> None:
    # Given a fresh interpreter that, like Lambda, has only CodeUri on its path and the function's
    # environment (defaults), When it imports the Handler's module, Then the attribute is callable.
    shared = sam_template["Globals"]["Function"]
    code_dir = (REPO_ROOT / shared["CodeUri"]).resolve()
    module_name, _, attribute = shared["Handler"].rpartition(".")
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": PSEUDO_PARAMETERS["AWS::Region"],
        "AWS_DEFAULT_REGION": PSEUDO_PARAMETERS["AWS::Region"],
        **deployed_environment(cfn_template, function_id=function_id),
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
