"""Where the function may act (ALLOWED_ACCOUNTS, ALLOWED_REGIONS, ARN globs in the allowlist) and the
STS session names that carry the requester into a member account's CloudTrail."""

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stop_deployment import accounts
from stop_deployment.errors import AccountNotAllowed, ConfigurationError
from stop_deployment.settings import covers, load
from stop_deployment.target import HOME, Place, Target
from stop_deployment.triggers.slack.command import FreezeGroup, Unfreeze, parse

OWN = "arn:aws:lambda:us-east-1:123456789012:function:stop-deployment"
B, C = "222222222222", "333333333333"


@pytest.fixture(autouse=True)
def _home() -> None:
    """The function's own account, as the handler learns it from its context (no STS here)."""
    accounts.learn_home(OWN)


def test_by_default_the_function_acts_only_in_its_own_account_and_region() -> None:
    config = load({"AWS_REGION": "eu-west-1"})

    assert (config.allowed_accounts, config.allowed_regions) == (frozenset(), frozenset())
    assert config.home_region == "eu-west-1"
    assert config.member_role_name == "StopDeploymentMember"


def test_the_organisation_settings_are_read() -> None:
    config = load(
        {"ALLOWED_ACCOUNTS": f" {B}, {C} ", "ALLOWED_REGIONS": "eu-west-1", "MEMBER_ROLE_NAME": "KillSwitch"}
    )

    assert config.allowed_accounts == {B, C}
    assert config.allowed_regions == {"eu-west-1"}
    assert config.member_role_name == "KillSwitch"


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("ALLOWED_ACCOUNTS", "22222222222"),
        ("ALLOWED_ACCOUNTS", f"{B};{C}"),
        ("ALLOWED_ACCOUNTS", "*"),
        ("ALLOWED_REGIONS", "EU-WEST-1"),
        ("ALLOWED_REGIONS", "eu-west"),
        ("ALLOWED_REGIONS", "*"),
        ("MEMBER_ROLE_NAME", "role/with/path"),
        ("AWS_REGION", "moon-1"),
        ("ALLOWED_DEPLOYMENT_GROUPS", "arn:aws:codedeploy:*:*:application:*/*"),
    ],
)
def test_invalid_organisation_settings_fail_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load({name: raw})


@pytest.mark.parametrize(
    ("place", "allowed"),
    [
        (HOME, True),
        (Place("123456789012", "us-east-1"), True),  # the function's own, spelled out
        (Place(B, "us-east-1"), True),
        (Place(B, "eu-west-1"), True),
        (Place("123456789012", "eu-west-1"), True),
        (Place(C, "us-east-1"), False),  # account not listed
        (Place(B, "ap-southeast-2"), False),  # region not listed
    ],
)
def test_the_account_and_region_must_be_the_functions_own_or_listed(
    configure: object, place: Place, allowed: bool
) -> None:
    configure(ALLOWED_ACCOUNTS=B, ALLOWED_REGIONS="eu-west-1")  # type: ignore[operator]

    if allowed:
        assert accounts.check_allowed(place) in (HOME, place)
    else:
        with pytest.raises(AccountNotAllowed, match=r"ALLOWED_(ACCOUNTS|REGIONS)"):
            accounts.check_allowed(place)


def test_the_functions_own_account_and_region_however_spelled_is_home() -> None:
    assert accounts.located(Place("123456789012", "us-east-1")) == HOME
    assert accounts.located(Place("123456789012", "")) == HOME
    assert accounts.located(Place(B, "")) == Place(B, "us-east-1")


ELSEWHERE = Target("checkout", "prod", Place(B, "eu-west-1"))


@pytest.mark.parametrize(
    ("patterns", "target", "allowed"),
    [
        ("*", ELSEWHERE, True),  # the account bounds decide
        ("checkout/prod", ELSEWHERE, False),  # short globs cover the function's own account only
        ("*/prod", ELSEWHERE, False),
        (f"arn:aws:codedeploy:*:{B}:deploymentgroup:*/prod", ELSEWHERE, True),
        (f"arn:aws:codedeploy:*:{C}:deploymentgroup:*/prod", ELSEWHERE, False),
        ("arn:aws:codedeploy:us-east-1:*:deploymentgroup:*", ELSEWHERE, False),
        # ARN globs cover the function's own groups too, by their ARN.
        (
            "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:checkout/*",
            Target("checkout", "prod"),
            True,
        ),
        ("arn:aws:codedeploy:*:*:deploymentgroup:payments/*", Target("checkout", "prod"), False),
        ("checkout/prod", Target("checkout", "prod"), True),
    ],
)
def test_the_allowlist_covers_groups_by_short_name_here_and_by_arn_anywhere(
    patterns: str, target: Target, allowed: bool
) -> None:
    assert load({"ALLOWED_DEPLOYMENT_GROUPS": patterns}).allows(target) is allowed


@pytest.mark.parametrize(
    ("requester", "name"),
    [
        (
            "arn:aws:sts::111122223333:assumed-role/Oncall/alice@example.com",
            "assumed-role-Oncall-alice@example.com",
        ),
        ("arn:aws:iam::111122223333:user/bob", "user-bob"),
        ("Alice Smith (U0123ABCD)", "Alice-Smith-U0123ABCD"),
        (
            "arn:aws:cloudwatch:us-east-1:222222222222:alarm:kill-switch checkout 5xx",
            "alarm-kill-switch-checkout-5xx",
        ),
        ("aws.events in account 222222222222", "aws.events-in-account-222222222222"),
        (None, "stop-deployment"),
        ("x", "stop-deployment"),
        ("(!)", "stop-deployment"),
        ("é" * 10, "stop-deployment"),
        ("a" * 100, "a" * 64),
    ],
)
def test_the_session_name_carries_the_requester_as_sts_allows(requester: str | None, name: str) -> None:
    assert accounts.session_name(requester) == name


@given(st.one_of(st.none(), st.text(max_size=300)))
def test_any_requester_gives_a_session_name_sts_accepts(requester: str | None) -> None:
    assert re.fullmatch(r"[\w+=,.@-]{2,64}", accounts.session_name(requester), re.ASCII)


B_PROD = f"arn:aws:codedeploy:us-east-1:{B}:deploymentgroup:*/prod"


def test_freezes_name_a_member_accounts_groups_by_arn_in_calendars_and_slack() -> None:
    config = load({"FREEZE_CALENDARS": json.dumps({B_PROD: ["b-freeze"], "*/prod": ["here"]})})
    frozen = parse(f"freeze {B_PROD} 2h launch in B")

    assert config.freeze_calendars == ((B_PROD, ("b-freeze",)), ("*/prod", ("here",)))
    assert frozen == FreezeGroup(B_PROD, 120, "launch in B")
    assert parse(f"unfreeze {B_PROD}") == Unfreeze(B_PROD)


@pytest.mark.parametrize(
    ("pattern", "target", "covered"),
    [
        (B_PROD, Target("checkout", "prod", Place(B, "us-east-1")), True),
        (B_PROD, Target("checkout", "prod", Place(B, "eu-west-1")), False),
        (B_PROD, Target("checkout", "prod"), False),
        ("*/prod", Target("checkout", "prod", Place(B, "us-east-1")), False),  # short: this account only
        ("*/prod", Target("checkout", "prod"), True),
        ("arn:aws:codedeploy:*:*:deploymentgroup:*/prod", Target("checkout", "prod"), True),  # by its ARN
    ],
)
def test_a_freeze_covers_groups_by_the_allowlists_rule(pattern: str, target: Target, covered: bool) -> None:
    assert covers(pattern, target) is covered
