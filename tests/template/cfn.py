"""What the template tests share: the template's names, its loading, and CloudFormation worked out offline.

The SAM translator turns the template into CloudFormation (see conftest.py); `Evaluator` then works
out the intrinsic functions for chosen parameter values, as CloudFormation would. Not a test module.
It also holds the IAM actions, and the roles' statements that the test_iam_*.py modules share.
"""

import json
import re
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from cfnlint.decode import decode  # type: ignore[import-untyped]

from stop_deployment.ledger import FREEZES_KEY
from stop_deployment.triggers.slack.confirm import PREFIX as CONFIRMATION_PREFIX

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
# Organisation-wide: the member accounts' template (plain CloudFormation, deployed as a StackSet).
MEMBER_TEMPLATE_PATH = REPO_ROOT / "member-role.yaml"
EVENTS_DIR = REPO_ROOT / "events"

# What `sam deploy` would supply: the region of the stack, and the account from the credentials.
REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": "stop-deployment",
    "AWS::URLSuffix": "amazonaws.com",
}

# Logical IDs, in the template and in what the SAM transform makes of it. The stop function takes
# every way in, the deployments that start and the freeze sweep (freezes); the follow-up function
# takes how deployments end and the follow-ups' sweep.
FUNCTION_ID = "StopDeploymentFunction"
FOLLOW_UP_FUNCTION_ID = "FollowUpFunction"
FUNCTION_IDS = (FUNCTION_ID, FOLLOW_UP_FUNCTION_ID)
API_ID = "StopDeploymentApi"
QUEUE_ID = "FailedInvocationsQueue"
FUNCTION_LOG_GROUP_ID = "StopDeploymentLogGroup"
FOLLOW_UP_LOG_GROUP_ID = "FollowUpLogGroup"
ACCESS_LOG_GROUP_ID = "StopDeploymentApiAccessLogGroup"
ALARM_RULE_ID = f"{FUNCTION_ID}AlarmStateChange"
REQUEST_RULE_ID = f"{FUNCTION_ID}StopDeploymentRequest"
START_RULE_ID = f"{FUNCTION_ID}CodeDeployStart"
FREEZE_SWEEP_RULE_ID = f"{FUNCTION_ID}SweepFrozenGroups"
CODEDEPLOY_RULE_ID = f"{FOLLOW_UP_FUNCTION_ID}CodeDeployStateChange"
SWEEP_RULE_ID = f"{FOLLOW_UP_FUNCTION_ID}SweepUnconfirmedStops"
TABLE_ID = "StopsTable"
NOTIFY_TOPIC_ID = "NotifyTopic"
NOTIFY_KEY_ID = "NotifyTopicKey"

GROUP_ARN_PREFIX = "arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:"
APPLICATION_ARN_PREFIX = "arn:aws:codedeploy:eu-west-1:123456789012:application:"
ALARM_ARN_PREFIX = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:"
DOCUMENT_ARN_PREFIX = "arn:aws:ssm:eu-west-1:123456789012:document/"

# Parameter values the tests choose.
TOPIC_ARN = "arn:aws:sns:eu-central-1:111122223333:kill-switch"
SLACK_PARAMETER = "/stop-deployment/slack-signing-secret"
SLACK_SECRET_ARN = (
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:stop-deployment/slack-signing-secret-AbCdEf"
)
# The routes Slack signs (no authorizer): the slash command, and the app's interactivity (clicks).
SLACK_COMMAND_ROUTE = ("POST", "/slack/commands")
SLACK_INTERACTION_ROUTE = ("POST", "/slack/interactions")
SLACK_ROUTES = (SLACK_COMMAND_ROUTE, SLACK_INTERACTION_ROUTE)
# The IAM-authorised routes: stops and reads of deployments, and the manual freezes.
STOP_ROUTES = (
    ("POST", "/stop"),
    ("POST", "/deployments/{deploymentId}/stop"),
    ("GET", "/deployments/{deploymentId}"),
)
FREEZE_ROUTES = (
    ("PUT", "/freezes/{application}/{group}"),
    ("DELETE", "/freezes/{application}/{group}"),
    ("GET", "/freezes"),
)
# What the freeze sweep's schedule sends the stop function (it recognises exactly this shape).
FREEZE_SWEEP_INPUT = {"sweep": "freezes"}
NOTIFY_TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:release-notifications"
FREEZE_CALENDARS = '{"*/prod":["holiday-freeze"],"payments/*":["pci-window","holiday-freeze"]}'

# The stop function is named (so that its role can name it without a circular dependency): its
# name and unqualified ARN for the stack name in PSEUDO_PARAMETERS.
STOP_FUNCTION_NAME = "stop-deployment-StopDeployment"
STOP_FUNCTION_ARN = f"arn:aws:lambda:eu-west-1:123456789012:function:{STOP_FUNCTION_NAME}"

# What CloudFormation would name the resources whose Ref the function's environment carries, for
# the tests that hand that environment to the settings (Evaluator gives the logical IDs instead).
PHYSICAL_IDS = {
    TABLE_ID: "stop-deployment-StopsTable-1A2B3C4D5E6F",
    NOTIFY_TOPIC_ID: "arn:aws:sns:eu-west-1:123456789012:stop-deployment-NotifyTopic-AbCdEfGh1234",
}

# IAM actions.
STOP = "codedeploy:StopDeployment"
GET = "codedeploy:GetDeployment"
LIST = "codedeploy:ListDeployments"
BATCH_GET = "codedeploy:BatchGetDeployments"
BATCH_GET_GROUPS = "codedeploy:BatchGetDeploymentGroups"
LIST_APPLICATIONS = "codedeploy:ListApplications"
LIST_GROUPS = "codedeploy:ListDeploymentGroups"
LIST_ALARM_TAGS = "cloudwatch:ListTagsForResource"
DESCRIBE_ALARMS = "cloudwatch:DescribeAlarms"
GET_CALENDAR_STATE = "ssm:GetCalendarState"
SEND_MESSAGE = "sqs:SendMessage"
GET_PARAMETER = "ssm:GetParameter"
GET_SECRET = "secretsmanager:GetSecretValue"
DECRYPT = "kms:Decrypt"
GENERATE_DATA_KEY = "kms:GenerateDataKey"
PUT_ITEM = "dynamodb:PutItem"
UPDATE_ITEM = "dynamodb:UpdateItem"
GET_ITEM = "dynamodb:GetItem"
SCAN = "dynamodb:Scan"
QUERY = "dynamodb:Query"
DELETE_ITEM = "dynamodb:DeleteItem"
INVOKE_FUNCTION = "lambda:InvokeFunction"
PUBLISH = "sns:Publish"

# The roles' inline statements as role_statements gives them, that the test_iam_* modules share.
# The stop ledger, on the stack's own table only (no index): the stop function records stops (a
# conditional put, on any key: the freezes item and confirmation prompts are first put too), reads
# any one item (the freezes, a prompt, a stop for Slack's status command), and updates only the one
# item that holds the set freezes and the confirmation prompts.
RECORD_STOPS = {"Effect": "Allow", "Action": [PUT_ITEM], "Resource": [f"{TABLE_ID}.Arn"]}
READ_LEDGER_ITEMS = {"Effect": "Allow", "Action": [GET_ITEM], "Resource": [f"{TABLE_ID}.Arn"]}
SET_FREEZES_AND_CLAIM_CONFIRMATIONS = {
    "Effect": "Allow",
    "Action": [UPDATE_ITEM],
    "Resource": [f"{TABLE_ID}.Arn"],
    "Condition": {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [FREEZES_KEY, CONFIRMATION_PREFIX + "*"]}
    },
}
STOP_ROLE_LEDGER = [RECORD_STOPS, READ_LEDGER_ITEMS, SET_FREEZES_AND_CLAIM_CONFIRMATIONS]
# With Slack: the work handed over to an asynchronous invocation of the stop function itself.
DEFER_SLACK_WORK_TO_ITSELF = {"Effect": "Allow", "Action": [INVOKE_FUNCTION], "Resource": [STOP_FUNCTION_ARN]}
# What SAM adds to each role for the EventInvokeConfig's on-failure destination.
SEND_FAILURES = {"Effect": "Allow", "Action": [SEND_MESSAGE], "Resource": [f"{QUEUE_ID}.Arn"]}
# Notifications to the stack's own topic, and its key used through SNS only.
PUBLISH_TO_OWN_TOPIC = {"Effect": "Allow", "Action": [PUBLISH], "Resource": [NOTIFY_TOPIC_ID]}
ENCRYPT_FOR_OWN_TOPIC = {
    "Effect": "Allow",
    "Action": sorted([GENERATE_DATA_KEY, DECRYPT]),
    "Resource": [f"{NOTIFY_KEY_ID}.Arn"],
    "Condition": {"StringEquals": {"kms:ViaService": "sns.eu-west-1.amazonaws.com"}},
}
# Globs (e.g. */prod) expanded into groups, by the freeze sweep and discovery: every application of
# the account and region (ListApplications has no resource type).
LIST_APPLICATIONS_ANYWHERE = {"Effect": "Allow", "Action": [LIST_APPLICATIONS], "Resource": ["*"]}
LIST_GROUPS_OF_APPLICATIONS = {
    "Effect": "Allow",
    "Action": [LIST_GROUPS],
    "Resource": [APPLICATION_ARN_PREFIX + "*"],
}
# Alarm freezes: the alarms in ALARM (on "*": composite alarms are listed only so).
READ_ALARMS_IN_ALARM = {"Effect": "Allow", "Action": [DESCRIBE_ALARMS], "Resource": ["*"]}

NO_VALUE = object()  # what Ref AWS::NoValue evaluates to: the item or key disappears


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """template.yaml (or another template) as written, short-form intrinsics expanded to their long
    form."""
    template, matches = decode(str(path))
    assert not matches, [str(match) for match in matches]
    # cfn-lint's decoder returns str/dict subclasses that carry line numbers; make them plain.
    plain: dict[str, Any] = json.loads(json.dumps(template))
    return plain


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


def load_event(name: str) -> Any:
    """One of the events/ files that `sam local invoke` and the other tests use."""
    return json.loads((EVENTS_DIR / name).read_text())


def as_list(value: Any) -> list[Any]:
    """A policy's Action, Resource or Statement, which may be one item or a list, as a list."""
    return value if isinstance(value, list) else [value]


def function_properties(cfn_template: Mapping[str, Any], function_id: str = FUNCTION_ID) -> Mapping[str, Any]:
    """A function's properties in the transformed template (Globals merged in), not evaluated."""
    function: Mapping[str, Any] = cfn_template["Resources"][function_id]
    assert function["Type"] == "AWS::Lambda::Function"
    properties: Mapping[str, Any] = function["Properties"]
    return properties


def role_properties(cfn_template: Mapping[str, Any], function_id: str = FUNCTION_ID) -> Mapping[str, Any]:
    """The properties of a function's execution role, not evaluated."""
    role_id, attribute = function_properties(cfn_template, function_id)["Role"]["Fn::GetAtt"]
    role: Mapping[str, Any] = cfn_template["Resources"][role_id]
    assert (role["Type"], attribute) == ("AWS::IAM::Role", "Arn")
    properties: Mapping[str, Any] = role["Properties"]
    return properties


def role_statements(
    cfn_template: Mapping[str, Any], *, function_id: str = FUNCTION_ID, **parameters: str
) -> list[dict[str, Any]]:
    """A function role's inline statements (the stop function's unless named), evaluated for the
    parameter values, Sid left out."""
    evaluator = Evaluator(cfn_template, parameters)
    statements = []
    for policy in role_properties(cfn_template, function_id).get("Policies", []):
        for statement in evaluator.resolve(policy["PolicyDocument"]["Statement"]):
            assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement
            condition = {"Condition": statement["Condition"]} if "Condition" in statement else {}
            statements.append(
                {
                    "Effect": statement["Effect"],
                    "Action": sorted(as_list(statement["Action"])),
                    "Resource": as_list(statement["Resource"]),
                    **condition,
                }
            )
    return statements


def deployed_environment(
    cfn_template: Mapping[str, Any], *, function_id: str = FUNCTION_ID, **parameters: str
) -> dict[str, str]:
    """A function's environment variables for the parameter values, with the physical names
    CloudFormation would give the resources they refer to (PHYSICAL_IDS)."""
    evaluator = Evaluator(cfn_template, {**PHYSICAL_IDS, **parameters})
    environment = evaluator.resolve(function_properties(cfn_template, function_id)["Environment"])
    return {name: str(value) for name, value in environment["Variables"].items()}


def resources_of_type(
    cfn_template: Mapping[str, Any], resource_type: str, **parameters: str
) -> dict[str, Any]:
    """The resources of a type that exist for the parameter values, by logical ID, evaluated."""
    evaluator = Evaluator(cfn_template, parameters)
    return {
        logical_id: evaluator.resolve(resource["Properties"])
        for logical_id, resource in cfn_template["Resources"].items()
        if resource["Type"] == resource_type
        and ("Condition" not in resource or evaluator.condition(resource["Condition"]))
    }


def api_operations(cfn_template: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """The HTTP API's operations by (METHOD, path), from the OpenAPI body SAM gives the API."""
    api = cfn_template["Resources"][API_ID]
    assert api["Type"] == "AWS::ApiGatewayV2::Api"
    return {
        (method.upper(), path): operation
        for path, methods in api["Properties"]["Body"]["paths"].items()
        for method, operation in methods.items()
    }


def pattern_matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """EventBridge pattern matching, for the parts of the syntax the template uses.

    Every field of the pattern must be in the event; a list matches when the event's value equals
    one of its literals or starts with a {"prefix": ...} of it.
    """
    for field, expected in pattern.items():
        if field not in event:
            return False
        value = event[field]
        if isinstance(expected, Mapping):
            if not (isinstance(value, Mapping) and pattern_matches(expected, value)):
                return False
            continue
        assert all(isinstance(item, str) or set(item) == {"prefix"} for item in expected), expected
        if not any(
            value == item if isinstance(item, str) else str(value).startswith(item["prefix"])
            for item in expected
        ):
            return False
    return True


def allows(
    statements: Sequence[Mapping[str, Any]], action: str, resource: str, leading_keys: Sequence[str] = ()
) -> bool:
    """Whether the (Allow-only) statements allow one request: an action on a resource, with the
    partition keys a DynamoDB request names. Only the conditions this template uses are understood;
    any other one fails the test rather than being guessed at."""
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if action not in statement["Action"]:
            continue
        if not any(fnmatchcase(resource, pattern) for pattern in statement["Resource"]):
            continue
        condition = statement.get("Condition", {})
        if not condition:
            return True
        [(operator, keys)] = condition.items()
        [(key, values)] = keys.items()
        assert key == "dynamodb:LeadingKeys", key
        if operator == "ForAllValues:StringEquals":
            matches = all(found in values for found in leading_keys)
        else:
            # StringLike: * and ? as in fnmatch (the template's values use no [...]).
            assert operator == "ForAllValues:StringLike", condition
            assert not any("[" in value for value in values), values
            matches = all(any(fnmatchcase(found, value) for value in values) for found in leading_keys)
        if matches:
            return True
    return False
