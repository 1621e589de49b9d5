"""member-role.yaml, the member accounts' StackSet template: who may assume its roles and what they
allow, that each account gets its roles once whatever the regions, and what the optional rules
forward to the central event bus, with what.

What the central stack does with it (its roles' sts:AssumeRole, its bus policy, the forwarded
events its rules take) is in test_organisation.py.
"""

import re
from collections.abc import Mapping
from typing import Any

import pytest
from cfnlint.api import lint_file  # type: ignore[import-untyped]
from cfnlint.config import ManualArgs  # type: ignore[import-untyped]

from stop_deployment import accounts
from tests.template.cfn import (
    BATCH_GET,
    BATCH_GET_GROUPS,
    DESCRIBE_ALARMS,
    GET,
    LIST,
    LIST_ALARM_TAGS,
    LIST_APPLICATIONS,
    LIST_GROUPS,
    MEMBER_TEMPLATE_PATH,
    STOP,
    Evaluator,
    as_list,
    pattern_matches,
    resources_of_type,
)

# A member account, and the central stack's account, roles and bus (its outputs).
MEMBER_ACCOUNT = "444455556666"
CENTRAL_ACCOUNT = "111122223333"
CENTRAL_ROLE_ARN = (
    f"arn:aws:iam::{CENTRAL_ACCOUNT}:role/stop-deployment-StopDeploymentFunctionRole-AbC123dEf456"
)
CENTRAL_FOLLOW_UP_ROLE_ARN = (
    f"arn:aws:iam::{CENTRAL_ACCOUNT}:role/stop-deployment-FollowUpFunctionRole-Gh789iJk012L"
)
CENTRAL_BUS_ARN = f"arn:aws:events:eu-west-1:{CENTRAL_ACCOUNT}:event-bus/default"
ORGANIZATION_ID = "o-a1b2c3d4e5"
PREFIX = "kill-switch-"
# The StackSet's regions; the roles are made in the first.
REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")
REQUIRED = {"CentralRoleArn": CENTRAL_ROLE_ARN, "RoleRegion": REGIONS[0]}
FORWARDING_EVERYTHING = {
    **REQUIRED,
    "CentralFollowUpRoleArn": CENTRAL_FOLLOW_UP_ROLE_ARN,
    "OrganizationId": ORGANIZATION_ID,
    "CentralEventBusArn": CENTRAL_BUS_ARN,
    "AlarmNamePrefix": PREFIX,
    "ForwardDeploymentEvents": "true",
}

MEMBER_ROLE_ID = "MemberRole"
FOLLOW_UP_ROLE_ID = "FollowUpReadRole"
FORWARDING_ROLE_ID = "EventForwardingRole"
ALARM_RULE_ID = "AlarmForwardingRule"
DEPLOYMENT_RULE_ID = "DeploymentForwardingRule"
GROUPS_OF_THE_ACCOUNT = f"arn:aws:codedeploy:*:{MEMBER_ACCOUNT}:deploymentgroup:*"
# Exactly what the central stop function calls in a member account, and the follow-up function.
MEMBER_ACTIONS = {
    STOP,
    GET,
    BATCH_GET,
    LIST,
    LIST_APPLICATIONS,
    LIST_GROUPS,
    BATCH_GET_GROUPS,
    LIST_ALARM_TAGS,
    DESCRIBE_ALARMS,
}
FOLLOW_UP_ACTIONS = {GET}


def _in(region: str = REGIONS[0], account: str = MEMBER_ACCOUNT, **parameters: str) -> dict[str, str]:
    """Parameter values, with the account and region of one stack instance."""
    return {**parameters, "AWS::Region": region, "AWS::AccountId": account}


def _resources(member_template: dict[str, Any], resource_type: str, **values: str) -> dict[str, Any]:
    return resources_of_type(member_template, resource_type, **values)


def _statements(role: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in role["Policies"] for s in as_list(policy["PolicyDocument"]["Statement"])]


def _granted(role: Mapping[str, Any]) -> dict[str, list[str]]:
    """Action -> the resources it is allowed on, over the role's inline policies (all Allow)."""
    granted: dict[str, list[str]] = {}
    for statement in _statements(role):
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, statement  # no condition
        for action in as_list(statement["Action"]):
            granted.setdefault(action, []).extend(as_list(statement["Resource"]))
    return granted


def _alarm_event(name: str, state: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "3b9d6e52-8c1a-4f7e-b2d4-6a0e5c7f9b13",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": MEMBER_ACCOUNT,
        "region": "us-east-1",
        "resources": [f"arn:aws:cloudwatch:us-east-1:{MEMBER_ACCOUNT}:alarm:{name}"],
        "detail": {"alarmName": name, "state": {"value": state}, "previousState": {"value": "OK"}},
    }


def _deployment_event(
    state: str, detail_type: str = "CodeDeploy Deployment State-change Notification"
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "2c8e4a6f-1d3b-4f5a-9e7c-0b1d2f3a4c5e",
        "detail-type": detail_type,
        "source": "aws.codedeploy",
        "account": MEMBER_ACCOUNT,
        "region": "us-east-1",
        "resources": [f"arn:aws:codedeploy:us-east-1:{MEMBER_ACCOUNT}:deploymentgroup:checkout/prod"],
        "detail": {
            "application": "checkout",
            "deploymentGroup": "prod",
            "deploymentId": "d-LGUMS25CC",
            "state": state,
        },
    }


def test_cfn_lint_finds_nothing_in_the_member_template_not_even_informational() -> None:
    matches = lint_file(MEMBER_TEMPLATE_PATH, config=ManualArgs(include_checks=["I"]))

    assert [str(match) for match in matches] == []


def test_header_shows_how_to_deploy_it_as_a_service_managed_stackset() -> None:
    # The template is meant for a StackSet auto-deployed to OUs: its header says how, and why the
    # roles are made in one region only.
    header = "".join(
        line[1:]
        for line in MEMBER_TEMPLATE_PATH.read_text().splitlines(keepends=True)
        if line.startswith("#")
    )

    for needed in (
        "aws cloudformation create-stack-set",
        "--permission-model SERVICE_MANAGED",
        "--auto-deployment Enabled=true",
        "--capabilities CAPABILITY_NAMED_IAM",
        "aws cloudformation create-stack-instances",
        "--deployment-targets OrganizationalUnitIds=",
        "--regions",
        "ParameterKey=RoleRegion",
    ):
        assert needed in header, needed
    assert "IAM is global" in header


@pytest.mark.parametrize("role_region", REGIONS)
def test_each_account_gets_its_named_roles_once_whatever_the_regions(
    member_template: dict[str, Any], role_region: str
) -> None:
    # Given a StackSet instance in each of its regions of one account, When they are all made,
    # Then each named role is made exactly once (a second one of the same name would fail its
    # instance), by the instance in RoleRegion, while the forwarding rules are in every region.
    named: list[str] = []
    rules: dict[str, set[str]] = {}
    for region in REGIONS:
        values = _in(region, **{**FORWARDING_EVERYTHING, "RoleRegion": role_region})
        roles = _resources(member_template, "AWS::IAM::Role", **values)
        named += [role["RoleName"] for role in roles.values() if "RoleName" in role]
        assert ({MEMBER_ROLE_ID, FOLLOW_UP_ROLE_ID} <= set(roles)) is (region == role_region)
        assert FORWARDING_ROLE_ID in roles  # regional, like the rules that use it
        rules[region] = set(_resources(member_template, "AWS::Events::Rule", **values))

    assert sorted(named) == ["StopDeploymentMember", "StopDeploymentMember-FollowUp"]
    assert rules == {region: {ALARM_RULE_ID, DEPLOYMENT_RULE_ID} for region in REGIONS}


def test_a_role_region_outside_the_stacksets_regions_makes_no_role(member_template: dict[str, Any]) -> None:
    # The one thing RoleRegion asks of the operator: it must be one of the StackSet's regions.
    for region in REGIONS:
        values = _in(region, **{**FORWARDING_EVERYTHING, "RoleRegion": "sa-east-1"})
        roles = _resources(member_template, "AWS::IAM::Role", **values)
        assert set(roles) == {FORWARDING_ROLE_ID}  # the regional forwarding role only


def test_the_forwarding_roles_are_unnamed_so_that_every_region_has_its_own(
    member_template: dict[str, Any],
) -> None:
    # Made in every region (above): a fixed name would collide between the regions' instances.
    assert "RoleName" not in member_template["Resources"][FORWARDING_ROLE_ID]["Properties"]


@pytest.mark.parametrize(
    ("organization", "condition"),
    [("", None), (ORGANIZATION_ID, {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID}})],
)
def test_member_role_trusts_the_central_stop_role_alone(
    member_template: dict[str, Any], organization: str, condition: dict[str, Any] | None
) -> None:
    roles = _resources(member_template, "AWS::IAM::Role", **_in(**REQUIRED, OrganizationId=organization))

    role = roles[MEMBER_ROLE_ID]
    expected = {
        "Sid": "CentralStopFunctionOnly",
        "Effect": "Allow",
        "Principal": {"AWS": CENTRAL_ROLE_ARN},
        "Action": "sts:AssumeRole",
        **({"Condition": condition} if condition else {}),
    }
    assert role["AssumeRolePolicyDocument"]["Statement"] == [expected]
    assert role["RoleName"] == "StopDeploymentMember"
    # The central function chains roles: at most an hour, and it never asks for more.
    assert role["MaxSessionDuration"] == 3600
    assert role["MaxSessionDuration"] >= accounts.SESSION_SECONDS
    # Without CentralFollowUpRoleArn there is no read-only role.
    assert FOLLOW_UP_ROLE_ID not in roles


def test_member_role_allows_exactly_the_central_functions_calls_scoped_to_this_account(
    member_template: dict[str, Any],
) -> None:
    role = _resources(member_template, "AWS::IAM::Role", **_in(**REQUIRED))[MEMBER_ROLE_ID]

    granted = _granted(role)

    assert set(granted) == MEMBER_ACTIONS
    assert all("*" not in action and "?" not in action for action in granted)
    # "*" only for the actions IAM gives no resource type (and DescribeAlarms: composite alarms).
    assert {action for action, resources in granted.items() if "*" in resources} == {
        STOP,
        LIST_APPLICATIONS,
        DESCRIBE_ALARMS,
    }
    assert all(len(resources) == 1 for resources in granted.values())
    for action in (GET, BATCH_GET, LIST, BATCH_GET_GROUPS):
        assert granted[action] == [GROUPS_OF_THE_ACCOUNT], action
    assert granted[LIST_GROUPS] == [f"arn:aws:codedeploy:*:{MEMBER_ACCOUNT}:application:*"]
    assert granted[LIST_ALARM_TAGS] == [f"arn:aws:cloudwatch:*:{MEMBER_ACCOUNT}:alarm:*"]


@pytest.mark.parametrize("organization", ["", ORGANIZATION_ID])
def test_read_only_role_trusts_the_central_follow_up_role_alone_and_only_reads_deployments(
    member_template: dict[str, Any], organization: str
) -> None:
    values = _in(**REQUIRED, CentralFollowUpRoleArn=CENTRAL_FOLLOW_UP_ROLE_ARN, OrganizationId=organization)
    role = _resources(member_template, "AWS::IAM::Role", **values)[FOLLOW_UP_ROLE_ID]

    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": CENTRAL_FOLLOW_UP_ROLE_ARN}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust.get("Condition") == (
        {"StringEquals": {"aws:PrincipalOrgID": organization}} if organization else None
    )
    assert _granted(role) == {GET: [GROUPS_OF_THE_ACCOUNT]}
    assert role["RoleName"] == "StopDeploymentMember-FollowUp"
    assert role["MaxSessionDuration"] == 3600


@pytest.mark.parametrize("parameters", [REQUIRED, FORWARDING_EVERYTHING])
def test_no_role_here_trusts_a_wildcard_or_anyone_but_its_one_principal(
    member_template: dict[str, Any], parameters: dict[str, str]
) -> None:
    roles = _resources(member_template, "AWS::IAM::Role", **_in(**parameters))

    principals = {}
    for logical_id, role in roles.items():
        [trust] = role["AssumeRolePolicyDocument"]["Statement"]
        assert set(trust) <= {"Sid", "Effect", "Principal", "Action", "Condition"}, trust  # no NotPrincipal
        assert (trust["Effect"], trust["Action"]) == ("Allow", "sts:AssumeRole")
        [(kind, principal)] = trust["Principal"].items()
        assert "*" not in principal
        principals[logical_id] = (kind, principal)
        for statement in _statements(role):
            assert all("*" not in action for action in as_list(statement["Action"]))
    expected = {MEMBER_ROLE_ID: ("AWS", CENTRAL_ROLE_ARN)}
    if parameters is FORWARDING_EVERYTHING:
        expected[FOLLOW_UP_ROLE_ID] = ("AWS", CENTRAL_FOLLOW_UP_ROLE_ARN)
        expected[FORWARDING_ROLE_ID] = ("Service", "events.amazonaws.com")
    assert principals == expected


@pytest.mark.parametrize(
    ("parameters", "rules"),
    [
        ({}, set()),
        ({"AlarmNamePrefix": PREFIX, "ForwardDeploymentEvents": "true"}, set()),  # no bus: nothing
        ({"CentralEventBusArn": CENTRAL_BUS_ARN}, set()),  # a bus, but nothing asked for
        ({"CentralEventBusArn": CENTRAL_BUS_ARN, "AlarmNamePrefix": PREFIX}, {ALARM_RULE_ID}),
        ({"CentralEventBusArn": CENTRAL_BUS_ARN, "ForwardDeploymentEvents": "true"}, {DEPLOYMENT_RULE_ID}),
        (
            {
                "CentralEventBusArn": CENTRAL_BUS_ARN,
                "AlarmNamePrefix": PREFIX,
                "ForwardDeploymentEvents": "true",
            },
            {ALARM_RULE_ID, DEPLOYMENT_RULE_ID},
        ),
    ],
)
def test_forwarding_rules_and_their_role_exist_only_when_the_bus_is_given_and_asked_for(
    member_template: dict[str, Any], parameters: dict[str, str], rules: set[str]
) -> None:
    values = _in(**REQUIRED, **parameters)

    assert set(_resources(member_template, "AWS::Events::Rule", **values)) == rules
    roles = _resources(member_template, "AWS::IAM::Role", **values)
    assert (FORWARDING_ROLE_ID in roles) is bool(rules)


@pytest.mark.parametrize(("region", "forwards"), [("eu-west-1", False), ("us-east-1", True)])
def test_the_central_account_forwards_nothing_to_its_own_bus_but_does_from_its_other_regions(
    member_template: dict[str, Any], region: str, forwards: bool
) -> None:
    # Given the template deployed in the central account too (its other regions act through its own
    # member role), Then no rule targets the bus it is on.
    values = _in(region, CENTRAL_ACCOUNT, **FORWARDING_EVERYTHING)

    rules = _resources(member_template, "AWS::Events::Rule", **values)

    assert bool(rules) is forwards
    assert all(rule["Targets"][0]["Arn"] == CENTRAL_BUS_ARN for rule in rules.values())


def test_forwarding_role_may_only_put_events_on_the_central_bus_for_this_accounts_rules(
    member_template: dict[str, Any],
) -> None:
    role = _resources(member_template, "AWS::IAM::Role", **_in(**FORWARDING_EVERYTHING))[FORWARDING_ROLE_ID]

    assert _granted(role) == {"events:PutEvents": [CENTRAL_BUS_ARN]}
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": MEMBER_ACCOUNT}}


def test_rules_send_the_events_unchanged_to_the_central_bus_with_the_forwarding_role(
    member_template: dict[str, Any],
) -> None:
    # Unchanged: a forwarded event keeps its account and region, which the central function reads.
    rules = _resources(member_template, "AWS::Events::Rule", **_in(**FORWARDING_EVERYTHING))

    for rule in rules.values():
        assert rule["State"] == "ENABLED"
        assert "EventBusName" not in rule  # this account's default bus, where AWS services send
        [target] = rule["Targets"]
        assert target["Arn"] == CENTRAL_BUS_ARN
        assert target["RoleArn"] == f"{FORWARDING_ROLE_ID}.Arn"
        assert not {"Input", "InputPath", "InputTransformer"} & set(target)


@pytest.mark.parametrize("prefix", [PREFIX, "team-a/"])
def test_alarm_rule_forwards_only_alarms_named_with_the_prefix_going_to_alarm(
    member_template: dict[str, Any], prefix: str
) -> None:
    values = _in(**{**FORWARDING_EVERYTHING, "AlarmNamePrefix": prefix})
    pattern = _resources(member_template, "AWS::Events::Rule", **values)[ALARM_RULE_ID]["EventPattern"]

    assert pattern == {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": [{"prefix": prefix}], "state": {"value": ["ALARM"]}},
    }
    assert pattern_matches(pattern, _alarm_event(f"{prefix}checkout-5xx", "ALARM"))
    for state in ("OK", "INSUFFICIENT_DATA"):
        assert not pattern_matches(pattern, _alarm_event(f"{prefix}checkout-5xx", state))
    assert not pattern_matches(pattern, _alarm_event(f"other-{prefix}checkout-5xx", "ALARM"))
    assert not pattern_matches(pattern, _deployment_event("START"))


def test_deployment_rule_forwards_the_states_the_central_rules_take(member_template: dict[str, Any]) -> None:
    pattern = _resources(member_template, "AWS::Events::Rule", **_in(**FORWARDING_EVERYTHING))[
        DEPLOYMENT_RULE_ID
    ]["EventPattern"]

    for state in ("START", "STOP", "SUCCESS", "FAILURE"):
        assert pattern_matches(pattern, _deployment_event(state))
    assert not pattern_matches(pattern, _deployment_event("READY"))
    assert not pattern_matches(
        pattern, _deployment_event("START", "CodeDeploy Instance State-change Notification")
    )
    assert not pattern_matches(pattern, _alarm_event(f"{PREFIX}checkout-5xx", "ALARM"))


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (CENTRAL_ROLE_ARN, True),
        ("arn:aws-us-gov:iam::111122223333:role/path/to/stop-deployment-role", True),
        ("", False),  # required
        ("*", False),
        ("arn:aws:iam::111122223333:root", False),  # an account, not one role
        ("arn:aws:iam::111122223333:user/jdoe", False),
        ("arn:aws:iam::111122223333:role/*", False),
        ("arn:aws:sts::111122223333:assumed-role/r/session", False),
        ("arn:aws:iam::1111:role/r", False),
    ],
)
def test_central_role_arn_must_name_one_role(
    member_template: dict[str, Any], value: str, accepted: bool
) -> None:
    parameters = member_template["Parameters"]

    assert "Default" not in parameters["CentralRoleArn"]
    assert bool(re.fullmatch(parameters["CentralRoleArn"]["AllowedPattern"], value)) is accepted
    follow_up_accepts = re.fullmatch(parameters["CentralFollowUpRoleArn"]["AllowedPattern"], value)
    assert bool(follow_up_accepts) is (accepted or value == "")  # optional, else the same


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("RoleRegion", "eu-west-1", True),
        ("RoleRegion", "us-gov-west-1", True),
        ("RoleRegion", "", False),  # required: the roles must be made somewhere
        ("RoleRegion", "eu-west", False),
        ("CentralEventBusArn", "", True),
        ("CentralEventBusArn", CENTRAL_BUS_ARN, True),
        ("CentralEventBusArn", "arn:aws:events:eu-west-1:111122223333:event-bus/*", False),
        ("CentralEventBusArn", "arn:aws:sqs:eu-west-1:111122223333:queue", False),
        ("AlarmNamePrefix", "", True),
        ("AlarmNamePrefix", PREFIX, True),
        ("AlarmNamePrefix", "kill-*", False),
        ("OrganizationId", "", True),
        ("OrganizationId", ORGANIZATION_ID, True),
        ("OrganizationId", "o-short", False),
        ("RoleName", "x" * 55, True),
        ("RoleName", "x" * 56, False),  # <RoleName>-FollowUp would be over 64
        ("RoleName", "", False),
    ],
)
def test_parameter_patterns(member_template: dict[str, Any], name: str, value: str, accepted: bool) -> None:
    parameter = member_template["Parameters"][name]

    assert bool(re.fullmatch(parameter["AllowedPattern"], value)) is accepted
    if accepted and name == "RoleName":
        assert len(f"{value}-FollowUp") <= 64


def test_defaults_forward_nothing_and_name_the_role_as_the_central_stack_does(
    member_template: dict[str, Any], sam_template: dict[str, Any]
) -> None:
    parameters = member_template["Parameters"]

    assert {name for name, p in parameters.items() if "Default" not in p} == {"CentralRoleArn", "RoleRegion"}
    assert parameters["CentralEventBusArn"]["Default"] == ""
    assert parameters["AlarmNamePrefix"]["Default"] == ""
    assert parameters["ForwardDeploymentEvents"]["Default"] == "false"
    assert parameters["ForwardDeploymentEvents"]["AllowedValues"] == ["true", "false"]
    # The same name and rule for the role name in both templates, and a region pattern the central
    # stack's AllowedRegions shares.
    central = sam_template["Parameters"]
    assert parameters["RoleName"]["Default"] == central["MemberRoleName"]["Default"]
    assert parameters["RoleName"]["AllowedPattern"] == central["MemberRoleName"]["AllowedPattern"]
    region = parameters["RoleRegion"]["AllowedPattern"].strip("^$")
    assert central["AllowedRegions"]["AllowedPattern"] == f"^({region}(,{region})*)?$"


@pytest.mark.parametrize(
    ("parameters", "outputs"),
    [
        (REQUIRED, {"MemberRoleArn"}),
        (FORWARDING_EVERYTHING, {"MemberRoleArn", "FollowUpReadRoleArn"}),
        ({**FORWARDING_EVERYTHING, "RoleRegion": "us-east-1"}, set()),  # an instance that makes no role
    ],
)
def test_outputs_give_the_role_arns_where_the_roles_are_made(
    member_template: dict[str, Any], parameters: dict[str, str], outputs: set[str]
) -> None:
    evaluator = Evaluator(member_template, _in(**parameters))

    found = {
        name: evaluator.resolve(output["Value"])
        for name, output in member_template["Outputs"].items()
        if evaluator.condition(output["Condition"])
    }

    assert found == {
        name: value
        for name, value in {
            "MemberRoleArn": "MemberRole.Arn",
            "FollowUpReadRoleArn": "FollowUpReadRole.Arn",
        }.items()
        if name in outputs
    }
