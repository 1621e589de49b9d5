"""The worker trusts only work this function handed over: forged or edited payloads, texts the route
never hands over, work that waited too long, a sender no longer allowed and work signed with a rotated
secret stop nothing. Through lambda_handler on the local CodeDeploy, the function running as in Lambda.
"""

import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from local.context import LambdaContext
from local.slack import ResponseUrl
from local.world import IN_FLIGHT_ID, OTHER_TEAM_ID, SLACK_SECRET_PARAM, deliver_invocations, status_of
from stop_deployment.errors import InvalidRequest, SlackSignatureInvalid
from stop_deployment.handler import lambda_handler
from stop_deployment.triggers.slack import deferral, signature
from tests.slack_world import USER, operations, resign, say, work

# --- the worker trusts only work this function handed over ---------------------------------------------


def _edit(payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**payload, deferral.WORK_KEY: {**payload[deferral.WORK_KEY], **fields}}


Forge = Callable[[dict[str, Any]], dict[str, Any]]
FORGERIES: dict[str, tuple[Forge, type[Exception]]] = {
    "a signature that is not the MAC": (
        lambda p: {**p, "signature": "v1=" + "0" * 64},
        SlackSignatureInvalid,
    ),
    "Slack's own request signature format": (lambda p: {**p, "signature": "v0=" + "0" * 64}, InvalidRequest),
    "no signature": (lambda p: {deferral.WORK_KEY: p[deferral.WORK_KEY]}, InvalidRequest),
    "the text edited after signing": (
        lambda p: _edit(p, text=f"stop {OTHER_TEAM_ID}"),
        SlackSignatureInvalid,
    ),
    "the user edited after signing": (lambda p: _edit(p, userId="U0000BOSS"), SlackSignatureInvalid),
    "the response_url edited after signing": (
        lambda p: _edit(p, responseUrl="https://attacker.example.com/x"),
        SlackSignatureInvalid,
    ),
    "the time edited after signing": (
        lambda p: _edit(p, issuedAt=p[deferral.WORK_KEY]["issuedAt"] + 1),
        SlackSignatureInvalid,
    ),
    "an extra field in the work": (lambda p: resign(_edit(p, admin=True)), InvalidRequest),
    "an extra field beside the work": (lambda p: {**p, "replay": 1}, InvalidRequest),
    "a command carrying a confirmation": (
        lambda p: resign(_edit(p, confirmation="confirm#" + "0" * 32)),
        InvalidRequest,
    ),
    "a confirmation carrying a text": (
        lambda p: resign(_edit(p, kind="confirm")),
        InvalidRequest,
    ),
    "an unknown kind": (lambda p: resign(_edit(p, kind="sweep")), InvalidRequest),
    "a user id Slack would not send": (lambda p: resign(_edit(p, userId="u0789ijkl")), InvalidRequest),
    "a time that is not a number": (lambda p: resign(_edit(p, issuedAt=str(time.time()))), InvalidRequest),
}


@pytest.mark.parametrize("how", FORGERIES)
def test_the_worker_refuses_work_it_did_not_hand_over_and_calls_nothing(
    chatops: ResponseUrl, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    forge, error = FORGERIES[how]
    genuine = work(f"stop {IN_FLIGHT_ID}", chatops.url)
    payload = forge(genuine)

    with pytest.raises(error):
        lambda_handler(payload, LambdaContext())

    assert operations() == []
    assert status_of(IN_FLIGHT_ID) == "InProgress"
    assert chatops.received == []
    assert genuine["signature"] not in capsys.readouterr().out


@pytest.mark.parametrize(
    "text",
    ["help", "", f"status {IN_FLIGHT_ID}", "freezes", "stop not-an-id", f"stop {IN_FLIGHT_ID} --force"],
)
def test_the_worker_refuses_a_text_the_route_never_hands_over_even_when_signed(
    chatops: ResponseUrl, text: str
) -> None:
    with pytest.raises(InvalidRequest, match="may only stop or freeze"):
        lambda_handler(work(text, chatops.url), LambdaContext())

    assert operations() == []
    assert chatops.received == []


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_work_that_waited_too_long_stops_nothing_and_says_it_was_dropped(
    chatops: ResponseUrl, age: int
) -> None:
    answer = lambda_handler(
        work(f"stop {IN_FLIGHT_ID}", chatops.url, int(time.time()) - age), LambdaContext()
    )

    assert answer["outcome"] == "done"
    assert operations() == []
    assert status_of(IN_FLIGHT_ID) == "InProgress"
    (dropped,) = chatops.received
    assert dropped["replace_original"] is True
    assert "was dropped; nothing was done. Try again." in dropped["text"]


def test_work_inside_the_five_minutes_runs(chatops: ResponseUrl) -> None:
    lambda_handler(work(f"stop {IN_FLIGHT_ID}", chatops.url, int(time.time()) - 290), LambdaContext())

    assert status_of(IN_FLIGHT_ID) == "Stopped"


def test_a_sender_removed_from_the_allowlist_before_delivery_is_refused_then(
    chatops: ResponseUrl, configure: Any
) -> None:
    say(f"stop {IN_FLIGHT_ID}", chatops.url)
    configure(SLACK_ALLOWED_USERS="U0000OTHER")  # between the acknowledgement and the delivery

    deliver_invocations()

    assert operations() == []
    assert status_of(IN_FLIGHT_ID) == "InProgress"
    (refused,) = chatops.received
    assert f"{USER} is not allowed to use this command; nothing was done" in refused["text"]


def test_work_signed_before_the_secret_was_rotated_is_refused(chatops: ResponseUrl) -> None:
    payload = work(f"stop {IN_FLIGHT_ID}", chatops.url)
    boto3.client("ssm").put_parameter(Name=SLACK_SECRET_PARAM, Value="rotated-secret", Overwrite=True)
    signature.forget_secret()

    with pytest.raises(SlackSignatureInvalid):
        lambda_handler(payload, LambdaContext())
    assert operations() == []
