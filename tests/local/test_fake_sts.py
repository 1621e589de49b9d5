"""The local STS's AssumeRole (local/fake_aws/sts.py) through real boto3 clients, in-process under mock_aws()
and through the threaded server: a missing member role is refused as real STS refuses it, an existing one
yields credentials acting in its account, every call is recorded, faults are injected."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from local import fake_aws, world
from local.fake_aws import sts as fake_sts
from local.fake_aws.sts import AssumeRoleCall

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
ROLE_B = world.member_role_arn(world.ACCOUNT_B)
ROLE_C = world.member_role_arn(world.ACCOUNT_C)
ROLE_NO_ROLE = world.member_role_arn(world.ACCOUNT_NO_ROLE)


@pytest.fixture
def sts(local_cd: Any) -> Any:
    """An STS client of the home account on the in-process local AWS, with no retries, and the member
    roles: StopDeploymentMember in 222222222222 and 333333333333, none in 444444444444."""
    world.seed_member_accounts()
    return boto3.client("sts", config=NO_RETRIES)


def assume(sts: Any, role_arn: str, session: str = "alice", **kwargs: Any) -> dict[str, Any]:
    """What the function does to act in a member account."""
    response = sts.assume_role(RoleArn=role_arn, RoleSessionName=session, **kwargs)
    credentials: dict[str, Any] = response["Credentials"]
    return credentials


def acting_as(credentials: dict[str, Any], service: str, region: str = "us-east-1") -> Any:
    """A client with assumed credentials, as the function makes one (region_name set to the target's)."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=NO_RETRIES,
    )


def deployment_ids(client: CodeDeployClient) -> set[str]:
    ids: set[str] = set()
    for application in client.list_applications()["applications"]:
        for group in client.list_deployment_groups(applicationName=application)["deploymentGroups"]:
            ids |= set(
                client.list_deployments(applicationName=application, deploymentGroupName=group)["deployments"]
            )
    return ids


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# --- a missing role is refused ---------------------------------------------------------------------------


def test_a_role_missing_from_the_target_account_is_access_denied_as_sts_says_it(sts: Any) -> None:
    raw: list[tuple[int, bytes]] = []
    sts.meta.events.register(
        "after-call.sts.AssumeRole",
        lambda http_response, **_: raw.append((http_response.status_code, http_response.content)),
    )

    with pytest.raises(ClientError) as exc:
        assume(sts, ROLE_NO_ROLE)

    assert error_of(exc) == ("AccessDenied", 403)
    error = exc.value.response["Error"]
    assert error.get("Type") == "Sender"
    assert error["Message"] == (
        "User: arn:aws:sts::123456789012:user/moto is not authorized to perform: sts:AssumeRole on "
        f"resource: {ROLE_NO_ROLE}"
    )
    assert exc.value.response["ResponseMetadata"]["RequestId"]
    [(status, body)] = raw
    assert status == 403
    assert body.startswith(b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>')
    assert b"<Code>AccessDenied</Code>" in body
    assert b"<RequestId>local</RequestId>" not in body  # moto put the request's id in


def test_the_account_in_the_arn_decides_not_the_name(sts: Any) -> None:
    # Given StopDeploymentMember exists in 222222222222 and 333333333333 but not in home, nor under
    # another name in 222222222222
    for role_arn in (
        world.member_role_arn(world.HOME_ACCOUNT),
        f"arn:aws:iam::{world.ACCOUNT_B}:role/SomethingElse",
        f"arn:aws:iam::{world.ACCOUNT_B}:role/team/{world.MEMBER_ROLE}",  # another path: another role
        f"arn:aws:iam::{world.ACCOUNT_B}:user/{world.MEMBER_ROLE}",
    ):
        with pytest.raises(ClientError) as exc:
            assume(sts, role_arn)
        assert error_of(exc) == ("AccessDenied", 403), role_arn


def test_a_role_created_later_can_be_assumed(sts: Any) -> None:
    with pytest.raises(ClientError):
        assume(sts, ROLE_NO_ROLE)

    world.member_client("iam", world.ACCOUNT_NO_ROLE).create_role(
        RoleName=world.MEMBER_ROLE, AssumeRolePolicyDocument="{}"
    )

    assert assume(sts, ROLE_NO_ROLE)["AccessKeyId"]


# --- an existing role acts in its account ----------------------------------------------------------------


def test_assumed_credentials_act_in_the_roles_account(sts: Any) -> None:
    credentials = assume(sts, ROLE_B, session="alice")

    identity = acting_as(credentials, "sts").get_caller_identity()

    assert identity["Account"] == world.ACCOUNT_B
    assert identity["Arn"] == f"arn:aws:sts::{world.ACCOUNT_B}:assumed-role/{world.MEMBER_ROLE}/alice"
    # and the caller's own credentials still act at home
    assert sts.get_caller_identity()["Account"] == world.HOME_ACCOUNT


def test_assumed_credentials_see_that_accounts_deployments_and_not_homes(sts: Any, local_cd: Any) -> None:
    world.seed_deployments(local_cd)  # home's checkout/prod and payments/prod, us-east-1

    in_b = acting_as(assume(sts, ROLE_B), "codedeploy")
    in_c = acting_as(assume(sts, ROLE_C), "codedeploy", region=world.EU_REGION)
    c_in_us = acting_as(assume(sts, ROLE_C), "codedeploy")

    assert deployment_ids(in_b) == set(world.B_CHECKOUT_IDS)
    assert deployment_ids(in_c) == {world.C_PAYMENTS_ID}
    assert deployment_ids(c_in_us) == set()  # the region counts too
    assert world.IN_FLIGHT_ID not in deployment_ids(in_b)
    with pytest.raises(in_b.exceptions.DeploymentDoesNotExistException):
        in_b.get_deployment(deploymentId=world.IN_FLIGHT_ID)


def test_expiration_is_now_plus_the_duration(sts: Any) -> None:
    for seconds in (900, 3600):
        before = datetime.now(UTC)
        expiration = assume(sts, ROLE_B, DurationSeconds=seconds)["Expiration"]
        after = datetime.now(UTC)

        assert before + timedelta(seconds=seconds - 1) <= expiration <= after + timedelta(seconds=seconds + 1)


# --- calls are recorded ----------------------------------------------------------------------------------


def test_each_call_is_recorded_refused_ones_included(sts: Any) -> None:
    before = time.time()
    assume(sts, ROLE_B, session="alice", DurationSeconds=900)
    with pytest.raises(ClientError):
        assume(sts, ROLE_NO_ROLE, session="bob")
    assume(sts, ROLE_C, session="carol")  # no DurationSeconds: STS's default
    after = time.time()

    calls = fake_sts.calls()

    assert [(c.role_arn, c.session_name, c.duration_seconds) for c in calls] == [
        (ROLE_B, "alice", 900),
        (ROLE_NO_ROLE, "bob", 3600),
        (ROLE_C, "carol", 3600),
    ]
    assert all(before <= c.at <= after for c in calls)
    assert [c.at for c in calls] == sorted(c.at for c in calls)
    assert all(isinstance(c, AssumeRoleCall) for c in calls)


def test_other_sts_calls_are_not_recorded_and_clear_calls_forgets(sts: Any) -> None:
    sts.get_caller_identity()
    assert fake_sts.calls() == []

    assume(sts, ROLE_B)
    fake_sts.clear_calls()

    assert fake_sts.calls() == []


def test_install_is_idempotent(sts: Any) -> None:
    fake_aws.install()

    assume(sts, ROLE_B)

    assert len(fake_sts.calls()) == 1  # recorded once: AssumeRole was not wrapped twice


# --- faults ----------------------------------------------------------------------------------------------


def test_an_injected_throttling_fails_one_call_then_the_next_succeeds(sts: Any) -> None:
    fake_sts.inject_error()  # Throttling, 400, once

    with pytest.raises(ClientError) as exc:
        assume(sts, ROLE_B)
    credentials = assume(sts, ROLE_B)

    assert error_of(exc) == ("Throttling", 400)
    assert exc.value.response["Error"]["Message"] == "Rate exceeded"
    assert acting_as(credentials, "sts").get_caller_identity()["Account"] == world.ACCOUNT_B
    assert len(fake_sts.calls()) == 2  # the failed call is recorded too


def test_botocore_retries_a_throttled_assume_role_on_its_own(sts: Any) -> None:
    # A client with botocore's retries (the function's may have them) rides out one Throttling.
    fake_sts.inject_error("Throttling", count=1)
    retrying = boto3.client("sts", config=Config(retries={"mode": "standard", "total_max_attempts": 3}))

    assert assume(retrying, ROLE_B)["AccessKeyId"]
    assert [c.role_arn for c in fake_sts.calls()] == [ROLE_B, ROLE_B]


def test_a_fault_for_one_role_leaves_the_others_alone(sts: Any) -> None:
    fake_sts.inject_error("AccessDenied", http_status=403, count=-1, role_arn=ROLE_C, message="no SCP")

    assume(sts, ROLE_B)
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            assume(sts, ROLE_C)
        assert error_of(exc) == ("AccessDenied", 403)
        assert exc.value.response["Error"]["Message"] == "no SCP"

    fake_aws.reset()  # forgets the fault

    assert assume(sts, ROLE_C)["AccessKeyId"]


def test_faults_apply_in_the_order_injected_and_a_5xx_is_the_receivers(sts: Any) -> None:
    fake_sts.inject_error("InternalFailure", http_status=500)
    fake_sts.inject_error("Throttling", count=2)

    failures = []
    for _ in range(3):
        with pytest.raises(ClientError) as exc:
            assume(sts, ROLE_B)
        failures.append((*error_of(exc), exc.value.response["Error"].get("Type")))

    assert failures == [
        ("InternalFailure", 500, "Receiver"),
        ("Throttling", 400, "Sender"),
        ("Throttling", 400, "Sender"),
    ]
    assert assume(sts, ROLE_B)["AccessKeyId"]


def test_a_fault_comes_before_the_role_check(sts: Any) -> None:
    fake_sts.inject_error("Throttling")

    with pytest.raises(ClientError) as throttled:
        assume(sts, ROLE_NO_ROLE)
    with pytest.raises(ClientError) as denied:
        assume(sts, ROLE_NO_ROLE)

    assert (error_of(throttled)[0], error_of(denied)[0]) == ("Throttling", "AccessDenied")


def test_faults_are_checked() -> None:
    for count in (0, -2):
        with pytest.raises(ValueError, match="count"):
            fake_sts.inject_error(count=count)


# --- through the threaded server -------------------------------------------------------------------------


def test_through_a_real_server_roles_are_checked_credentials_act_in_their_account_and_calls_recorded(
    local_server: str,
) -> None:
    # Clients with no endpoint_url: local.aws's AWS_ENDPOINT_URL_* point them at the server.
    world.seed_member_accounts()
    sts = boto3.client("sts", config=NO_RETRIES)
    fake_sts.inject_error(role_arn=ROLE_B)

    with pytest.raises(ClientError) as throttled:
        assume(sts, ROLE_B)
    with pytest.raises(ClientError) as denied:
        assume(sts, ROLE_NO_ROLE)
    in_b = assume(sts, ROLE_B, session="alice")
    in_c = assume(sts, ROLE_C, session="carol")

    assert error_of(throttled) == ("Throttling", 400)
    assert error_of(denied) == ("AccessDenied", 403)
    assert acting_as(in_b, "sts").get_caller_identity()["Account"] == world.ACCOUNT_B
    assert deployment_ids(acting_as(in_b, "codedeploy")) == set(world.B_CHECKOUT_IDS)
    assert deployment_ids(acting_as(in_c, "codedeploy", region=world.EU_REGION)) == {world.C_PAYMENTS_ID}
    assert [(c.role_arn, c.session_name) for c in fake_sts.calls()] == [
        (ROLE_B, "alice"),
        (ROLE_NO_ROLE, "alice"),
        (ROLE_B, "alice"),
        (ROLE_C, "carol"),
    ]


# --- moto's account mapping, as the function's credential cache meets it ---------------------------------


def test_after_moto_resets_assumed_credentials_silently_act_in_the_home_account() -> None:
    # moto knows an assumed key's account only while its IAM holds the key; a reset (mock_aws() starting
    # afresh, POST /moto-api/reset) forgets it, and an unknown key is moto's default account: home.
    # Whatever caches assumed credentials across a reset (accounts.forget() in the tests) must drop them.
    fake_aws.install()
    try:
        with mock_aws():
            world.seed_member_accounts()
            in_b = acting_as(assume(boto3.client("sts"), ROLE_B), "sts")
            assert in_b.get_caller_identity()["Account"] == world.ACCOUNT_B

        with mock_aws():  # a fresh moto, as the next test gets
            assert in_b.get_caller_identity()["Account"] == world.HOME_ACCOUNT
    finally:
        fake_aws.reset()
