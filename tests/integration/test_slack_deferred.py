"""Slack that is never late: with AWS_LAMBDA_FUNCTION_NAME set (Lambda sets it), a stop, freeze or
unfreeze is acknowledged at once and handed to an asynchronous invocation of the function, whose result
replaces the acknowledgement at the command's response_url. Through lambda_handler on the local
CodeDeploy, with the local Lambda queueing the invocations and world.deliver_invocations delivering them.
"""

import http.server
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from local import fake_codedeploy
from local.context import LambdaContext
from local.fake_aws import lambda_ as fake_lambda
from local.slack import ResponseUrl, response_url, signed
from local.world import (
    IN_FLIGHT_ID,
    OTHER_TEAM_ID,
    QUEUED_ID,
    SLACK_SECRET_PARAM,
    deliver_invocations,
    load_event,
    seed_slack_secret,
    status_of,
)
from stop_deployment import ledger, notify
from stop_deployment.errors import InvalidRequest, SlackSignatureInvalid
from stop_deployment.handler import lambda_handler
from stop_deployment.triggers.slack import deferral, signature
from stop_deployment.triggers.slack.authorise import Sender
from tests.logs import log_lines

FUNCTION = "stop-deployment-local"
USER = "<@U0789IJKL>"  # the user_id of events/slack-command-rest.json
SENDER = Sender("T0123ABCD", "C0456EFGH", "U0789IJKL", "jdoe")  # the same form's team, channel, user


@pytest.fixture
def slack(configure: Any) -> Iterator[ResponseUrl]:
    """A local response_url on 127.0.0.1, allowed by SLACK_EXTRA_RESPONSE_HOSTS."""
    with response_url() as stand_in:
        configure(SLACK_EXTRA_RESPONSE_HOSTS=stand_in.host)
        yield stand_in


@pytest.fixture
def chatops(deployments: Any, configure: Any, slack: ResponseUrl) -> ResponseUrl:
    """Every deployment of the world, the signing secret, and the function running as in Lambda (so it
    hands slow work over); returns the response_url the commands carry."""
    seed_slack_secret()
    configure(SLACK_SIGNING_SECRET_PARAM=SLACK_SECRET_PARAM, AWS_LAMBDA_FUNCTION_NAME=FUNCTION)
    return slack


def say(text: str, url: str) -> dict[str, Any]:
    """What Slack shows at once after someone typed `text` (a signed REST v1 slash command)."""
    event = signed(load_event("slack-command-rest.json"), text=text, response_url=url)
    response = lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    message: dict[str, Any] = json.loads(response["body"])
    assert message["text"]
    assert message["blocks"][0]["text"]["type"] == "mrkdwn"
    return message


def operations() -> list[str]:
    return [call.operation for call in fake_codedeploy.calls()]


def work(text: str, url: str, issued_at: int | None = None) -> dict[str, Any]:
    """A command handed over as the route does it (deferral's own payload, signed with the app's
    secret), issued at `issued_at` (now by default)."""
    handed = deferral.Work("command", SENDER, url, text=text)
    return deferral._payload(handed, int(time.time()) if issued_at is None else issued_at)


def resign(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload signed again as it now is: a forger who knows the secret, or a test making a field
    consistent with its signature."""
    return {**payload, "signature": deferral._signature(payload[deferral.WORK_KEY])}


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


# --- a response_url that fails ----------------------------------------------------------------------------


class _Failing(http.server.BaseHTTPRequestHandler):
    posts = 0

    def do_POST(self) -> None:
        type(self).posts += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(500)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def failing_url(configure: Any) -> Iterator[tuple[str, type[_Failing]]]:
    """A response_url on 127.0.0.1 that answers every post with a 500; allowed."""

    class Failing(_Failing):
        posts = 0

    server = http.server.HTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    configure(SLACK_EXTRA_RESPONSE_HOSTS=f"127.0.0.1:{server.server_port}")
    try:
        yield f"http://127.0.0.1:{server.server_port}/commands/T0123ABCD/1/secret", Failing
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_url(configure: Any) -> str:
    """A response_url on a 127.0.0.1 port nothing listens on; allowed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    configure(SLACK_EXTRA_RESPONSE_HOSTS=f"127.0.0.1:{port}")
    return f"http://127.0.0.1:{port}/commands/T0123ABCD/1/secret"


def _assert_stopped_once_and_the_failed_post_logged(url: str, answers: list[Any], output: str) -> None:
    assert answers == [{"outcome": "done", "kind": "command", "posted": False}]
    assert operations().count("StopDeployment") == 1
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    lines = log_lines(output)
    assert [line["attempt"] for line in lines if line["message"] == "Could not post to Slack"] == [1, 2]
    assert [line["message"] for line in lines if line["message"] == "Could not post the Slack work's result"]
    assert url not in output


def test_a_response_url_that_answers_500_is_tried_twice_and_the_stop_happens_once(
    chatops: ResponseUrl,
    failing_url: tuple[str, type[_Failing]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, server = failing_url
    say(f"stop {IN_FLIGHT_ID}", url)

    answers = deliver_invocations()

    assert server.posts == 2
    _assert_stopped_once_and_the_failed_post_logged(url, answers, capsys.readouterr().out)


def test_a_response_url_nobody_listens_on_is_tried_twice_and_the_stop_happens_once(
    chatops: ResponseUrl, closed_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    say(f"stop {IN_FLIGHT_ID}", closed_url)

    answers = deliver_invocations()

    _assert_stopped_once_and_the_failed_post_logged(closed_url, answers, capsys.readouterr().out)


def test_work_delivered_twice_stops_and_posts_once(chatops: ResponseUrl, loop: str) -> None:
    handed = work(f"stop {IN_FLIGHT_ID}", chatops.url)

    answers = [lambda_handler(handed, LambdaContext()) for _ in range(2)]  # Lambda delivers at least once

    assert [a["outcome"] for a in answers] == ["done", "repeated"]
    assert operations().count("StopDeployment") == 1
    assert len(chatops.received) == 1


class _Redirect(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.1:9/elsewhere")  # a host nobody allowed
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def test_a_response_url_that_redirects_is_a_failed_post_not_followed(configure: Any) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    configure(SLACK_EXTRA_RESPONSE_HOSTS=f"127.0.0.1:{server.server_port}")
    try:
        posted = notify.post_to_slack(f"http://127.0.0.1:{server.server_port}/hooks/1", {"text": "x"})
    finally:
        server.shutdown()
        server.server_close()

    assert posted is False
