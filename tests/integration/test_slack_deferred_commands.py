"""Slack that is never late: with AWS_LAMBDA_FUNCTION_NAME set (Lambda sets it), a stop, freeze or
unfreeze is acknowledged at once and handed to an asynchronous invocation of the function, whose result
replaces the acknowledgement at the command's response_url; what needs no stop, or cannot be handed
over, is answered in the request. Through lambda_handler on the local CodeDeploy, with the local Lambda
queueing the invocations and world.deliver_invocations delivering them.
"""

from typing import Any

import pytest

from local import fake_codedeploy
from local.context import LambdaContext
from local.fake_aws import lambda_ as fake_lambda
from local.slack import ResponseUrl
from local.world import IN_FLIGHT_ID, OTHER_TEAM_ID, QUEUED_ID, deliver_invocations, status_of
from stop_deployment import ledger
from stop_deployment.handler import lambda_handler
from stop_deployment.triggers.slack import deferral
from tests.logs import log_lines
from tests.slack_world import FUNCTION, USER, operations, say

# --- acknowledged at once, done on delivery ------------------------------------------------------------


def test_a_stop_is_acknowledged_in_the_channel_at_once_and_done_on_delivery(
    chatops: ResponseUrl, capsys: pytest.CaptureFixture[str]
) -> None:
    # When someone types `stop d-…`
    ack = say(f"stop {IN_FLIGHT_ID}", chatops.url)

    # Then the channel sees at once who asked to stop what, and CodeDeploy has not been called yet
    assert ack["response_type"] == "in_channel"
    assert f"{USER} asked; stopping `{IN_FLIGHT_ID}`" in ack["text"]
    assert operations() == []
    assert status_of(IN_FLIGHT_ID) == "InProgress"
    fake_codedeploy.clear_calls()
    # And the work waits in an asynchronous invocation of this function, signed, for this response_url
    (queued,) = fake_lambda.take_invocations()
    assert queued.function_name == FUNCTION
    handed = queued.payload[deferral.WORK_KEY]
    assert (handed["kind"], handed["text"], handed["responseUrl"]) == (
        "command",
        f"stop {IN_FLIGHT_ID}",
        chatops.url,
    )
    assert (handed["teamId"], handed["channelId"], handed["userId"]) == (
        "T0123ABCD",
        "C0456EFGH",
        "U0789IJKL",
    )
    assert queued.payload["signature"].startswith("v1=")
    assert chatops.received == []

    # When Lambda delivers it
    answer = lambda_handler(queued.payload, LambdaContext())

    # Then the deployment is stopped once and the result replaces the acknowledgement
    assert answer == {"outcome": "done", "kind": "command", "posted": True}
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert operations().count("StopDeployment") == 1
    (result,) = chatops.received
    assert result["replace_original"] is True
    assert result["response_type"] == "in_channel"
    for words in (USER, f"stopped `{IN_FLIGHT_ID}`", "checkout/prod", "now Stopped"):
        assert words in result["text"]
    output = capsys.readouterr()
    assert chatops.url not in output.out + output.err  # the response_url is a credential: never logged


def test_a_group_stop_without_confirmation_is_handed_over_too(chatops: ResponseUrl, configure: Any) -> None:
    configure(SLACK_CONFIRM="never")

    ack = say("stop checkout/prod", chatops.url)

    assert ack["response_type"] == "in_channel"
    assert "Looking up what `stop checkout/prod` would stop" in ack["text"]
    assert operations() == []
    deliver_invocations()
    (result,) = chatops.received
    assert "stopped 2 of 2 in `checkout/prod`" in result["text"]
    assert status_of(IN_FLIGHT_ID) == status_of(QUEUED_ID) == "Stopped"
    assert status_of(OTHER_TEAM_ID) == "InProgress"


def test_a_freeze_and_an_unfreeze_are_handed_over_and_kept_on_delivery(
    chatops: ResponseUrl, loop: str
) -> None:
    frozen = say("freeze checkout/prod 2h Black Friday", chatops.url)

    assert frozen["response_type"] == "in_channel"
    assert f"{USER} asked; freezing `checkout/prod`" in frozen["text"]
    assert ledger.freezes() == {}
    deliver_invocations()
    assert list(ledger.freezes()) == ["checkout/prod"]
    assert "froze `checkout/prod` until" in chatops.received[-1]["text"]

    lifted = say("unfreeze checkout/prod", chatops.url)

    assert f"{USER} asked; lifting the freeze on `checkout/prod`" in lifted["text"]
    assert list(ledger.freezes()) == ["checkout/prod"]
    deliver_invocations()
    assert ledger.freezes() == {}
    assert "lifted the freeze on `checkout/prod`" in chatops.received[-1]["text"]
    assert all(post["replace_original"] is True for post in chatops.received)
    assert operations() == []


def test_status_after_a_deferred_stop_says_who_stopped_it(chatops: ResponseUrl, loop: str) -> None:
    say(f"stop {IN_FLIGHT_ID}", chatops.url)
    deliver_invocations()

    shown = say(f"status {IN_FLIGHT_ID}", chatops.url)

    assert shown["response_type"] == "ephemeral"
    assert "*Stopped*" in shown["text"]
    assert "stop asked by jdoe (U0789IJKL) (slack)" in shown["text"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("help", "`stop d-XXXXXXXXX`"),
        (f"status {IN_FLIGHT_ID}", "*InProgress*"),
        ("freezes", "No freeze is in force"),
        ("stop not-an-id", "`not-an-id` is not a deployment id"),
        ("deploy d-LGUMS25CC", "I did not understand"),
    ],
)
def test_what_needs_no_stop_is_answered_in_the_request_with_nothing_handed_over(
    chatops: ResponseUrl, text: str, words: str
) -> None:
    message = say(text, chatops.url)

    assert words in message["text"]
    assert fake_lambda.take_invocations() == []
    assert "StopDeployment" not in operations()
    assert chatops.received == []


def test_a_refused_user_is_answered_in_the_request_with_nothing_handed_over(
    chatops: ResponseUrl, configure: Any
) -> None:
    configure(SLACK_ALLOWED_USERS="U0000OTHER")

    message = say(f"stop {IN_FLIGHT_ID}", chatops.url)

    assert message["response_type"] == "ephemeral"
    assert f"{USER} is not allowed to use this command" in message["text"]
    assert fake_lambda.take_invocations() == []
    assert operations() == []


def test_a_slow_codedeploy_does_not_delay_the_acknowledgement(chatops: ResponseUrl) -> None:
    # Given a CodeDeploy that takes 5 s to answer anything (over Slack's 3 s)
    fake_codedeploy.set_latency(5)

    # When someone stops a deployment, the acknowledgement comes back without asking CodeDeploy
    ack = say(f"stop {IN_FLIGHT_ID}", chatops.url)

    assert f"stopping `{IN_FLIGHT_ID}`" in ack["text"]
    assert fake_codedeploy.calls() == []
    # And the handed-over work still stops it (CodeDeploy answering quickly again, to keep the test short)
    fake_codedeploy.set_latency(0)
    deliver_invocations()
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert "now Stopped" in chatops.received[-1]["text"]


# --- done in the request when it cannot be handed over --------------------------------------------------


@pytest.mark.parametrize(
    ("code", "http_status"),
    [("TooManyRequestsException", 429), ("AccessDeniedException", 403), ("ResourceNotFoundException", 404)],
)
def test_when_the_invoke_fails_the_stop_is_done_in_the_request(
    chatops: ResponseUrl, code: str, http_status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_lambda.inject_error("Invoke", code, http_status=http_status, times=-1)  # retries fail too

    message = say(f"stop {IN_FLIGHT_ID}", chatops.url)

    assert message["response_type"] == "in_channel"
    assert f"stopped `{IN_FLIGHT_ID}`" in message["text"]
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert operations().count("StopDeployment") == 1
    assert fake_lambda.take_invocations() == []
    assert deliver_invocations() == []  # nothing left to do it twice
    (line,) = [
        line
        for line in log_lines(capsys.readouterr().out)
        if line["message"] == "Could not hand the Slack work over; doing it now"
    ]
    assert line["error"] == code


def test_outside_lambda_the_stop_is_done_in_the_request(chatops: ResponseUrl, configure: Any) -> None:
    configure(AWS_LAMBDA_FUNCTION_NAME="")  # Lambda sets it; `make serve` and sam local do not

    message = say(f"stop {IN_FLIGHT_ID}", chatops.url)

    assert f"stopped `{IN_FLIGHT_ID}`" in message["text"]
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert fake_lambda.take_invocations() == []


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://attacker.example.com/commands/1",
        "https://hooks.slack.com.evil.example/commands/1",
        "http://hooks.slack.com/commands/1",
    ],
)
def test_without_an_allowed_response_url_the_stop_is_done_in_the_request(
    chatops: ResponseUrl, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    message = say(f"stop {IN_FLIGHT_ID}", url)

    assert f"stopped `{IN_FLIGHT_ID}`" in message["text"]
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert fake_lambda.take_invocations() == []
    if url:
        assert url not in capsys.readouterr().out
