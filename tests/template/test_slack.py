"""What Slack needs of the template beyond its routes (test_http_api.py) and parameters
(test_parameters.py): the stop function handing its Slack work to an asynchronous invocation of
itself, and the ledger calls of the status command and the confirmation prompts, call by call.

The roles' statements one by one are in the test_iam_*.py modules, Slack's in test_iam_slack.py.
"""

import tomllib
from typing import Any

import pytest

from stop_deployment.triggers.slack.confirm import PREFIX as CONFIRMATION_PREFIX
from tests.template.cfn import (
    DELETE_ITEM,
    FOLLOW_UP_FUNCTION_ID,
    FUNCTION_ID,
    FUNCTION_LOG_GROUP_ID,
    GET_ITEM,
    INVOKE_FUNCTION,
    PUT_ITEM,
    QUERY,
    REPO_ROOT,
    SCAN,
    SLACK_PARAMETER,
    SLACK_SECRET_ARN,
    STOP_FUNCTION_ARN,
    STOP_FUNCTION_NAME,
    TABLE_ID,
    UPDATE_ITEM,
    Evaluator,
    allows,
    function_properties,
    role_statements,
)

TABLE_ARN = f"{TABLE_ID}.Arn"  # what Evaluator makes of !GetAtt StopsTable.Arn
FUNCTION_ARN_PREFIX = "arn:aws:lambda:eu-west-1:123456789012:function:"
LAMBDA_FUNCTION_NAME_LIMIT = 64
SLACK_CONFIGURED = [SLACK_PARAMETER, SLACK_SECRET_ARN]
# The Slack options that change what the function does, not what it may do.
SLACK_BEHAVIOUR = {
    "SlackConfirm": "always",
    "SlackConfirmMinutes": "30",
    "SlackExtraResponseHosts": "127.0.0.1:3001",
    "SlackAllowedUsers": "U0123ABCD",
}
DEPLOYMENT_ID = "d-7QK2M4X1B"
CONFIRMATION_KEY = CONFIRMATION_PREFIX + "0123456789abcdef0123456789abcdef"


def _refers_to(node: Any, logical_id: str) -> bool:
    """Whether a template fragment refers to a resource (Ref, Fn::GetAtt, or ${...} in Fn::Sub)."""
    if isinstance(node, list):
        return any(_refers_to(item, logical_id) for item in node)
    if not isinstance(node, dict):
        return False
    if node.get("Ref") == logical_id:
        return True
    get_att = node.get("Fn::GetAtt")
    if isinstance(get_att, list) and get_att[0] == logical_id:
        return True
    sub = node.get("Fn::Sub")
    text = sub if isinstance(sub, str) else sub[0] if isinstance(sub, list) else ""
    if f"${{{logical_id}}}" in text or f"${{{logical_id}." in text:
        return True
    return any(_refers_to(value, logical_id) for value in node.values())


def test_stop_function_is_named_after_the_stack_as_its_log_group_is(
    sam_template: dict[str, Any], cfn_template: dict[str, Any]
) -> None:
    # Given the stack name, Then the stop function's name is known before the function exists (its
    # role can name it) and matches the log group Lambda would have chosen for it. The follow-up
    # function keeps the name CloudFormation gives it (nothing names it).
    written = sam_template["Resources"][FUNCTION_ID]["Properties"]["FunctionName"]
    assert written == {"Fn::Sub": "${AWS::StackName}-StopDeployment"}
    evaluator = Evaluator(cfn_template)

    name = evaluator.resolve(function_properties(cfn_template)["FunctionName"])

    assert name == STOP_FUNCTION_NAME
    log_group = cfn_template["Resources"][FUNCTION_LOG_GROUP_ID]["Properties"]["LogGroupName"]
    assert evaluator.resolve(log_group) == f"/aws/lambda/{name}"
    assert "FunctionName" not in function_properties(cfn_template, FOLLOW_UP_FUNCTION_ID)


def test_function_name_fits_lambdas_limit_for_every_configured_stack_and_49_characters(
    cfn_template: dict[str, Any],
) -> None:
    # Lambda allows 64 characters in a function name: a stack name of up to 49 characters fits (the
    # template says so), and so do the stack names samconfig.toml deploys.
    samconfig = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    stack_names = {
        parameters["stack_name"]
        for environment in samconfig.values()
        if isinstance(environment, dict)
        for command in environment.values()
        if "stack_name" in (parameters := command.get("parameters", {}))
    }
    assert len(stack_names) >= 2  # default and prod, at least
    written = function_properties(cfn_template)["FunctionName"]

    def name_for(stack_name: str) -> str:
        name: str = Evaluator(cfn_template, {"AWS::StackName": stack_name}).resolve(written)
        return name

    for stack_name in stack_names:
        assert len(name_for(stack_name)) <= LAMBDA_FUNCTION_NAME_LIMIT, stack_name
    assert len(name_for("s" * 49)) == LAMBDA_FUNCTION_NAME_LIMIT


def test_stop_role_names_its_function_without_depending_on_it(cfn_template: dict[str, Any]) -> None:
    # A role statement on the function's Ref or ARN would make the role depend on the function and
    # the function on its role: CloudFormation refuses such a circular dependency.
    role_id = function_properties(cfn_template)["Role"]["Fn::GetAtt"][0]

    assert not _refers_to(cfn_template["Resources"][role_id], FUNCTION_ID)
    assert not cfn_template["Resources"][role_id].get("DependsOn")


@pytest.mark.parametrize("slack", SLACK_CONFIGURED)
def test_with_slack_the_stop_role_may_invoke_exactly_its_own_function_and_nothing_else(
    cfn_template: dict[str, Any], slack: str
) -> None:
    # Given Slack configured, Then the stop role may invoke one function: its own, by its
    # unqualified ARN (the function invokes AWS_LAMBDA_FUNCTION_NAME, no version or alias), with
    # no wildcard and no condition.
    statements = role_statements(cfn_template, SlackSigningSecretParam=slack, **SLACK_BEHAVIOUR)
    own_arn = FUNCTION_ARN_PREFIX + Evaluator(cfn_template).resolve(
        function_properties(cfn_template)["FunctionName"]
    )

    invokes = [s for s in statements if any(a.startswith("lambda:") for a in s["Action"])]

    assert invokes == [{"Effect": "Allow", "Action": [INVOKE_FUNCTION], "Resource": [STOP_FUNCTION_ARN]}]
    assert own_arn == STOP_FUNCTION_ARN
    assert "*" not in STOP_FUNCTION_ARN
    assert "?" not in STOP_FUNCTION_ARN
    assert allows(statements, INVOKE_FUNCTION, STOP_FUNCTION_ARN)
    for other in (
        STOP_FUNCTION_ARN + ":1",  # a version
        STOP_FUNCTION_ARN + ":live",  # an alias
        FUNCTION_ARN_PREFIX + "stop-deployment-FollowUpFunction-AbCdEf123456",
        FUNCTION_ARN_PREFIX + STOP_FUNCTION_NAME + "-other",
        FUNCTION_ARN_PREFIX + "other-stack-StopDeployment",
        "arn:aws:lambda:us-east-1:123456789012:function:" + STOP_FUNCTION_NAME,
    ):
        assert not allows(statements, INVOKE_FUNCTION, other), other


@pytest.mark.parametrize("parameters", [{}, {"SlackSigningSecretParam": ""}, SLACK_BEHAVIOUR])
def test_without_slack_the_stop_role_may_invoke_nothing(
    cfn_template: dict[str, Any], parameters: dict[str, str]
) -> None:
    # The work handed over is signed with the Slack signing secret: without one there is none.
    statements = role_statements(cfn_template, **parameters)

    assert not [s for s in statements if any(a.startswith("lambda:") for a in s["Action"])]


@pytest.mark.parametrize("slack", ["", *SLACK_CONFIGURED])
def test_slack_options_change_no_permission_but_the_signing_secrets(
    cfn_template: dict[str, Any], slack: str
) -> None:
    # SlackConfirm, SlackConfirmMinutes, SlackExtraResponseHosts and the allowlists change what the
    # function does, not what its role may do; the follow-up function gains nothing from Slack at
    # all (the invocation of the stop function is the stop role's alone).
    for function_id in (FUNCTION_ID, FOLLOW_UP_FUNCTION_ID):
        baseline = role_statements(cfn_template, function_id=function_id, SlackSigningSecretParam=slack)

        statements = role_statements(
            cfn_template, function_id=function_id, SlackSigningSecretParam=slack, **SLACK_BEHAVIOUR
        )

        assert statements == baseline
    follow_up = role_statements(
        cfn_template, function_id=FOLLOW_UP_FUNCTION_ID, SlackSigningSecretParam=slack
    )
    assert follow_up == role_statements(cfn_template, function_id=FOLLOW_UP_FUNCTION_ID)
    assert not allows(follow_up, INVOKE_FUNCTION, STOP_FUNCTION_ARN)


@pytest.mark.parametrize("slack", ["", *SLACK_CONFIGURED])
def test_stop_role_allows_the_status_commands_and_the_confirmations_ledger_calls_only(
    cfn_template: dict[str, Any], slack: str
) -> None:
    # Given any Slack configuration, Then the status command may read a stop's item (who stopped it
    # and why); a prompt may be put (conditionally), read when clicked and claimed once with a
    # conditional update; no update reaches a stop's item or a key merely starting like the
    # freezes item, and nothing may delete, scan or query, whatever the key.
    statements = role_statements(cfn_template, SlackSigningSecretParam=slack)

    assert allows(statements, GET_ITEM, TABLE_ARN, [DEPLOYMENT_ID])
    for action in (PUT_ITEM, GET_ITEM, UPDATE_ITEM):
        assert allows(statements, action, TABLE_ARN, [CONFIRMATION_KEY]), action
    assert not allows(statements, UPDATE_ITEM, TABLE_ARN, [DEPLOYMENT_ID])
    assert not allows(statements, UPDATE_ITEM, TABLE_ARN, [CONFIRMATION_KEY, DEPLOYMENT_ID])
    assert not allows(statements, UPDATE_ITEM, TABLE_ARN, ["x" + CONFIRMATION_KEY])
    assert not allows(statements, UPDATE_ITEM, TABLE_ARN, ["freezes#x"])
    for action in (DELETE_ITEM, SCAN, QUERY, "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"):
        for key in (CONFIRMATION_KEY, DEPLOYMENT_ID, "freezes"):
            assert not allows(statements, action, TABLE_ARN, [key]), (action, key)
    # The table's own ARN only: no index, no other table.
    assert not allows(statements, GET_ITEM, TABLE_ARN + "/index/by-group", [DEPLOYMENT_ID])
    assert not any(
        s["Resource"] != [TABLE_ARN]
        for s in statements
        if any(a.startswith("dynamodb:") for a in s["Action"])
    )
