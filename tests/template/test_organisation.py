"""Organisation-wide, in the central stack: the parameters and the variables they become, the roles'
sts:AssumeRole on the member roles, the default bus's policy for the events member accounts forward,
the CodeDeploy START rule that takes them, and the outputs member-role.yaml is given.

member-role.yaml itself (the roles assumed, the forwarding rules) is checked in test_member_role.py;
here, where the two templates must agree.
"""

import json
import re
from typing import Any

import pytest

from stop_deployment import settings
from tests.template.cfn import (
    ACCOUNT_ID,
    ALARM_RULE_ID,
    CODEDEPLOY_RULE_ID,
    FOLLOW_UP_FUNCTION_ID,
    FREEZE_CALENDARS,
    FUNCTION_ID,
    FUNCTION_IDS,
    REQUEST_RULE_ID,
    SLACK_PARAMETER,
    START_RULE_ID,
    Evaluator,
    deployed_environment,
    function_properties,
    load_event,
    pattern_matches,
    resources_of_type,
    role_statements,
)

ALLOWED_ACCOUNTS = "111122223333,444455556666"
MEMBER_ACCOUNT = "444455556666"
ORGANIZATION_ID = "o-a1b2c3d4e5"
ASSUME_ROLE = "sts:AssumeRole"
BUS_ARN = f"arn:aws:events:eu-west-1:{ACCOUNT_ID}:event-bus/default"
BUS_POLICY_ID = "MemberEventsBusPolicy"
# The role each function assumes elsewhere: the stop function's may stop, the follow-up's only read.
MEMBER_ROLES = {FUNCTION_ID: "StopDeploymentMember", FOLLOW_UP_FUNCTION_ID: "StopDeploymentMember-FollowUp"}
# What member-role.yaml's rules forward (the event types the central rules take).
ALARM_EVENT_TYPE = ("aws.cloudwatch", "CloudWatch Alarm State Change")
DEPLOYMENT_EVENT_TYPE = ("aws.codedeploy", "CodeDeploy Deployment State-change Notification")
# Role chaining caps a session at an hour, and IAM a role name at 64 characters.
ROLE_NAME = r"[\w+=,.@-]{1,64}"


def _assume_statement(function_id: str, accounts: list[str], organization: str = "") -> dict[str, Any]:
    equals: dict[str, Any] = {"aws:ResourceAccount": accounts}
    if organization:
        equals["aws:ResourceOrgID"] = organization
    return {
        "Effect": "Allow",
        "Action": [ASSUME_ROLE],
        "Resource": [f"arn:aws:iam::*:role/{MEMBER_ROLES[function_id]}"],
        "Condition": {"StringEquals": equals},
    }


def _forwarded(event: dict[str, Any], account: str = MEMBER_ACCOUNT) -> dict[str, Any]:
    """An event as a member account's rule puts it on the central bus: unchanged, its account kept."""
    return {**event, "account": account, "region": "us-east-1"}


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("AllowedAccounts", "", True),
        ("AllowedAccounts", "111122223333", True),
        ("AllowedAccounts", ALLOWED_ACCOUNTS, True),
        ("AllowedAccounts", ",".join(["111122223333"] * 50), True),
        ("AllowedAccounts", "111122223333, 444455556666", False),  # no spaces
        ("AllowedAccounts", "111122223333,", False),
        ("AllowedAccounts", "11112222333", False),  # 11 digits
        ("AllowedAccounts", "*", False),  # every account is not a list
        ("AllowedAccounts", ",".join(["111122223333"] * 51), False),  # over MaxLength
        ("AllowedRegions", "", True),
        ("AllowedRegions", "eu-west-1", True),
        ("AllowedRegions", "eu-west-1,us-east-1,ap-southeast-2,us-gov-west-1,cn-north-1,ca-central-1", True),
        ("AllowedRegions", "eu-west-1, us-east-1", False),
        ("AllowedRegions", "EU-WEST-1", False),
        ("AllowedRegions", "eu-west", False),
        ("AllowedRegions", "*", False),
        ("MemberRoleName", "StopDeploymentMember", True),
        ("MemberRoleName", "team+a=b,c.d@e_f-g", True),
        ("MemberRoleName", "x" * 55, True),
        ("MemberRoleName", "x" * 56, False),  # the follow-up's <name>-FollowUp would be over 64
        ("MemberRoleName", "", False),
        ("MemberRoleName", "path/role", False),  # a name, not a path
        ("MemberRoleName", "Stop*", False),  # a wildcard in the sts:AssumeRole resource
        ("OrganizationId", "", True),
        ("OrganizationId", ORGANIZATION_ID, True),
        ("OrganizationId", "o-" + "a" * 32, True),
        ("OrganizationId", "o-abc", False),
        ("OrganizationId", "r-a1b2", False),
        ("OrganizationId", "ou-a1b2-c3d4e5f6", False),
    ],
)
def test_organisation_parameter_patterns(
    sam_template: dict[str, Any], name: str, value: str, accepted: bool
) -> None:
    parameter = sam_template["Parameters"][name]

    fits = len(value) <= parameter.get("MaxLength", len(value))
    assert bool(fits and re.fullmatch(parameter["AllowedPattern"], value)) is accepted
    if accepted and name == "MemberRoleName":
        assert re.fullmatch(ROLE_NAME, value + "-FollowUp")


def test_organisation_parameters_default_to_this_account_and_region_only(
    sam_template: dict[str, Any],
) -> None:
    parameters = sam_template["Parameters"]

    assert parameters["AllowedAccounts"]["Default"] == ""
    assert parameters["AllowedRegions"]["Default"] == ""
    assert parameters["OrganizationId"]["Default"] == ""
    assert parameters["MemberRoleName"]["Default"] == "StopDeploymentMember"
    for name in ("AllowedAccounts", "AllowedRegions", "MemberRoleName", "OrganizationId"):
        assert len(parameters[name]["Description"].split()) >= 10, name  # what and why


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_functions_get_the_organisation_settings_and_each_its_own_member_role(
    cfn_template: dict[str, Any], function_id: str
) -> None:
    defaults = deployed_environment(cfn_template, function_id=function_id)
    given = deployed_environment(
        cfn_template,
        function_id=function_id,
        AllowedAccounts=ALLOWED_ACCOUNTS,
        AllowedRegions="us-east-1,eu-central-1",
        MemberRoleName="KillSwitch",
    )

    assert (defaults["ALLOWED_ACCOUNTS"], defaults["ALLOWED_REGIONS"]) == ("", "")
    assert defaults["MEMBER_ROLE_NAME"] == MEMBER_ROLES[function_id]
    assert (given["ALLOWED_ACCOUNTS"], given["ALLOWED_REGIONS"]) == (
        ALLOWED_ACCOUNTS,
        "us-east-1,eu-central-1",
    )
    assert given["MEMBER_ROLE_NAME"] == MEMBER_ROLES[function_id].replace(
        "StopDeploymentMember", "KillSwitch"
    )


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_settings_take_every_organisation_value_the_parameters_allow(
    cfn_template: dict[str, Any], function_id: str
) -> None:
    # Whatever CloudFormation lets through, the function starts with, and reads as meant.
    defaults = settings.load(deployed_environment(cfn_template, function_id=function_id))
    assert (defaults.allowed_accounts, defaults.allowed_regions) == (frozenset(), frozenset())
    assert defaults.member_role_name == MEMBER_ROLES[function_id]

    regions = "eu-west-1,us-east-1,ap-southeast-2,us-gov-west-1,cn-north-1,ca-central-1,eu-central-2"
    loaded = settings.load(
        deployed_environment(
            cfn_template,
            function_id=function_id,
            AllowedAccounts=ALLOWED_ACCOUNTS,
            AllowedRegions=regions,
            MemberRoleName="x" * 55,
        )
    )
    assert loaded.allowed_accounts == frozenset(ALLOWED_ACCOUNTS.split(","))
    assert loaded.allowed_regions == frozenset(regions.split(","))
    assert loaded.member_role_name.startswith("x" * 55)


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_roles_assume_no_member_role_when_they_act_here_only(
    cfn_template: dict[str, Any], function_id: str
) -> None:
    for parameters in ({}, {"OrganizationId": ORGANIZATION_ID}, {"MemberRoleName": "KillSwitch"}):
        assert Evaluator(cfn_template, parameters).condition("ActsThroughMemberRoles") is False

        statements = role_statements(cfn_template, function_id=function_id, **parameters)

        assert not [s for s in statements if ASSUME_ROLE in s["Action"]]
        assert not [a for s in statements for a in s["Action"] if a.startswith("sts:")]


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
@pytest.mark.parametrize("organization", ["", ORGANIZATION_ID])
def test_with_allowed_accounts_each_role_may_assume_its_member_role_only_there(
    cfn_template: dict[str, Any], function_id: str, organization: str
) -> None:
    # Given AllowedAccounts (and maybe the organisation), Then exactly one statement is added: the
    # function's own member role, by name, in this account and the allowed ones (and only in the
    # organisation when it is given); everything else stays as it was.
    baseline = role_statements(cfn_template, function_id=function_id, OrganizationId=organization)

    statements = role_statements(
        cfn_template, function_id=function_id, AllowedAccounts=ALLOWED_ACCOUNTS, OrganizationId=organization
    )

    accounts = [ACCOUNT_ID, *ALLOWED_ACCOUNTS.split(",")]
    assert statements == [*baseline, _assume_statement(function_id, accounts, organization)]


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_with_allowed_regions_only_each_role_may_assume_its_member_role_in_this_account(
    cfn_template: dict[str, Any], function_id: str
) -> None:
    # The function acts in this account's other regions through the member role here too (its own
    # statements name this region only).
    statements = role_statements(cfn_template, function_id=function_id, AllowedRegions="us-east-1")

    assert [s for s in statements if ASSUME_ROLE in s["Action"]] == [
        _assume_statement(function_id, [ACCOUNT_ID])
    ]


def test_neither_role_may_assume_the_other_functions_member_role(cfn_template: dict[str, Any]) -> None:
    # The follow-up function stops nothing in another account either: its member role only reads.
    assumed = {
        function_id: [
            resource
            for s in role_statements(cfn_template, function_id=function_id, AllowedAccounts=ALLOWED_ACCOUNTS)
            if ASSUME_ROLE in s["Action"]
            for resource in s["Resource"]
        ]
        for function_id in FUNCTION_IDS
    }

    assert assumed == {
        FUNCTION_ID: ["arn:aws:iam::*:role/StopDeploymentMember"],
        FOLLOW_UP_FUNCTION_ID: ["arn:aws:iam::*:role/StopDeploymentMember-FollowUp"],
    }
    assert not any("*" in resource.rpartition("/")[2] for found in assumed.values() for resource in found)


def test_worst_case_inline_policies_stay_within_iams_limit(cfn_template: dict[str, Any]) -> None:
    # IAM allows 10,240 characters of inline policy per role. With every list at its longest (10
    # globs of 201 characters, 50 accounts, every option on), each role's policies stay under it
    # with 1,024 characters to spare for the real ARNs the evaluator writes as short names.
    glob = "a" * 100 + "/" + "b" * 100
    longest = {
        "AllowedDeploymentGroups": ",".join([glob] * 10),
        "AllowedAccounts": ",".join(["111122223333"] * 50),
        "AllowedRegions": "us-east-1",
        "OrganizationId": "o-" + "a" * 32,
        "MemberRoleName": "m" * 55,
        "AlarmNamePrefix": "p" * 100,
        "DiscoverAlarmTargets": "true",
        "FreezeCalendars": FREEZE_CALENDARS,
        "SlackSigningSecretParam": SLACK_PARAMETER,
    }
    parameter = cfn_template["Parameters"]["AllowedAccounts"]
    assert len(longest["AllowedAccounts"]) == parameter["MaxLength"]

    for function_id in FUNCTION_IDS:
        statements = role_statements(cfn_template, function_id=function_id, **longest)
        size = len(json.dumps(statements, separators=(",", ":")))
        assert size <= 10240 - 1024, (function_id, size)


@pytest.mark.parametrize(
    ("parameters", "exists"),
    [
        ({}, False),
        ({"OrganizationId": ORGANIZATION_ID}, False),  # no account to admit events from
        ({"AllowedAccounts": ALLOWED_ACCOUNTS}, False),  # no organisation: no bus policy
        ({"AllowedRegions": "us-east-1"}, False),  # this account's own regions need none
        ({"AllowedAccounts": ALLOWED_ACCOUNTS, "OrganizationId": ORGANIZATION_ID}, True),
    ],
)
def test_default_bus_admits_other_accounts_only_with_the_organisation_and_allowed_accounts(
    cfn_template: dict[str, Any], parameters: dict[str, str], exists: bool
) -> None:
    policies = resources_of_type(cfn_template, "AWS::Events::EventBusPolicy", **parameters)

    assert set(policies) == ({BUS_POLICY_ID} if exists else set())


def test_bus_policy_admits_only_forwarded_alarms_and_deployments_from_allowed_accounts_of_the_organisation(
    cfn_template: dict[str, Any],
) -> None:
    [policy] = resources_of_type(
        cfn_template,
        "AWS::Events::EventBusPolicy",
        AllowedAccounts=ALLOWED_ACCOUNTS,
        OrganizationId=ORGANIZATION_ID,
    ).values()

    assert policy["EventBusName"] == "default"  # the bus the functions' rules listen on
    assert policy["StatementId"] == "stop-deployment-member-events"
    assert not {"Action", "Principal", "Condition"} & set(policy)  # all in the one statement
    assert policy["Statement"] == {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "events:PutEvents",
        "Resource": BUS_ARN,
        "Condition": {
            "StringEquals": {
                "aws:PrincipalOrgID": ORGANIZATION_ID,
                "aws:PrincipalAccount": ALLOWED_ACCOUNTS.split(","),
            },
            "ForAllValues:StringEquals": {
                "events:source": ["aws.cloudwatch", "aws.codedeploy"],
                "events:detail-type": [ALARM_EVENT_TYPE[1], DEPLOYMENT_EVENT_TYPE[1]],
            },
        },
    }
    # Only AWS services' own sources, which PutEvents refuses to anyone else: no member account can
    # put a stop request (any source, its own detail-type) on this bus.
    admitted = policy["Statement"]["Condition"]["ForAllValues:StringEquals"]
    assert all(source.startswith("aws.") for source in admitted["events:source"])
    stop_request = load_event("eventbridge-stop-request.json")
    assert stop_request["detail-type"] not in admitted["events:detail-type"]
    assert stop_request["source"] not in admitted["events:source"]


def test_bus_policy_admits_what_member_accounts_forward(
    cfn_template: dict[str, Any], member_template: dict[str, Any]
) -> None:
    # Given member-role.yaml's rules, Then every event type they forward passes the bus policy (or
    # it would be dropped on the way), and they forward to the bus the central stack names.
    [policy] = resources_of_type(
        cfn_template,
        "AWS::Events::EventBusPolicy",
        AllowedAccounts=ALLOWED_ACCOUNTS,
        OrganizationId=ORGANIZATION_ID,
    ).values()
    admitted = policy["Statement"]["Condition"]["ForAllValues:StringEquals"]
    member = {
        "CentralRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/r",
        "RoleRegion": "us-east-1",
        "CentralEventBusArn": Evaluator(cfn_template).resolve(
            cfn_template["Outputs"]["CentralEventBusArn"]["Value"]
        ),
        "AlarmNamePrefix": "kill-switch-",
        "ForwardDeploymentEvents": "true",
        "AWS::AccountId": MEMBER_ACCOUNT,
        "AWS::Region": "us-east-1",
    }

    rules = resources_of_type(member_template, "AWS::Events::Rule", **member)

    assert len(rules) == 2
    for rule in rules.values():
        assert set(rule["EventPattern"]["source"]) <= set(admitted["events:source"])
        assert set(rule["EventPattern"]["detail-type"]) <= set(admitted["events:detail-type"])
        assert [target["Arn"] for target in rule["Targets"]] == [policy["Statement"]["Resource"]]


def test_start_rule_takes_the_allowed_accounts_forwarded_deployments_and_no_others(
    cfn_template: dict[str, Any],
) -> None:
    # A forwarded event keeps the account it happened in, so the START rule's account pin must
    # name the allowed accounts, or the freezes would never see their deployments start.
    start = load_event("codedeploy-state-change-start.json")

    alone = resources_of_type(cfn_template, "AWS::Events::Rule")[START_RULE_ID]["EventPattern"]
    rules = resources_of_type(cfn_template, "AWS::Events::Rule", AllowedAccounts=ALLOWED_ACCOUNTS)
    pattern = rules[START_RULE_ID]["EventPattern"]

    assert alone["account"] == [ACCOUNT_ID]
    assert pattern == {**alone, "account": [ACCOUNT_ID, *ALLOWED_ACCOUNTS.split(",")]}
    assert pattern_matches(pattern, start)
    for account in ALLOWED_ACCOUNTS.split(","):
        assert pattern_matches(pattern, _forwarded(start, account))
        assert not pattern_matches(alone, _forwarded(start, account))
    assert not pattern_matches(pattern, _forwarded(start, "999999999999"))


def test_forwarded_alarms_and_deployment_ends_reach_the_same_rules_as_this_accounts(
    cfn_template: dict[str, Any],
) -> None:
    # The alarm rule and the follow-ups' rule pin no account: a forwarded alarm named with the
    # prefix goes to the stop function, a forwarded end to the follow-up function, as here.
    rules = resources_of_type(cfn_template, "AWS::Events::Rule", AllowedAccounts=ALLOWED_ACCOUNTS)
    patterns = {rule_id: rule["EventPattern"] for rule_id, rule in rules.items() if "EventPattern" in rule}
    alarm = load_event("alarm-eventbridge.json")
    stop = load_event("codedeploy-state-change-stop.json")

    for event, rule_id in ((alarm, ALARM_RULE_ID), (stop, CODEDEPLOY_RULE_ID)):
        matching = [
            found for found, pattern in patterns.items() if pattern_matches(pattern, _forwarded(event))
        ]
        assert matching == [rule_id]
    assert REQUEST_RULE_ID in patterns  # still there, and admitted from this account only (bus policy)


def test_outputs_give_member_role_yaml_its_central_roles_and_bus(
    cfn_template: dict[str, Any], member_template: dict[str, Any]
) -> None:
    outputs = Evaluator(cfn_template).resolve(cfn_template["Outputs"])

    # The execution roles the functions run with, not any other role of the stack.
    for output, function_id in (("FunctionRoleArn", FUNCTION_ID), ("FollowUpRoleArn", FOLLOW_UP_FUNCTION_ID)):
        role_id, attribute = function_properties(cfn_template, function_id)["Role"]["Fn::GetAtt"]
        assert outputs[output]["Value"] == f"{role_id}.{attribute}"
        assert "member-role.yaml" in outputs[output]["Description"]
    assert outputs["CentralEventBusArn"]["Value"] == BUS_ARN
    # The bus output fits member-role.yaml's parameter, and so does a role ARN as SAM names it.
    member = member_template["Parameters"]
    assert re.fullmatch(member["CentralEventBusArn"]["AllowedPattern"], BUS_ARN)
    sam_role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/stop-deployment-StopDeploymentFunctionRole-1A2B3C4D5E6F"
    assert re.fullmatch(member["CentralRoleArn"]["AllowedPattern"], sam_role_arn)
    assert re.fullmatch(member["CentralFollowUpRoleArn"]["AllowedPattern"], sam_role_arn)
