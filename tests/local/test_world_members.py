"""local/world.py's member accounts (seed_member_accounts, member_client, status_in) and their events/
files, in-process under mock_aws() and through the threaded server."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core.models import DEFAULT_ACCOUNT_ID

from local import fake_codedeploy, world
from local.fake_aws import sts as fake_sts

# (account, region) -> every deployment there and its status, once the home world and the members are seeded
HOME_US = {
    world.IN_FLIGHT_ID: "InProgress",
    world.COMPLETED_ID: "Succeeded",
    world.QUEUED_ID: "Queued",
    world.OTHER_TEAM_ID: "InProgress",
}
EXPECTED = {
    (world.HOME_ACCOUNT, "us-east-1"): HOME_US,
    (world.HOME_ACCOUNT, world.EU_REGION): {},
    (world.ACCOUNT_B, "us-east-1"): dict.fromkeys(world.B_CHECKOUT_IDS, "InProgress"),
    (world.ACCOUNT_B, world.EU_REGION): {},
    (world.ACCOUNT_C, "us-east-1"): {},
    (world.ACCOUNT_C, world.EU_REGION): {world.C_PAYMENTS_ID: "InProgress"},
    (world.ACCOUNT_NO_ROLE, "us-east-1"): {world.NO_ROLE_ID: "InProgress"},
    (world.ACCOUNT_NO_ROLE, world.EU_REGION): {},
}
GROUPS = {
    world.ACCOUNT_B: {"checkout": ["prod"]},
    world.ACCOUNT_C: {"payments": ["prod"]},
    world.ACCOUNT_NO_ROLE: {"orders": ["prod"]},
}


def deployments_in(account: str, region: str) -> dict[str, str]:
    """Every deployment in that account and region, with its status, as CodeDeploy lists them."""
    client = world.member_client("codedeploy", account, region)
    found: dict[str, str] = {}
    for application in client.list_applications()["applications"]:
        for group in client.list_deployment_groups(applicationName=application)["deploymentGroups"]:
            listed = client.list_deployments(applicationName=application, deploymentGroupName=group)
            found |= {d: world.status_in(d, account, region) for d in listed["deployments"]}
    return found


def groups_in(account: str, region: str) -> dict[str, list[str]]:
    client = world.member_client("codedeploy", account, region)
    return {
        application: client.list_deployment_groups(applicationName=application)["deploymentGroups"]
        for application in client.list_applications()["applications"]
    }


def roles_in(account: str) -> list[str]:
    return [role["RoleName"] for role in world.member_client("iam", account).list_roles()["Roles"]]


def seed_everything(codedeploy: Any) -> None:
    world.seed_deployments(codedeploy)
    world.seed_alarm()
    fake_codedeploy.clear_calls()
    world.seed_member_accounts()


def check_the_world() -> None:
    """What the seeded world holds, wherever the local AWS runs."""
    for (account, region), expected in EXPECTED.items():
        assert deployments_in(account, region) == expected, (account, region)
    for account, groups in GROUPS.items():
        region = world.EU_REGION if account == world.ACCOUNT_C else "us-east-1"
        assert groups_in(account, region) == groups
    assert roles_in(world.ACCOUNT_B) == roles_in(world.ACCOUNT_C) == [world.MEMBER_ROLE]
    assert roles_in(world.ACCOUNT_NO_ROLE) == roles_in(world.HOME_ACCOUNT) == []
    # The same alarm name in two accounts: each its own, tagged for its own checkout/prod.
    for account in (world.HOME_ACCOUNT, world.ACCOUNT_B):
        cloudwatch = world.member_client("cloudwatch", account)
        [alarm] = cloudwatch.describe_alarms(AlarmNames=[world.ALARM_B])["MetricAlarms"]
        assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{world.ALARM_B}"
        tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        assert tags == [{"Key": "stop-deployment:targets", "Value": world.CHECKOUT}]
    assert world.member_client("cloudwatch", world.ACCOUNT_C).describe_alarms()["MetricAlarms"] == []
    assert fake_sts.calls() == []  # seeding and reading back assumed no role


# --- in-process ------------------------------------------------------------------------------------------


def test_the_constants_name_moto_s_default_account_home_and_unique_ids() -> None:
    assert world.HOME_ACCOUNT == DEFAULT_ACCOUNT_ID
    assert world.ALARM_B == world.ALARM
    ids = [*HOME_US, *world.B_CHECKOUT_IDS, world.C_PAYMENTS_ID, world.NO_ROLE_ID]
    assert len(set(ids)) == len(ids)
    assert world.member_role_arn(world.ACCOUNT_C) == "arn:aws:iam::333333333333:role/StopDeploymentMember"


def test_each_account_and_region_holds_exactly_its_deployments(local_cd: Any) -> None:
    seed_everything(local_cd)

    check_the_world()


def test_member_client_refuses_when_moto_account_id_overrides_every_account(
    local_cd: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", world.ACCOUNT_B)

    with pytest.raises(RuntimeError, match="MOTO_ACCOUNT_ID"):
        world.member_client("codedeploy", world.ACCOUNT_C)


def test_seed_member_accounts_returns_the_ids_in_flight(local_cd: Any) -> None:
    assert world.seed_member_accounts() == [*world.B_CHECKOUT_IDS, world.C_PAYMENTS_ID, world.NO_ROLE_ID]


def test_the_home_world_is_untouched_by_the_members(local_cd: Any) -> None:
    world.seed_deployments(local_cd)
    world.seed_alarm()
    home_before = deployments_in(world.HOME_ACCOUNT, "us-east-1")
    alarms_before = boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]

    world.seed_member_accounts()

    assert deployments_in(world.HOME_ACCOUNT, "us-east-1") == home_before == HOME_US
    assert boto3.client("cloudwatch").describe_alarms()["MetricAlarms"] == alarms_before
    assert fake_codedeploy.take_events() == []  # seeding is silent, as the home world's is
    # Home's clients (no header) still act at home: the member clients' hook is theirs alone.
    assert local_cd.list_applications()["applications"] == ["checkout", "payments"]
    assert world.status_of(world.IN_FLIGHT_ID) == "InProgress"


def test_status_in_reads_a_deployment_where_it_is_and_nowhere_else(local_cd: Any) -> None:
    world.seed_deployments(local_cd)
    world.seed_member_accounts()
    fake_codedeploy.set_status(world.C_PAYMENTS_ID, "Stopped", account_id=world.ACCOUNT_C)

    assert world.status_in(world.C_PAYMENTS_ID, world.ACCOUNT_C, world.EU_REGION) == "Stopped"
    assert world.status_in(world.B_CHECKOUT_IDS[0], world.ACCOUNT_B) == "InProgress"
    for account, region in ((world.ACCOUNT_C, "us-east-1"), (world.HOME_ACCOUNT, world.EU_REGION)):
        with pytest.raises(ClientError, match="DeploymentDoesNotExist"):
            world.status_in(world.C_PAYMENTS_ID, account, region)
    with pytest.raises(ClientError, match="DeploymentDoesNotExist"):
        world.status_of(world.B_CHECKOUT_IDS[0])  # home's CodeDeploy has no such deployment


def test_the_member_role_is_assumable_in_b_and_c_and_not_in_the_account_without_it(local_cd: Any) -> None:
    world.seed_member_accounts()
    sts = boto3.client("sts")

    for account in (world.ACCOUNT_B, world.ACCOUNT_C):
        sts.assume_role(RoleArn=world.member_role_arn(account), RoleSessionName="check")
    with pytest.raises(ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn=world.member_role_arn(world.ACCOUNT_NO_ROLE), RoleSessionName="check")


# --- the events/ files -----------------------------------------------------------------------------------


def test_the_member_alarm_event_is_the_home_one_as_forwarded_from_account_b(local_cd: Any) -> None:
    home = world.load_event("alarm-eventbridge.json")
    member = world.load_event("alarm-eventbridge-member-account.json")
    world.seed_member_accounts()
    [alarm] = world.member_client("cloudwatch", world.ACCOUNT_B).describe_alarms()["MetricAlarms"]

    # EventBridge keeps the envelope on the central bus: the source account, region and alarm ARN.
    assert member["account"] == world.ACCOUNT_B
    assert member["region"] == "us-east-1"
    assert member["resources"] == [alarm["AlarmArn"]]
    assert member["detail"]["alarmName"] == world.ALARM_B
    assert member["detail"]["state"]["value"] == "ALARM"
    assert (member["source"], member["detail-type"]) == (home["source"], home["detail-type"])
    assert member.keys() == home.keys()
    assert member["detail"].keys() == home["detail"].keys()
    assert member["id"] != home["id"]


def test_the_member_direct_stop_names_c_s_deployment_where_it_is() -> None:
    assert world.load_event("direct-stop-member-account.json") == {
        "deploymentId": world.C_PAYMENTS_ID,
        "accountId": world.ACCOUNT_C,
        "region": world.EU_REGION,
        "autoRollbackEnabled": True,
    }


# --- through the threaded server -------------------------------------------------------------------------


def test_through_a_real_server_the_world_is_the_same(local_server: str) -> None:
    # The home client as serve and demo make it: no endpoint_url, local.aws's environment points it.
    seed_everything(boto3.client("codedeploy"))

    check_the_world()


def test_through_a_real_server_iam_goes_to_the_server_too(local_server: str) -> None:
    # local.aws points IAM at the server too (the member roles are made there), never the real IAM.
    client = world.member_client("iam", world.ACCOUNT_B)

    assert client.meta.endpoint_url == local_server
    assert world.member_client("codedeploy", world.ACCOUNT_B).meta.endpoint_url == local_server
