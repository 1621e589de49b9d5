"""template.yaml's security properties, as rules over the whole transformed stack.

The other modules here pin both roles' statements exactly for chosen parameters, with the
wildcard-free actions, the queue and KMS conditions and the managed policy ARNs (test_iam_*.py); the
Lambda permissions (test_alarm_routing.py, test_http_api.py) and the queue policy; and the bounded
reserved concurrency (a parameter with MaxValue), the asynchronous retries with the on-failure
queue, the rules' retries and dead letters, the log groups' retention and the API's access log
format. None of that is repeated here. These tests state rules instead, checked over every role and
every resource policy the SAM transform produces, for the defaults and with every optional feature
on, so that a resource or permission added later is judged as well: no write but StopDeployment, the
failure records, the stop ledger, the notifications and the stop function's invocation of itself
(Slack's work handed over), a role may assume only its own member role by name and only in the
allowed accounts (organisation-wide), only Lambda may assume a role, every service a resource policy
admits is named with its source (and the organisation's principals only the allowed accounts'),
every key is the account's own, and checkov is silenced only where reviewed. Last, what is stored at
rest: the ledger (encrypted, recoverable, expiring, kept when the stack goes) and the notification
topic (encrypted with a rotated key).
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from tests.template.cfn import (
    ACCOUNT_ID,
    DECRYPT,
    DOCUMENT_ARN_PREFIX,
    FOLLOW_UP_FUNCTION_ID,
    FREEZE_CALENDARS,
    FUNCTION_ID,
    GENERATE_DATA_KEY,
    GET_CALENDAR_STATE,
    GET_ITEM,
    INVOKE_FUNCTION,
    NOTIFY_KEY_ID,
    NOTIFY_TOPIC_ARN,
    NOTIFY_TOPIC_ID,
    PUBLISH,
    PUT_ITEM,
    QUEUE_ID,
    SCAN,
    SEND_MESSAGE,
    SLACK_PARAMETER,
    SLACK_SECRET_ARN,
    STOP,
    STOP_FUNCTION_ARN,
    TABLE_ID,
    TOPIC_ARN,
    UPDATE_ITEM,
    Evaluator,
    as_list,
    resources_of_type,
)

# Actions that only return data are named with these verbs.
READ_VERBS = ("Get", "List", "BatchGet", "Describe")
# Reads of a secret: only these two, so that a broader one (ssm:GetParametersByPath, …) stands out.
SECRET_READS = {"ssm:GetParameter", "secretsmanager:GetSecretValue"}
# AWS managed policies that only write the function's own telemetry: CloudWatch Logs
# (CreateLogGroup, CreateLogStream, PutLogEvents) and X-Ray (PutTraceSegments, PutTelemetryRecords
# and the sampling rule reads).
TELEMETRY_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}
# The stop ledger's item operations: the writes are allowed on the stack's own table only.
LEDGER_ACTIONS = {PUT_ITEM, UPDATE_ITEM, GET_ITEM, SCAN}
STATEMENT_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition"}
IDENTITY_POLICY_TYPES = {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}

# Organisation-wide: the roles assume member roles by these names (member-role.yaml's roles).
ASSUME_ROLE = "sts:AssumeRole"
MEMBER_ROLE_ARN = "arn:aws:iam::*:role/StopDeploymentMember"
FOLLOW_UP_MEMBER_ROLE_ARN = "arn:aws:iam::*:role/StopDeploymentMember-FollowUp"
ALLOWED_ACCOUNTS = "111122223333,444455556666"
ORGANIZATION_ID = "o-a1b2c3d4e5"

EVERY_OPTION = {
    "DiscoverAlarmTargets": "true",
    "AlarmTopicArn": TOPIC_ARN,
    "EnableTracing": "true",
    "AllowedDeploymentGroups": "checkout/prod,*/staging",
    "FreezeCalendars": FREEZE_CALENDARS,
    "AllowedAccounts": ALLOWED_ACCOUNTS,
    "AllowedRegions": "us-east-1,eu-central-1",
    "OrganizationId": ORGANIZATION_ID,
}
CONFIGURATIONS = [
    pytest.param({}, id="defaults"),
    pytest.param({**EVERY_OPTION, "SlackSigningSecretParam": SLACK_PARAMETER}, id="every option, SSM"),
    pytest.param(
        {**EVERY_OPTION, "SlackSigningSecretParam": SLACK_SECRET_ARN}, id="every option, Secrets Manager"
    ),
    pytest.param(
        {**EVERY_OPTION, "SlackSigningSecretParam": SLACK_PARAMETER, "NotifyTopicArn": NOTIFY_TOPIC_ARN},
        id="every option, SSM, a given topic",
    ),
]

# The checkov findings reviewed for issue 5; each skip carries its reason in template.yaml.
REVIEWED_CHECKOV_SKIPS = {
    FUNCTION_ID: {"CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"},
    FOLLOW_UP_FUNCTION_ID: {"CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"},  # the same three, same reasons
    "AlarmTopicPermission": {"CKV_AWS_364"},
    QUEUE_ID: {"CKV_AWS_27"},
    "StopDeploymentLogGroup": {"CKV_AWS_158"},
    "FollowUpLogGroup": {"CKV_AWS_158"},
    "StopDeploymentApiAccessLogGroup": {"CKV_AWS_158"},
    TABLE_ID: {"CKV_AWS_119"},  # reviewed for issue 9
}


def _existing(cfn_template: Mapping[str, Any], evaluator: Evaluator) -> Iterator[tuple[str, str, Any]]:
    """(logical ID, type, evaluated properties) of each resource that exists for these parameters."""
    for logical_id, resource in cfn_template["Resources"].items():
        if "Condition" in resource and not evaluator.condition(resource["Condition"]):
            continue
        yield logical_id, resource["Type"], evaluator.resolve(resource.get("Properties", {}))


def _identity_policies(cfn_template: Mapping[str, Any], **parameters: str) -> dict[str, list[Any]]:
    """Every permission statement of every role and IAM policy in the stack, by resource."""
    evaluator = Evaluator(cfn_template, parameters)
    found: dict[str, list[Any]] = {}
    for logical_id, resource_type, properties in _existing(cfn_template, evaluator):
        if resource_type not in IDENTITY_POLICY_TYPES:
            continue
        documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        if "PolicyDocument" in properties:
            documents.append(properties["PolicyDocument"])
        found[logical_id] = [s for document in documents for s in as_list(document["Statement"])]
    return found


def _problems(statement: Mapping[str, Any], notify_topic: str) -> list[str]:
    """What is wrong with one identity-policy statement (nothing, for a Deny), given the topic the
    function notifies."""
    if set(statement) - STATEMENT_KEYS:
        return [f"{sorted(set(statement) - STATEMENT_KEYS)} in {statement}"]  # NotAction, NotResource
    if statement["Effect"] != "Allow":
        return []
    problems = []
    resources = as_list(statement["Resource"])
    condition = statement.get("Condition", {})
    for action in as_list(statement["Action"]):
        service, _, name = action.partition(":")
        if "*" in action or "?" in action:
            problems.append(f"{action}: a wildcard hides which actions it grants")
        elif action == STOP:
            pass  # the one write the function exists for; it has no resource type, so "*"
        elif action == SEND_MESSAGE:
            if resources != [f"{QUEUE_ID}.Arn"]:
                problems.append(f"{action} on {resources}: only to the stack's own failed-invocations queue")
        elif action in LEDGER_ACTIONS:
            if resources != [f"{TABLE_ID}.Arn"]:
                problems.append(f"{action} on {resources}: only on the stack's own ledger table")
        elif action == INVOKE_FUNCTION:
            if resources != [STOP_FUNCTION_ARN] or condition:
                problems.append(f"{action} on {resources}: only the stop function, by its own name")
        elif action == PUBLISH:
            if resources != [notify_topic]:
                problems.append(f"{action} on {resources}: only to the notification topic {notify_topic}")
        elif action in (DECRYPT, GENERATE_DATA_KEY):
            via = condition.get("StringEquals", {}).get("kms:ViaService", "")
            if re.fullmatch(r"sns\.[a-z0-9-]+\.amazonaws\.com", via):
                if resources != [f"{NOTIFY_KEY_ID}.Arn"]:
                    problems.append(f"{action} through SNS on {resources}: only the own topic's key")
            elif action == GENERATE_DATA_KEY or not re.fullmatch(
                r"(ssm|secretsmanager)\.[a-z0-9-]+\.amazonaws\.com", via
            ):
                problems.append(
                    f"{action} without a kms:ViaService condition for SSM, Secrets Manager or SNS"
                )
        elif action == GET_CALENDAR_STATE:
            # Freeze calendars: this account's and region's documents (the names are in JSON).
            if resources != [DOCUMENT_ARN_PREFIX + "*"]:
                problems.append(f"{action} on {resources}: only this account's Change Calendars")
        elif action == ASSUME_ROLE:
            # Organisation-wide: one member role, by its name, in this and the allowed accounts only.
            accounts = condition.get("StringEquals", {}).get("aws:ResourceAccount", [])
            if resources not in ([MEMBER_ROLE_ARN], [FOLLOW_UP_MEMBER_ROLE_ARN]):
                problems.append(f"{action} on {resources}: only a member role, by its name")
            elif not accounts or any(not re.fullmatch(r"[0-9]{12}", account) for account in accounts):
                problems.append(f"{action} without an aws:ResourceAccount condition naming accounts")
        elif service in ("ssm", "secretsmanager"):
            if action not in SECRET_READS:
                problems.append(f"{action}: only the signing secret's own read")
        elif not name.startswith(READ_VERBS):
            problems.append(f"{action}: a write")
    return problems


@pytest.mark.parametrize("parameters", CONFIGURATIONS)
def test_no_role_may_write_anything_but_stop_deployment_its_failure_records_ledger_and_notices(
    cfn_template: dict[str, Any], parameters: dict[str, str]
) -> None:
    policies = _identity_policies(cfn_template, **parameters)
    notify_topic = parameters.get("NotifyTopicArn") or NOTIFY_TOPIC_ID

    # The rules below judged at least the two functions' roles.
    assert {FUNCTION_ID + "Role", FOLLOW_UP_FUNCTION_ID + "Role"} <= set(policies)
    statements = [statement for found in policies.values() for statement in found]
    assert [problem for statement in statements for problem in _problems(statement, notify_topic)] == []
    granted = {action for statement in statements for action in as_list(statement["Action"])}
    assert {STOP, SEND_MESSAGE, PUT_ITEM, UPDATE_ITEM, PUBLISH} <= granted
    # And only the stop function's role may stop anything.
    stoppers = {
        logical_id
        for logical_id, found in policies.items()
        for statement in found
        if STOP in as_list(statement["Action"])
    }
    assert stoppers == {FUNCTION_ID + "Role"}
    # And only it may invoke a function (itself, with Slack configured: every option here has it).
    invokers = {
        logical_id
        for logical_id, found in policies.items()
        for statement in found
        if INVOKE_FUNCTION in as_list(statement["Action"])
    }
    assert invokers == ({FUNCTION_ID + "Role"} if parameters.get("SlackSigningSecretParam") else set())
    # And each role may assume only its own member role: the stop function's the one that may stop,
    # the follow-up function's the read-only one (and neither without AllowedAccounts or
    # AllowedRegions).
    assumed = {
        logical_id: [r for s in found if ASSUME_ROLE in as_list(s["Action"]) for r in as_list(s["Resource"])]
        for logical_id, found in policies.items()
    }
    if parameters.get("AllowedAccounts") or parameters.get("AllowedRegions"):
        assert assumed == {
            FUNCTION_ID + "Role": [MEMBER_ROLE_ARN],
            FOLLOW_UP_FUNCTION_ID + "Role": [FOLLOW_UP_MEMBER_ROLE_ARN],
        }
    else:
        assert all(found == [] for found in assumed.values())
    evaluator = Evaluator(cfn_template, parameters)
    for _, resource_type, properties in _existing(cfn_template, evaluator):
        if resource_type == "AWS::IAM::Role":
            assert set(properties.get("ManagedPolicyArns", [])) <= TELEMETRY_POLICIES


@pytest.mark.parametrize("parameters", CONFIGURATIONS)
def test_only_lambda_may_assume_any_role_in_the_stack(
    cfn_template: dict[str, Any], parameters: dict[str, str]
) -> None:
    evaluator = Evaluator(cfn_template, parameters)

    roles = [p for _, t, p in _existing(cfn_template, evaluator) if t == "AWS::IAM::Role"]

    assert roles
    for role in roles:
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Action": ["sts:AssumeRole"],
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com"]},
            }
        ]


@pytest.mark.parametrize("parameters", CONFIGURATIONS)
def test_resource_policies_admit_only_aws_services_and_only_from_named_sources(
    cfn_template: dict[str, Any], parameters: dict[str, str]
) -> None:
    # A service admitted without aws:SourceArn or aws:SourceAccount could be made to act for another
    # account (the confused deputy). Lambda permissions are checked in
    # test_alarm_routing.py and test_http_api.py.
    evaluator = Evaluator(cfn_template, parameters)

    existing = list(_existing(cfn_template, evaluator))
    statements = [
        statement
        for _, resource_type, properties in existing
        if resource_type not in IDENTITY_POLICY_TYPES and "PolicyDocument" in properties
        for statement in as_list(properties["PolicyDocument"]["Statement"])
    ]
    # The default bus's statement (organisation-wide) is a property of its own.
    bus_statements = [p["Statement"] for _, t, p in existing if t == "AWS::Events::EventBusPolicy"]

    assert statements  # the failed-invocations queue's policy, at least
    for statement in [*statements, *bus_statements]:
        assert statement["Effect"] == "Allow"
        assert set(statement) <= STATEMENT_KEYS | {"Principal"}, statement
        if statement["Principal"] == "*":
            # Only the organisation's principals, in the allowed accounts, putting events.
            assert statement["Action"] == "events:PutEvents", statement
            assert statement["Condition"]["StringEquals"] == {
                "aws:PrincipalOrgID": parameters["OrganizationId"],
                "aws:PrincipalAccount": parameters["AllowedAccounts"].split(","),
            }
            continue
        assert set(statement["Principal"]) == {"Service"}, statement
        services = as_list(statement["Principal"]["Service"])
        assert all(service.endswith(".amazonaws.com") for service in services)
        sources = {key for operator in statement["Condition"].values() for key in operator}
        assert sources & {"aws:SourceArn", "aws:SourceAccount"}, statement


def test_checkov_is_silenced_only_where_reviewed_and_each_skip_says_why(sam_template: dict[str, Any]) -> None:
    assert "checkov" not in sam_template.get("Metadata", {})  # no template-wide skip

    skips = {
        logical_id: resource["Metadata"]["checkov"]["skip"]
        for logical_id, resource in sam_template["Resources"].items()
        if "checkov" in resource.get("Metadata", {})
    }

    assert {logical_id: {skip["id"] for skip in found} for logical_id, found in skips.items()} == (
        REVIEWED_CHECKOV_SKIPS
    )
    for found in skips.values():
        for skip in found:
            assert set(skip) == {"id", "comment"}
            assert len(skip["comment"].split()) >= 10, skip  # a reason, not a placeholder


@pytest.mark.parametrize("parameters", CONFIGURATIONS)
def test_every_key_in_the_stack_is_the_accounts_own_and_rotated(
    cfn_template: dict[str, Any], parameters: dict[str, str]
) -> None:
    # A key policy is the only thing that lets anyone use a KMS key: here only this account (whose
    # IAM policies then grant the use, see test_iam_*.py), and no service, no other account, no "*".
    keys = resources_of_type(cfn_template, "AWS::KMS::Key", **parameters)

    assert set(keys) == (set() if parameters.get("NotifyTopicArn") else {NOTIFY_KEY_ID})
    for key in keys.values():
        assert key["EnableKeyRotation"] is True
        assert key.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"  # SNS takes no other
        for statement in as_list(key["KeyPolicy"]["Statement"]):
            assert set(statement) <= STATEMENT_KEYS | {"Principal"}, statement
            assert statement["Effect"] == "Allow"
            assert statement["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, statement


def test_ledger_is_encrypted_recoverable_expiring_and_outlives_the_stack(
    sam_template: dict[str, Any], cfn_template: dict[str, Any]
) -> None:
    # The ledger is the audit record of what the kill switch stopped.
    table = cfn_template["Resources"][TABLE_ID]
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert "Condition" not in table

    [properties] = resources_of_type(cfn_template, "AWS::DynamoDB::Table").values()

    assert properties["KeySchema"] == [{"AttributeName": "deploymentId", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [{"AttributeName": "deploymentId", "AttributeType": "S"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # KMS under the AWS managed key aws/dynamodb (the CKV_AWS_119 skip says why not a customer key).
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert not {"GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"} & set(properties)


@pytest.mark.parametrize(
    ("parameters", "created"),
    [({}, True), ({"NotifyTopicArn": ""}, True), ({"NotifyTopicArn": NOTIFY_TOPIC_ARN}, False)],
)
def test_notification_topic_is_created_encrypted_with_its_own_key_only_when_none_is_given(
    cfn_template: dict[str, Any], parameters: dict[str, str], created: bool
) -> None:
    topics = resources_of_type(cfn_template, "AWS::SNS::Topic", **parameters)
    keys = resources_of_type(cfn_template, "AWS::KMS::Key", **parameters)

    if not created:
        assert (topics, keys) == ({}, {})
        return
    assert set(topics) == {NOTIFY_TOPIC_ID}
    assert set(keys) == {NOTIFY_KEY_ID}
    assert topics[NOTIFY_TOPIC_ID]["KmsMasterKeyId"] == f"{NOTIFY_KEY_ID}.Arn"
    assert "FifoTopic" not in topics[NOTIFY_TOPIC_ID]  # the function publishes without a group ID
    key = cfn_template["Resources"][NOTIFY_KEY_ID]
    assert cfn_template["Resources"][NOTIFY_TOPIC_ID]["Condition"] == key["Condition"]
