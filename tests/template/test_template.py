"""template.yaml: lint-clean, least privilege, and in step with the code it deploys.

The SAM translator turns the template into CloudFormation offline (see conftest.py); `Evaluator`
then works out the intrinsic functions for chosen parameter values, as CloudFormation would.
"""

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.shared.constants import LAMBDA_ADVANCED_LOGGING_LEVELS
from cfnlint.api import lint_file  # type: ignore[import-untyped]
from cfnlint.config import ManualArgs  # type: ignore[import-untyped]

from stop_deployment import settings

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
FUNCTION_ID = "StopDeploymentFunction"
API_ID = "StopDeploymentApi"
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "stop-deployment",
    "AWS::URLSuffix": "amazonaws.com",
}
GROUP_ARN_PREFIX = "arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:"
APPLICATION_ARN_PREFIX = "arn:aws:codedeploy:eu-west-1:123456789012:application:"
ALARM_ARN_PREFIX = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:"
QUEUE_ID = "FailedInvocationsQueue"
FUNCTION_LOG_GROUP_ID = "StopDeploymentLogGroup"
ACCESS_LOG_GROUP_ID = "StopDeploymentApiAccessLogGroup"
ALARM_RULE_ID = f"{FUNCTION_ID}AlarmStateChange"
REQUEST_RULE_ID = f"{FUNCTION_ID}StopDeploymentRequest"
TOPIC_ARN = "arn:aws:sns:eu-central-1:111122223333:kill-switch"
SLACK_PARAMETER = "/stop-deployment/slack-signing-secret"
SLACK_SECRET_ARN = (
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:stop-deployment/slack-signing-secret-AbCdEf"
)
SLACK_ROUTE = ("POST", "/slack/commands")

# What the settings module reads, and Powertools' own variables: the template sets exactly these.
EXPECTED_ENVIRONMENT = {
    *settings.VARIABLES,
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}
STOP = "codedeploy:StopDeployment"
GET = "codedeploy:GetDeployment"
LIST = "codedeploy:ListDeployments"
BATCH_GET = "codedeploy:BatchGetDeployments"
BATCH_GET_GROUPS = "codedeploy:BatchGetDeploymentGroups"
LIST_APPLICATIONS = "codedeploy:ListApplications"
LIST_GROUPS = "codedeploy:ListDeploymentGroups"
LIST_ALARM_TAGS = "cloudwatch:ListTagsForResource"
SEND_MESSAGE = "sqs:SendMessage"
GET_PARAMETER = "ssm:GetParameter"
GET_SECRET = "secretsmanager:GetSecretValue"
DECRYPT = "kms:Decrypt"
ALARM_PRINCIPAL = "lambda.alarms.cloudwatch.amazonaws.com"

NO_VALUE = object()  # what Ref AWS::NoValue evaluates to: the item or key disappears


class Evaluator:
    """Evaluates the intrinsic functions this template uses, for given parameter values.

    Ref to a resource, Fn::GetAtt and ${Resource.Attribute} give the logical ID (and attribute)
    as text, which is enough to see what points where.
    """

    def __init__(self, template: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> None:
        parameters = template.get("Parameters", {})
        self.values: dict[str, str] = {name: name for name in template.get("Resources", {})}
        self.values.update({name: str(p["Default"]) for name, p in parameters.items() if "Default" in p})
        self.values.update(PSEUDO_PARAMETERS)
        self.values.update(overrides or {})
        self.conditions: Mapping[str, Any] = template.get("Conditions", {})
        self.mappings: Mapping[str, Any] = template.get("Mappings", {})

    def condition(self, name: str) -> bool:
        value = self.resolve(self.conditions[name])
        assert isinstance(value, bool), f"condition {name} gave {value!r}"
        return value

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            if key in ("Ref", "Condition") or key.startswith("Fn::"):
                return self._function(key, argument)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _function(self, name: str, argument: Any) -> Any:
        match name:
            case "Ref":
                return NO_VALUE if argument == "AWS::NoValue" else self.values[argument]
            case "Condition":
                return self.condition(argument)
            case "Fn::If":
                condition, if_true, if_false = argument
                return self.resolve(if_true if self.condition(condition) else if_false)
            case "Fn::Equals":
                left, right = (self.resolve(side) for side in argument)
                return left == right
            case "Fn::Not":
                return not self.resolve(argument[0])
            case "Fn::And":
                return all(self.resolve(item) for item in argument)
            case "Fn::Or":
                return any(self.resolve(item) for item in argument)
            case "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            case "Fn::Split":
                delimiter, source = argument
                return str(self.resolve(source)).split(delimiter)
            case "Fn::Join":
                delimiter, items = argument
                return delimiter.join(self.resolve(items))
            case "Fn::FindInMap":
                mapping, first, second = (self.resolve(key) for key in argument)
                return self.mappings[mapping][first][second]
            case "Fn::GetAtt":
                return ".".join(argument)
            case "Fn::Sub":
                return self._sub(argument)
        raise NotImplementedError(f"{name} is not evaluated by these tests")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        local = {name: self.resolve(value) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            if name in self.values:
                return self.values[name]
            resource, _, attribute = name.partition(".")
            assert resource in self.values, f"unknown ${{{name}}}"
            assert attribute, f"unknown ${{{name}}}"
            return name

        return re.sub(r"\$\{([^}]+)\}", substitute, text)


def _function(cfn_template: Mapping[str, Any]) -> Mapping[str, Any]:
    function: Mapping[str, Any] = cfn_template["Resources"][FUNCTION_ID]
    assert function["Type"] == "AWS::Lambda::Function"
    properties: Mapping[str, Any] = function["Properties"]
    return properties


def _role(cfn_template: Mapping[str, Any]) -> Mapping[str, Any]:
    role_id, attribute = _function(cfn_template)["Role"]["Fn::GetAtt"]
    role: Mapping[str, Any] = cfn_template["Resources"][role_id]
    assert (role["Type"], attribute) == ("AWS::IAM::Role", "Arn")
    properties: Mapping[str, Any] = role["Properties"]
    return properties


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(cfn_template: Mapping[str, Any], **parameters: str) -> list[dict[str, Any]]:
    """The role's inline statements, evaluated for the parameter values, Sid left out."""
    evaluator = Evaluator(cfn_template, parameters)
    statements = []
    for policy in _role(cfn_template).get("Policies", []):
        for statement in evaluator.resolve(policy["PolicyDocument"]["Statement"]):
            assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement
            condition = {"Condition": statement["Condition"]} if "Condition" in statement else {}
            statements.append(
                {
                    "Effect": statement["Effect"],
                    "Action": sorted(_as_list(statement["Action"])),
                    "Resource": _as_list(statement["Resource"]),
                    **condition,
                }
            )
    return statements


def _resources(cfn_template: Mapping[str, Any], resource_type: str, **parameters: str) -> dict[str, Any]:
    """The resources of a type that exist for the parameter values, by logical ID, evaluated."""
    evaluator = Evaluator(cfn_template, parameters)
    return {
        logical_id: evaluator.resolve(resource["Properties"])
        for logical_id, resource in cfn_template["Resources"].items()
        if resource["Type"] == resource_type
        and ("Condition" not in resource or evaluator.condition(resource["Condition"]))
    }


def _matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """EventBridge pattern matching, for the parts of the syntax the template uses.

    Every field of the pattern must be in the event; a list matches when the event's value equals
    one of its literals or starts with a {"prefix": ...} of it.
    """
    for field, expected in pattern.items():
        if field not in event:
            return False
        value = event[field]
        if isinstance(expected, Mapping):
            if not (isinstance(value, Mapping) and _matches(expected, value)):
                return False
            continue
        assert all(isinstance(item, str) or set(item) == {"prefix"} for item in expected), expected
        if not any(
            value == item if isinstance(item, str) else str(value).startswith(item["prefix"])
            for item in expected
        ):
            return False
    return True


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


def test_role_allows_stop_anywhere_and_reads_only_in_the_default_allowed_groups(
    cfn_template: dict[str, Any],
) -> None:
    # Given the default parameters (AllowedDeploymentGroups "*", AlarmNamePrefix "kill-switch-",
    # no discovery), Then the deployment reads cover every group here, and the alarm tags only
    # the alarms named with the prefix. SAM adds the first statement for the on-failure queue.
    assert _statements(cfn_template) == [
        {"Effect": "Allow", "Action": [SEND_MESSAGE], "Resource": [f"{QUEUE_ID}.Arn"]},
        {"Effect": "Allow", "Action": [STOP], "Resource": ["*"]},
        {
            "Effect": "Allow",
            "Action": sorted([GET, LIST, BATCH_GET]),
            "Resource": [GROUP_ARN_PREFIX + "*"],
        },
        {"Effect": "Allow", "Action": [LIST_ALARM_TAGS], "Resource": [ALARM_ARN_PREFIX + "kill-switch-*"]},
    ]


def test_discovery_adds_only_the_reads_it_needs(cfn_template: dict[str, Any]) -> None:
    # Given DiscoverAlarmTargets true (and two allowed globs, a custom prefix), Then the groups'
    # configurations are readable in the allowed groups only, and the lists are added.
    statements = _statements(
        cfn_template,
        DiscoverAlarmTargets="true",
        AllowedDeploymentGroups="checkout/prod,*/staging",
        AlarmNamePrefix="stop-",
    )

    assert statements == [
        {"Effect": "Allow", "Action": [SEND_MESSAGE], "Resource": [f"{QUEUE_ID}.Arn"]},
        {"Effect": "Allow", "Action": [STOP], "Resource": ["*"]},
        {
            "Effect": "Allow",
            "Action": sorted([GET, LIST, BATCH_GET, BATCH_GET_GROUPS]),
            "Resource": [GROUP_ARN_PREFIX + "checkout/prod", GROUP_ARN_PREFIX + "*/staging"],
        },
        {"Effect": "Allow", "Action": [LIST_ALARM_TAGS], "Resource": [ALARM_ARN_PREFIX + "stop-*"]},
        {"Effect": "Allow", "Action": [LIST_APPLICATIONS], "Resource": ["*"]},
        {"Effect": "Allow", "Action": [LIST_GROUPS], "Resource": [APPLICATION_ARN_PREFIX + "*"]},
    ]


def test_without_discovery_the_role_cannot_list_applications_or_groups(cfn_template: dict[str, Any]) -> None:
    for discover in ("false", None):
        parameters = {"DiscoverAlarmTargets": discover} if discover else {}
        statements = _statements(cfn_template, **parameters)

        actions = {action for statement in statements for action in statement["Action"]}
        assert not actions & {BATCH_GET_GROUPS, LIST_APPLICATIONS, LIST_GROUPS}


@pytest.mark.parametrize(
    "allowed",
    [
        "*",
        "checkout/prod",
        "*/prod,checkout/*",
        ",".join(f"app{n}/prod" for n in range(10)),
    ],
)
def test_get_deployment_is_scoped_to_one_arn_per_allowed_glob(
    cfn_template: dict[str, Any], allowed: str
) -> None:
    for discover in ("true", "false"):
        statements = _statements(cfn_template, AllowedDeploymentGroups=allowed, DiscoverAlarmTargets=discover)

        get_resources = [s["Resource"] for s in statements if GET in s["Action"]]
        assert get_resources == [[GROUP_ARN_PREFIX + glob for glob in allowed.split(",")]]


@pytest.mark.parametrize(
    ("slack", "slack_reads"),
    [("", set()), (SLACK_PARAMETER, {GET_PARAMETER, DECRYPT}), (SLACK_SECRET_ARN, {GET_SECRET, DECRYPT})],
)
@pytest.mark.parametrize("discover", ["true", "false"])
@pytest.mark.parametrize("allowed", ["*", "checkout/prod,*/staging"])
def test_role_grants_no_wildcard_action_and_no_write_but_stop(
    cfn_template: dict[str, Any], allowed: str, discover: str, slack: str, slack_reads: set[str]
) -> None:
    statements = _statements(
        cfn_template,
        AllowedDeploymentGroups=allowed,
        DiscoverAlarmTargets=discover,
        SlackSigningSecretParam=slack,
    )

    actions = {action for statement in statements for action in statement["Action"]}
    reads = {GET, LIST, BATCH_GET, LIST_ALARM_TAGS} | slack_reads
    discovery = {BATCH_GET_GROUPS, LIST_APPLICATIONS, LIST_GROUPS}
    # The only writes: StopDeployment, and the on-failure records into the stack's own queue.
    assert actions == {STOP, SEND_MESSAGE} | reads | (discovery if discover == "true" else set())
    assert all("*" not in action for action in actions)
    assert all(statement["Effect"] == "Allow" for statement in statements)
    assert [s["Resource"] for s in statements if s["Action"] == [SEND_MESSAGE]] == [[f"{QUEUE_ID}.Arn"]]
    # Only actions without a resource type are granted on "*", and kms:Decrypt only through the
    # service that holds the Slack signing secret.
    on_anything = [s["Action"] for s in statements if "*" in s["Resource"] and "Condition" not in s]
    assert on_anything == ([[STOP], [LIST_APPLICATIONS]] if discover == "true" else [[STOP]])
    conditional = [s for s in statements if "Condition" in s]
    assert [s["Action"] for s in conditional] == ([[DECRYPT]] if slack else [])
    assert all(set(s["Condition"]) == {"StringEquals"} for s in conditional)
    assert all(set(s["Condition"]["StringEquals"]) == {"kms:ViaService"} for s in conditional)


@pytest.mark.parametrize("parameters", [{}, {"SlackSigningSecretParam": ""}])
def test_without_slack_the_role_reads_no_secret_and_decrypts_nothing(
    cfn_template: dict[str, Any], parameters: dict[str, str]
) -> None:
    # Given SlackSigningSecretParam empty (the default), Then no Parameter Store, Secrets Manager
    # or KMS permission at all.
    statements = _statements(cfn_template, DiscoverAlarmTargets="true", **parameters)

    actions = {action for statement in statements for action in statement["Action"]}
    assert not {action for action in actions if action.split(":")[0] in ("ssm", "secretsmanager", "kms")}
    assert all("Condition" not in statement for statement in statements)


def test_slack_secret_in_parameter_store_is_readable_and_decryptable_through_ssm_only(
    cfn_template: dict[str, Any],
) -> None:
    # Given an SSM parameter name (it starts with /, so it follows "parameter" directly), Then
    # exactly that parameter may be read, and KMS may decrypt only on behalf of SSM.
    baseline = _statements(cfn_template)

    statements = _statements(cfn_template, SlackSigningSecretParam=SLACK_PARAMETER)

    assert statements == [
        *baseline,
        {
            "Effect": "Allow",
            "Action": [GET_PARAMETER],
            "Resource": ["arn:aws:ssm:eu-west-1:123456789012:parameter/stop-deployment/slack-signing-secret"],
        },
        {
            "Effect": "Allow",
            "Action": [DECRYPT],
            "Resource": ["*"],
            "Condition": {"StringEquals": {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"}},
        },
    ]


@pytest.mark.parametrize(
    ("secret_arn", "secret_region"),
    [
        (SLACK_SECRET_ARN, "eu-west-1"),
        ("arn:aws:secretsmanager:us-east-1:111122223333:secret:slack-AbCdEf", "us-east-1"),
    ],
)
def test_slack_secret_in_secrets_manager_is_readable_and_decryptable_through_secrets_manager_only(
    cfn_template: dict[str, Any], secret_arn: str, secret_region: str
) -> None:
    # Given a Secrets Manager secret's full ARN, Then exactly that secret may be read, and KMS may
    # decrypt only on behalf of Secrets Manager in the secret's region.
    baseline = _statements(cfn_template)

    statements = _statements(cfn_template, SlackSigningSecretParam=secret_arn)

    assert statements == [
        *baseline,
        {"Effect": "Allow", "Action": [GET_SECRET], "Resource": [secret_arn]},
        {
            "Effect": "Allow",
            "Action": [DECRYPT],
            "Resource": ["*"],
            "Condition": {
                "StringEquals": {"kms:ViaService": f"secretsmanager.{secret_region}.amazonaws.com"}
            },
        },
    ]


@pytest.mark.parametrize(
    ("value", "read", "service"),
    [
        ("", None, None),
        (SLACK_PARAMETER, GET_PARAMETER, "ssm"),
        ("/slack", GET_PARAMETER, "ssm"),
        ("/a/b.c_d-e/F9", GET_PARAMETER, "ssm"),
        (SLACK_SECRET_ARN, GET_SECRET, "secretsmanager"),
        (
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a/b_c+d=e.f@g-h-AbC123",
            GET_SECRET,
            "secretsmanager",
        ),
    ],
)
def test_slack_conditions_pick_the_store_of_every_accepted_value(
    cfn_template: dict[str, Any], value: str, read: str | None, service: str | None
) -> None:
    # Given a value the parameter's pattern accepts, Then exactly one store is readable (none when
    # empty), and the read comes with a decrypt through that same service only.
    assert re.fullmatch(cfn_template["Parameters"]["SlackSigningSecretParam"]["AllowedPattern"], value)
    evaluator = Evaluator(cfn_template, {"SlackSigningSecretParam": value})
    assert evaluator.condition("SlackSigningSecretInParameterStore") is (service == "ssm")
    assert evaluator.condition("SlackSigningSecretInSecretsManager") is (service == "secretsmanager")

    statements = _statements(cfn_template, SlackSigningSecretParam=value)

    secret_actions = {GET_PARAMETER, GET_SECRET, DECRYPT}
    added = [s for s in statements if secret_actions & set(s["Action"])]
    if read is None:
        assert added == []
        return
    [reads, decrypts] = added
    assert reads["Action"] == [read]
    assert reads["Resource"] != ["*"]
    assert decrypts["Action"] == [DECRYPT]
    assert decrypts["Condition"]["StringEquals"]["kms:ViaService"].startswith(f"{service}.")


def test_role_managed_policies_are_basic_execution_and_xray_write(cfn_template: dict[str, Any]) -> None:
    # SAM adds the X-Ray write policy whenever Tracing is not a literal "Disabled", and here it
    # is an Fn::If on EnableTracing, so it is always there (write-only telemetry, no CodeDeploy).
    arns = Evaluator(cfn_template).resolve(_role(cfn_template)["ManagedPolicyArns"])

    assert sorted(arns) == [
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ]


@pytest.mark.parametrize(
    "allowed",
    [
        "*",
        "checkout/prod",
        "*/prod,checkout/*",
        "team.a@x_y-z+w=v/prod?",
        ",".join(f"app{n}/prod" for n in range(10)),
    ],
)
def test_allowed_deployment_groups_pattern_accepts(sam_template: dict[str, Any], allowed: str) -> None:
    pattern = sam_template["Parameters"]["AllowedDeploymentGroups"]["AllowedPattern"]

    assert re.fullmatch(pattern, allowed)


@pytest.mark.parametrize(
    "allowed",
    [
        "",
        "checkout",  # not application/group
        "checkout/prod,",
        "checkout/prod, */staging",  # spaces would end up inside an ARN
        "checkout/[ab]",  # IAM has no character classes
        "checkout/prod/x",
        ",".join(f"app{n}/prod" for n in range(11)),  # the policy holds 10 at most
    ],
)
def test_allowed_deployment_groups_pattern_rejects(sam_template: dict[str, Any], allowed: str) -> None:
    pattern = sam_template["Parameters"]["AllowedDeploymentGroups"]["AllowedPattern"]

    assert not re.fullmatch(pattern, allowed)


def test_parameters_offer_the_values_the_settings_accept(sam_template: dict[str, Any]) -> None:
    parameters = sam_template["Parameters"]

    assert parameters["DefaultAutoRollback"]["AllowedValues"] == ["true", "false", "deployment-group"]
    assert parameters["DefaultAutoRollback"]["Default"] == "true"
    for name in ("DryRun", "EnableTracing"):
        assert parameters[name]["AllowedValues"] == ["true", "false"]
        assert parameters[name]["Default"] == "false"
    assert parameters["AllowedDeploymentGroups"]["Default"] == "*"
    assert parameters["LogLevel"]["Default"] == "INFO"
    assert parameters["AlarmAutoRollback"]["AllowedValues"] == ["true", "false", "deployment-group"]
    assert parameters["AlarmAutoRollback"]["Default"] == "true"
    assert parameters["DiscoverAlarmTargets"]["AllowedValues"] == ["true", "false"]
    assert parameters["DiscoverAlarmTargets"]["Default"] == "false"
    assert parameters["AlarmNamePrefix"]["Default"] == "kill-switch-"
    assert parameters["AlarmTargets"]["Default"] == "{}"
    assert parameters["AlarmTargetsTagKey"]["Default"] == "stop-deployment:targets"
    assert parameters["AlarmTopicArn"]["Default"] == ""
    for name in ("SlackSigningSecretParam", "SlackAllowedUsers", "SlackAllowedChannels", "SlackAllowedTeams"):
        assert parameters[name]["Default"] == ""


def test_settings_accept_every_value_the_parameters_allow(cfn_template: dict[str, Any]) -> None:

    def variables(**parameters: str) -> dict[str, str]:
        environment = Evaluator(cfn_template, parameters).resolve(_function(cfn_template)["Environment"])
        return {name: str(value) for name, value in environment["Variables"].items()}

    choices = ("DefaultAutoRollback", "AlarmAutoRollback", "DryRun", "EnableTracing", "DiscoverAlarmTargets")
    for name in choices:
        for value in cfn_template["Parameters"][name]["AllowedValues"]:
            settings.load(variables(**{name: value}))

    for slack in (
        {"SlackSigningSecretParam": SLACK_PARAMETER},
        {"SlackSigningSecretParam": SLACK_SECRET_ARN},
        {
            "SlackAllowedUsers": "U0123ABCD,W0456EFGH",
            "SlackAllowedChannels": "C0123ABCD",
            "SlackAllowedTeams": "T0123ABCD",
        },
    ):
        settings.load(variables(**slack))
    example = settings.load(variables(AlarmTargets='{"kill-switch-checkout-*":["checkout/prod"]}'))
    assert example.alarm_targets == (("kill-switch-checkout-*", ("checkout/prod",)),)
    defaults = settings.load(variables())
    assert defaults.alarm_targets == ()
    assert defaults.alarm_targets_tag_key == "stop-deployment:targets"
    assert (defaults.discover_alarm_targets, defaults.alarm_auto_rollback) == (False, True)


@pytest.mark.parametrize("prefix", ["kill-switch-", "k", "team.a@x_y+z=w/prod:", "x" * 100])
def test_alarm_name_prefix_pattern_accepts(sam_template: dict[str, Any], prefix: str) -> None:
    pattern = sam_template["Parameters"]["AlarmNamePrefix"]["AllowedPattern"]

    assert re.fullmatch(pattern, prefix)


@pytest.mark.parametrize(
    "prefix",
    [
        "",  # would route every alarm and let every alarm invoke the function
        "kill-*",  # a wildcard in the SourceArn / IAM resource
        "kill?",
        "kill switch",
        'kill"',
        "x" * 101,
    ],
)
def test_alarm_name_prefix_pattern_rejects(sam_template: dict[str, Any], prefix: str) -> None:
    pattern = sam_template["Parameters"]["AlarmNamePrefix"]["AllowedPattern"]

    assert not re.fullmatch(pattern, prefix)


@pytest.mark.parametrize(
    ("topic_arn", "accepted"),
    [
        ("", True),
        (TOPIC_ARN, True),
        ("arn:aws-us-gov:sns:us-gov-west-1:111122223333:alarms_2", True),
        ("arn:aws:sns:eu-west-1:111122223333:kill-switch.fifo", False),  # FIFO cannot invoke Lambda
        ("arn:aws:sqs:eu-west-1:111122223333:kill-switch", False),
        ("kill-switch", False),
    ],
)
def test_alarm_topic_arn_pattern(sam_template: dict[str, Any], topic_arn: str, accepted: bool) -> None:
    pattern = sam_template["Parameters"]["AlarmTopicArn"]["AllowedPattern"]

    assert bool(re.fullmatch(pattern, topic_arn)) is accepted


@pytest.mark.parametrize(
    ("targets", "accepted"),
    [
        ("{}", True),
        ('{"kill-switch-checkout-*":["checkout/prod"]}', True),
        ('{"a": ["b/c"], "d": ["e/f", "g/h"]}', True),
        ("{", False),  # what SAM CLI makes of an unquoted JSON override
        ('["checkout/prod"]', False),
        ("", False),
    ],
)
def test_alarm_targets_pattern(sam_template: dict[str, Any], targets: str, accepted: bool) -> None:
    pattern = sam_template["Parameters"]["AlarmTargets"]["AllowedPattern"]

    assert bool(re.fullmatch(pattern, targets)) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        (SLACK_PARAMETER, True),
        ("/slack", True),
        ("/a/b.c_d-e/F9", True),
        (SLACK_SECRET_ARN, True),
        ("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:slack-signing-AbC123", True),
        ("slack-signing-secret", False),  # a name without / would need another slash in the ARN
        ("/stop-deployment/", False),
        ("//slack", False),
        ("/slack signing", False),
        ("/slack*", False),  # a wildcard in the IAM resource
        ("{{resolve:ssm:/slack}}", False),
        ("arn:aws:ssm:eu-west-1:123456789012:parameter/slack", False),  # give the name instead
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack", False),  # no suffix: IAM misses it
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-*", False),
        ("arn:aws:secretsmanager:eu-west-1:1234:secret:slack-AbCdEf", False),
        ("arn:aws:kms:eu-west-1:123456789012:key/slack-AbCdEf", False),
    ],
)
def test_slack_signing_secret_param_pattern(sam_template: dict[str, Any], value: str, accepted: bool) -> None:
    pattern = sam_template["Parameters"]["SlackSigningSecretParam"]["AllowedPattern"]

    assert bool(re.fullmatch(pattern, value)) is accepted


@pytest.mark.parametrize("name", ["SlackAllowedUsers", "SlackAllowedChannels", "SlackAllowedTeams"])
@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("U0123ABCD", True),
        ("U0123ABCD,U0456EFGH", True),
        ("C0123ABCD,G0456EFGH,T0789IJKL,W0123ABCDEF", True),
        ("U0123ABCD, U0456EFGH", False),  # no spaces
        ("U0123ABCD,", False),
        (",U0123ABCD", False),
        ("U0123ABCD,,U0456EFGH", False),
        ("u0123abcd", False),  # Slack IDs are upper case
        ("@jdoe", False),  # a name, not an ID
        ("#general", False),
        ("*", False),
    ],
)
def test_slack_allowed_ids_patterns(
    sam_template: dict[str, Any], name: str, value: str, accepted: bool
) -> None:
    pattern = sam_template["Parameters"][name]["AllowedPattern"]

    assert bool(re.fullmatch(pattern, value)) is accepted


def _api_operations(cfn_template: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """The HTTP API's operations by (METHOD, path), from the OpenAPI body SAM gives the API."""
    api = cfn_template["Resources"][API_ID]
    assert api["Type"] == "AWS::ApiGatewayV2::Api"
    return {
        (method.upper(), path): operation
        for path, methods in api["Properties"]["Body"]["paths"].items()
        for method, operation in methods.items()
    }


def test_http_api_has_exactly_the_three_iam_routes_and_the_slack_route(cfn_template: dict[str, Any]) -> None:
    body = cfn_template["Resources"][API_ID]["Properties"]["Body"]

    operations = _api_operations(cfn_template)

    assert set(operations) == {
        ("POST", "/stop"),
        ("POST", "/deployments/{deploymentId}/stop"),
        ("GET", "/deployments/{deploymentId}"),
        SLACK_ROUTE,
    }
    for route, operation in operations.items():
        if route != SLACK_ROUTE:
            assert operation["security"] == [{"AWS_IAM": []}]
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["payloadFormatVersion"] == "2.0"
        assert f"${{{FUNCTION_ID}.Arn}}" in integration["uri"]["Fn::Sub"]
    assert body["components"]["securitySchemes"]["AWS_IAM"]["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_slack_route_alone_has_no_authorizer(cfn_template: dict[str, Any]) -> None:
    # Slack cannot sign with SigV4; the function checks Slack's own signature. SAM writes the event's
    # `Authorizer: NONE` as the requirement {"NONE": []}, naming no security scheme, so API Gateway
    # attaches no authorizer to the route. Nothing else may add one: no API-wide requirement, no
    # scheme called NONE, no separate route or authorizer resources.
    body = cfn_template["Resources"][API_ID]["Properties"]["Body"]

    slack = _api_operations(cfn_template)[SLACK_ROUTE]

    assert slack["security"] == [{"NONE": []}]
    assert set(body["components"]["securitySchemes"]) == {"AWS_IAM"}
    assert "security" not in body
    types = {resource["Type"] for resource in cfn_template["Resources"].values()}
    assert not types & {"AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Authorizer"}


def test_only_the_slack_route_is_throttled_below_the_reserved_concurrency(
    cfn_template: dict[str, Any],
) -> None:
    # Anyone can call the Slack route; it must not use up the concurrency that alarms rely on.
    stages = _resources(cfn_template, "AWS::ApiGatewayV2::Stage")
    [stage] = stages.values()

    assert stage["ApiId"] == API_ID
    assert set(stage["RouteSettings"]) == {" ".join(SLACK_ROUTE)}
    throttling = stage["RouteSettings"][" ".join(SLACK_ROUTE)]
    reserved = cfn_template["Parameters"]["ReservedConcurrency"]["Default"]
    assert 1 <= throttling["ThrottlingBurstLimit"] <= reserved // 2
    assert 0 < throttling["ThrottlingRateLimit"] <= throttling["ThrottlingBurstLimit"]


# What each access log line must say about a request: API Gateway's own fields, and who signed it on
# the IAM routes.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
    "caller": "$context.identity.caller",
    "userArn": "$context.identity.userArn",
}
# Context variables that carry a request's headers, query string or body, or may repeat them (an
# authorizer's output, API Gateway's error message for a signature mismatch).
UNLOGGED_VARIABLE = re.compile(
    r"\$context\.(.*header|.*body|.*querystring|identity\.userAgent|authorizer\b|error\.message)",
    re.IGNORECASE,
)


def test_http_api_writes_json_access_logs_to_its_own_log_group_with_retention(
    cfn_template: dict[str, Any],
) -> None:
    [stage] = _resources(cfn_template, "AWS::ApiGatewayV2::Stage").values()
    access_logs = stage["AccessLogSettings"]

    assert access_logs["DestinationArn"] == f"{ACCESS_LOG_GROUP_ID}.Arn"
    log_group = cfn_template["Resources"][ACCESS_LOG_GROUP_ID]
    function_log_group = cfn_template["Resources"][FUNCTION_LOG_GROUP_ID]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
        assert log_group[policy] == function_log_group[policy] == "Delete"
    # HTTP APIs deliver access logs as vended logs; this prefix keeps the account's CloudWatch Logs
    # resource policy within its size limit however many stacks there are.
    name = Evaluator(cfn_template).resolve(log_group["Properties"]["LogGroupName"])
    assert name.startswith("/aws/vendedlogs/")
    assert name != Evaluator(cfn_template).resolve(function_log_group["Properties"]["LogGroupName"])

    log_format = access_logs["Format"]
    assert "\n" not in log_format  # API Gateway writes one line per request
    fields = json.loads(log_format)
    assert fields.items() >= ACCESS_LOG_FIELDS.items()
    for field, variable in fields.items():
        assert re.fullmatch(r"\$context\.[A-Za-z.]+", variable), (field, variable)  # one variable each
        assert not UNLOGGED_VARIABLE.match(variable), (field, variable)


@pytest.mark.parametrize("retention", ["1", "30", "3653"])
def test_both_log_groups_keep_logs_for_the_log_retention_parameter(
    cfn_template: dict[str, Any], retention: str
) -> None:
    log_groups = _resources(cfn_template, "AWS::Logs::LogGroup", LogRetentionInDays=retention)

    assert {logical_id: group["RetentionInDays"] for logical_id, group in log_groups.items()} == {
        FUNCTION_LOG_GROUP_ID: retention,
        ACCESS_LOG_GROUP_ID: retention,
    }


def test_api_gateway_may_invoke_the_function_only_for_those_routes(cfn_template: dict[str, Any]) -> None:
    permissions = [
        p
        for p in _resources(cfn_template, "AWS::Lambda::Permission").values()
        if p["Principal"] == "apigateway.amazonaws.com"
    ]

    assert {(p["FunctionName"], p["Action"]) for p in permissions} == {(FUNCTION_ID, "lambda:InvokeFunction")}
    api_arn = f"arn:aws:execute-api:eu-west-1:123456789012:{API_ID}/*/"
    assert sorted(p["SourceArn"] for p in permissions) == sorted(
        api_arn + route
        for route in ("POST/stop", "POST/deployments/*/stop", "GET/deployments/*", "POST/slack/commands")
    )


@pytest.mark.parametrize(
    ("parameters", "expected_principals"),
    [
        ({}, ["apigateway.amazonaws.com"] * 4 + ["events.amazonaws.com"] * 2 + [ALARM_PRINCIPAL]),
        (
            {"AlarmTopicArn": TOPIC_ARN},
            ["apigateway.amazonaws.com"] * 4
            + ["events.amazonaws.com"] * 2
            + [ALARM_PRINCIPAL, "sns.amazonaws.com"],
        ),
    ],
)
def test_only_the_intended_services_may_invoke_the_function(
    cfn_template: dict[str, Any], parameters: dict[str, str], expected_principals: list[str]
) -> None:
    permissions = _resources(cfn_template, "AWS::Lambda::Permission", **parameters).values()

    assert sorted(p["Principal"] for p in permissions) == sorted(expected_principals)
    assert {p["Action"] for p in permissions} == {"lambda:InvokeFunction"}
    assert {p["FunctionName"] for p in permissions} <= {FUNCTION_ID, f"{FUNCTION_ID}.Arn"}
    assert all(p.get("SourceArn") for p in permissions)
    events_sources = sorted(p["SourceArn"] for p in permissions if p["Principal"] == "events.amazonaws.com")
    assert events_sources == sorted([f"{ALARM_RULE_ID}.Arn", f"{REQUEST_RULE_ID}.Arn"])


@pytest.mark.parametrize("prefix", ["kill-switch-", "stop-"])
def test_only_this_accounts_alarms_named_with_the_prefix_may_invoke_the_function(
    cfn_template: dict[str, Any], prefix: str
) -> None:
    permissions = _resources(cfn_template, "AWS::Lambda::Permission", AlarmNamePrefix=prefix).values()

    [alarm_action] = [p for p in permissions if p["Principal"] == ALARM_PRINCIPAL]
    assert alarm_action["SourceArn"] == f"{ALARM_ARN_PREFIX}{prefix}*"
    assert alarm_action["SourceAccount"] == PSEUDO_PARAMETERS["AWS::AccountId"]


@pytest.mark.parametrize("prefix", ["kill-switch-", "stop-"])
def test_alarm_rule_routes_only_alarms_named_with_the_prefix_going_to_alarm(
    cfn_template: dict[str, Any], prefix: str
) -> None:
    rules = _resources(cfn_template, "AWS::Events::Rule", AlarmNamePrefix=prefix)
    pattern = rules[ALARM_RULE_ID]["EventPattern"]

    assert pattern == {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": [{"prefix": prefix}], "state": {"value": ["ALARM"]}},
    }
    for configuration in (METRIC_CONFIGURATION, COMPOSITE_CONFIGURATION):
        assert _matches(pattern, _alarm_event(f"{prefix}checkout-5xx", "ALARM", configuration))
        assert not _matches(pattern, _alarm_event(f"{prefix}checkout-5xx", "OK", configuration))
        assert not _matches(
            pattern, _alarm_event(f"{prefix}checkout-5xx", "INSUFFICIENT_DATA", configuration)
        )
        assert not _matches(pattern, _alarm_event(f"other-{prefix}checkout-5xx", "ALARM", configuration))
    assert not _matches(pattern, STOP_REQUEST_EVENT)


def test_stop_request_rule_takes_stop_deployment_requests_from_any_source(
    cfn_template: dict[str, Any],
) -> None:
    rules = _resources(cfn_template, "AWS::Events::Rule")
    pattern = rules[REQUEST_RULE_ID]["EventPattern"]

    assert pattern == {"detail-type": ["Stop Deployment Request"]}
    assert _matches(pattern, STOP_REQUEST_EVENT)
    assert _matches(pattern, {**STOP_REQUEST_EVENT, "source": "my.other.tool"})
    assert not _matches(pattern, _alarm_event("kill-switch-checkout-5xx", "ALARM", METRIC_CONFIGURATION))


def test_both_rules_use_the_default_bus_bounded_retries_and_the_failed_queue(
    cfn_template: dict[str, Any],
) -> None:
    rules = _resources(cfn_template, "AWS::Events::Rule")

    assert set(rules) == {ALARM_RULE_ID, REQUEST_RULE_ID}
    for rule in rules.values():
        assert "EventBusName" not in rule  # the default bus
        [target] = rule["Targets"]
        assert target["Arn"] == f"{FUNCTION_ID}.Arn"
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 600}
        assert target["DeadLetterConfig"] == {"Arn": f"{QUEUE_ID}.Arn"}


def test_failed_queue_accepts_dead_letters_only_from_the_two_rules(cfn_template: dict[str, Any]) -> None:
    [policy] = _resources(cfn_template, "AWS::SQS::QueuePolicy").values()

    assert policy["Queues"] == [QUEUE_ID]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Sid": "EventBridgeRuleDeadLetters",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": SEND_MESSAGE,
            "Resource": f"{QUEUE_ID}.Arn",
            "Condition": {"ArnEquals": {"aws:SourceArn": [f"{ALARM_RULE_ID}.Arn", f"{REQUEST_RULE_ID}.Arn"]}},
        }
    ]


def test_alarm_topic_subscription_exists_only_when_a_topic_is_given(cfn_template: dict[str, Any]) -> None:
    assert _resources(cfn_template, "AWS::SNS::Subscription") == {}

    [subscription] = _resources(
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
    permissions = _resources(cfn_template, "AWS::Lambda::Permission", AlarmTopicArn=TOPIC_ARN).values()
    [sns] = [p for p in permissions if p["Principal"] == "sns.amazonaws.com"]
    assert sns["SourceArn"] == TOPIC_ARN


def test_subscription_filter_passes_alarm_notifications_of_the_prefix_only(
    cfn_template: dict[str, Any],
) -> None:
    [subscription] = _resources(cfn_template, "AWS::SNS::Subscription", AlarmTopicArn=TOPIC_ARN).values()
    message = {"AlarmName": "kill-switch-checkout-5xx", "NewStateValue": "ALARM", "OldStateValue": "OK"}

    assert _matches(subscription["FilterPolicy"], message)
    assert not _matches(subscription["FilterPolicy"], {**message, "NewStateValue": "OK"})
    assert not _matches(subscription["FilterPolicy"], {**message, "AlarmName": "checkout-5xx"})


def test_asynchronous_invocations_retry_twice_then_go_to_the_failed_queue(
    cfn_template: dict[str, Any],
) -> None:
    [config] = _resources(cfn_template, "AWS::Lambda::EventInvokeConfig").values()

    assert config["FunctionName"] == FUNCTION_ID
    assert config["Qualifier"] == "$LATEST"
    assert config["MaximumRetryAttempts"] == 2
    assert 60 <= config["MaximumEventAgeInSeconds"] <= 900
    assert config["DestinationConfig"] == {"OnFailure": {"Destination": f"{QUEUE_ID}.Arn"}}

    queue = _resources(cfn_template, "AWS::SQS::Queue")[QUEUE_ID]
    assert queue == {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 24 * 60 * 60}


def test_failed_invocations_alarm_fires_on_one_visible_message(cfn_template: dict[str, Any]) -> None:
    alarms = _resources(cfn_template, "AWS::CloudWatch::Alarm").values()

    [failed] = [alarm for alarm in alarms if alarm["Namespace"] == "AWS/SQS"]
    assert failed["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert failed["Dimensions"] == [{"Name": "QueueName", "Value": f"{QUEUE_ID}.QueueName"}]
    assert (failed["Statistic"], failed["Period"], failed["EvaluationPeriods"]) == ("Maximum", 60, 1)
    assert (failed["ComparisonOperator"], failed["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert failed["TreatMissingData"] == "notBreaching"


def test_function_runs_arm64_python_313_with_the_matching_powertools_layer(
    cfn_template: dict[str, Any],
) -> None:
    function = _function(cfn_template)

    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["MemorySize"] == 512
    assert function["Timeout"] == 300
    [layer] = [layer["Fn::Sub"] for layer in function["Layers"]]
    assert layer == "{{resolve:ssm:/aws/service/powertools/python/arm64/python3.13/latest}}"


def test_reserved_concurrency_comes_from_a_bounded_parameter(cfn_template: dict[str, Any]) -> None:
    function = _function(cfn_template)
    assert function["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}

    parameter = cfn_template["Parameters"]["ReservedConcurrency"]
    assert parameter["Type"] == "Number"
    assert 1 <= parameter["MinValue"] <= parameter["Default"] == 10 <= parameter["MaxValue"] <= 100


def test_function_logs_to_its_own_log_group_with_retention(cfn_template: dict[str, Any]) -> None:
    logging_config = Evaluator(cfn_template).resolve(_function(cfn_template)["LoggingConfig"])

    log_group = cfn_template["Resources"][logging_config["LogGroup"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    assert cfn_template["Parameters"]["LogRetentionInDays"]["Default"] == 30
    assert logging_config["LogFormat"] == "JSON"


def test_lambda_log_level_matches_the_powertools_log_level(cfn_template: dict[str, Any]) -> None:
    # Lambda's application log level overrides POWERTOOLS_LOG_LEVEL, so they must say the same.
    function = _function(cfn_template)
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
    function = _function(cfn_template)

    assert evaluator.resolve(function["TracingConfig"]) == {"Mode": mode}
    assert evaluator.resolve(function["Environment"])["Variables"]["ENABLE_TRACING"] == enable_tracing


def test_environment_variables_are_exactly_the_expected_set(cfn_template: dict[str, Any]) -> None:
    variables = _function(cfn_template)["Environment"]["Variables"]

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


def test_outputs_give_the_api_url_and_the_function(cfn_template: dict[str, Any]) -> None:
    outputs = Evaluator(cfn_template).resolve(cfn_template["Outputs"])

    assert outputs["HttpApiUrl"]["Value"] == f"https://{API_ID}.execute-api.eu-west-1.amazonaws.com/"
    assert outputs["SlackCommandUrl"]["Value"] == outputs["HttpApiUrl"]["Value"] + "slack/commands"
    assert outputs["FunctionArn"]["Value"] == f"{FUNCTION_ID}.Arn"
    assert outputs["FunctionName"]["Value"] == FUNCTION_ID
    assert outputs["FailedInvocationsQueueUrl"]["Value"] == QUEUE_ID


def test_handler_is_a_callable_importable_from_code_uri_with_the_template_environment(
    sam_template: dict[str, Any], cfn_template: dict[str, Any], tmp_path: Path
) -> None:
    # Given a fresh interpreter that, like Lambda, has only CodeUri on its path and the template's
    # environment (defaults), When it imports the Handler's module, Then the attribute is callable.
    properties = sam_template["Resources"][FUNCTION_ID]["Properties"]
    code_dir = (REPO_ROOT / properties["CodeUri"]).resolve()
    module_name, _, attribute = properties["Handler"].rpartition(".")
    variables = Evaluator(cfn_template).resolve(_function(cfn_template)["Environment"])["Variables"]
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": PSEUDO_PARAMETERS["AWS::Region"],
        "AWS_DEFAULT_REGION": PSEUDO_PARAMETERS["AWS::Region"],
        **{name: str(value) for name, value in variables.items()},
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
