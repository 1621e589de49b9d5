"""The Slack rules underneath: the signature check (against slack_sdk's SignatureVerifier) and the
command grammar."""

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.signature import Clock, SignatureVerifier

from stop_deployment import accounts
from stop_deployment.target import Place, Target
from stop_deployment.triggers.slack.command import Help, Status, StopDeployment, StopGroup, parse
from stop_deployment.triggers.slack.signature import signature_problem

NOW = 1_741_083_330
B = "222222222222"
B_EU = Place(B, "eu-west-1")


@pytest.fixture(autouse=True)
def _home() -> None:
    """The function's own account, as the handler learns it from its context (no STS here)."""
    accounts.learn_home("arn:aws:lambda:us-east-1:123456789012:function:stop-deployment")


class FixedClock(Clock):
    def now(self) -> float:
        return NOW


def sign(secret: str, timestamp: str, body: str) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()


@given(
    secret=st.text(min_size=1, max_size=40).filter(str.strip),  # Slack's verifier refuses blank secrets
    body=st.text(max_size=200),
    skew=st.integers(min_value=-400, max_value=400),
    signed_with=st.sampled_from(["same secret", "other secret", "other body", "garbage"]),
)
def test_signature_check_agrees_with_slack_sdk(secret: str, body: str, skew: int, signed_with: str) -> None:
    timestamp = str(NOW + skew)
    signature = {
        "same secret": sign(secret, timestamp, body),
        "other secret": sign(secret + "x", timestamp, body),
        "other body": sign(secret, timestamp, body + "x"),
        "garbage": "v0=deadbeef",
    }[signed_with]

    ours = signature_problem(secret, body, timestamp, signature, NOW) is None
    slacks = SignatureVerifier(secret, clock=FixedClock()).is_valid(body, timestamp, signature)

    assert ours == slacks


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [
        (None, "v0=abc", "missing"),
        ("123", None, "missing"),
        ("soon", "v0=abc", "not a number"),
        (str(NOW - 301), "v0=abc", "stale or replayed"),
        (str(NOW + 301), "v0=abc", "stale or replayed"),
        (str(NOW), "v0=abc", "does not match"),
    ],
)
def test_each_refusal_says_why(timestamp: str | None, signature: str | None, reason: str) -> None:
    assert reason in (signature_problem("secret", "body", timestamp, signature, NOW) or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stop d-LGUMS25CC", StopDeployment("d-LGUMS25CC")),
        ("  STOP   d-lgums25cc  ", StopDeployment("d-LGUMS25CC")),
        ("stop d-LGUMS25CC --no-rollback", StopDeployment("d-LGUMS25CC", False)),
        ("stop --rollback d-LGUMS25CC", StopDeployment("d-LGUMS25CC", True)),
        ("stop checkout/prod", StopGroup(Target("checkout", "prod"))),
        ("stop checkout/prod --no-rollback", StopGroup(Target("checkout", "prod"), False)),
        ("status d-LGUMS25CC", Status("d-LGUMS25CC")),
        (
            "stop d-LGUMS25CC --account 222222222222 --region eu-west-1",
            StopDeployment("d-LGUMS25CC", None, B_EU),
        ),
        (
            "stop --region=eu-west-1 d-LGUMS25CC --account=222222222222 --no-rollback",
            StopDeployment("d-LGUMS25CC", False, B_EU),
        ),
        (
            "stop d-LGUMS25CC --account 222222222222",
            StopDeployment("d-LGUMS25CC", None, Place(B, "us-east-1")),
        ),
        ("stop d-LGUMS25CC --account 123456789012 --region us-east-1", StopDeployment("d-LGUMS25CC")),
        ("status d-LGUMS25CC --region eu-west-1", Status("d-LGUMS25CC", Place("123456789012", "eu-west-1"))),
        (
            "stop checkout/prod --account 222222222222 --region eu-west-1",
            StopGroup(Target("checkout", "prod", B_EU)),
        ),
        (
            f"stop arn:aws:codedeploy:eu-west-1:{B}:deploymentgroup:checkout/prod",
            StopGroup(Target("checkout", "prod", B_EU)),
        ),
        ("help", Help()),
        ("", Help()),
    ],
)
def test_commands_are_understood(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("restart d-LGUMS25CC", "did not understand"),
        ("stop", "did not understand"),
        ("stop d-LGUMS25CC d-C0MPLETED", "did not understand"),
        ("stop d-LGUMS25CC --force", "Unknown option `--force`"),
        ("status d-LGUMS25CC --no-rollback", "Unknown option"),
        ("stop checkout", "is not a deployment id (d-XXXXXXXXX) or application/group"),
        ("status checkout/prod", "is not a deployment id"),
        ("stop d-LGUMS25CC --account 2222", "accountId must be an AWS account id"),
        ("stop d-LGUMS25CC --region Mars", "region must be an AWS region code"),
        ("stop d-LGUMS25CC --account", "Unknown option `--account`"),
        ("stop d-LGUMS25CC --account --region eu-west-1", "Unknown option `--account`"),
        (
            f"stop arn:aws:codedeploy:eu-west-1:{B}:deploymentgroup:checkout/prod --account {B}",
            "An ARN says its",
        ),
    ],
)
def test_commands_not_understood_say_why(text: str, problem: str) -> None:
    command = parse(text)

    assert isinstance(command, Help)
    assert problem in (command.problem or "")
