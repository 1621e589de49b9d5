"""A deployment group's one parser and one string form."""

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stop_deployment.target import HOME, Place, Target


@pytest.mark.parametrize("text", ["checkout/prod", "a.b-c_d@e/prod+blue=1", f"{'a' * 100}/{'g' * 100}"])
def test_a_target_reads_back_as_it_was_written(text: str) -> None:
    target = Target.parse(text)

    assert target is not None
    assert str(target) == text


def test_a_target_names_its_application_and_group() -> None:
    assert Target.parse("checkout/prod") == Target("checkout", "prod")


@pytest.mark.parametrize(
    "text",
    ["checkout", "checkout/", "/prod", "checkout/prod/blue", "check out/prod", f"{'a' * 101}/prod", ""],
)
def test_anything_else_is_not_a_target(text: str) -> None:
    assert Target.parse(text) is None


# --- a group elsewhere: its ARN ---------------------------------------------------------------------------

NAMES = st.text(alphabet=string.ascii_letters + string.digits + "+=,.@_-", min_size=1, max_size=100)
ACCOUNTS = st.text(alphabet=string.digits, min_size=12, max_size=12)
REGIONS = st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-2", "ca-west-1"])


@given(application=NAMES, group=NAMES, account=ACCOUNTS, region=REGIONS)
def test_a_deployment_group_arn_reads_back_as_it_was_written(
    application: str, group: str, account: str, region: str
) -> None:
    arn = f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:{application}/{group}"

    target = Target.parse(arn)

    assert target == Target(application, group, Place(account, region))
    assert str(target) == arn


@given(application=NAMES, group=NAMES)
def test_a_short_name_is_the_functions_own_account_and_region(application: str, group: str) -> None:
    target = Target.parse(f"{application}/{group}")

    assert target is not None
    assert target.place == HOME
    assert target.arn(Place("123456789012", "eu-west-1")) == (
        f"arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:{application}/{group}"
    )


@pytest.mark.parametrize(
    ("arn", "partition"),
    [
        ("arn:aws-cn:codedeploy:cn-north-1:111122223333:deploymentgroup:app/prod", "aws-cn"),
        ("arn:aws-us-gov:codedeploy:us-gov-west-1:111122223333:deploymentgroup:app/prod", "aws-us-gov"),
    ],
)
def test_other_partitions_keep_their_arn(arn: str, partition: str) -> None:
    target = Target.parse(arn)

    assert target is not None
    assert str(target) == arn
    assert arn.startswith(f"arn:{partition}:")


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:codedeploy:us-east-1:11112222333:deploymentgroup:app/prod",  # 11 digits
        "arn:aws:codedeploy:us-east-1:111122223333:deploymentgroup:app",  # no group
        "arn:aws:codedeploy:us-east-1:111122223333:application:app",  # an application, not a group
        "arn:aws:codedeploy:US-EAST-1:111122223333:deploymentgroup:app/prod",
        "arn:aws:codedeploy:moon-1:111122223333:deploymentgroup:app/prod",
        "arn:aws:codedeploy::111122223333:deploymentgroup:app/prod",
        "arn:aws-cn:codedeploy:us-east-1:111122223333:deploymentgroup:app/prod",  # partition != region's
        "arn:aws:codedeploy:cn-north-1:111122223333:deploymentgroup:app/prod",
        "arn:aws:cloudwatch:us-east-1:111122223333:deploymentgroup:app/prod",
        "arn:aws:codedeploy:us-east-1:111122223333:deploymentgroup:app/prod\n",
        "arn:aws:codedeploy:us-east-1:111122223333:deploymentgroup:app/prod/blue",
        "arn:aws:codedeploy:us-east-1:111122223333:deploymentgroup:*/prod",  # a glob is not a target
    ],
)
def test_anything_else_arn_shaped_is_not_a_target(text: str) -> None:
    assert Target.parse(text) is None


@given(st.text(max_size=200))
def test_parsing_any_text_gives_a_target_that_reads_back_or_nothing(text: str) -> None:
    target = Target.parse(text)

    assert target is None or str(target) == text


def test_a_short_name_read_in_another_account_moves_there_and_an_arn_stays() -> None:
    elsewhere = Place("222222222222", "eu-west-1")
    arn = Target.parse("arn:aws:codedeploy:us-east-1:333333333333:deploymentgroup:app/prod")

    assert Target("app", "prod").at(elsewhere) == Target("app", "prod", elsewhere)
    assert arn is not None
    assert arn.at(elsewhere) == arn
