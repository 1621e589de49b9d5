"""The Slack slash command through lambda_handler: REST v1 and HTTP API v2 events signed at run time."""

import base64
import json
import time
from typing import Any

import boto3
import pytest

from local import fake_codedeploy
from local.slack import TEST_SIGNING_SECRET, signed
from local.world import (
    COMPLETED_ID,
    IN_FLIGHT_ID,
    OTHER_TEAM_ID,
    QUEUED_ID,
    SLACK_SECRET_PARAM,
    load_event,
    seed_slack_secret,
    status_of,
)
from stop_deployment.handler import lambda_handler
from tests.logs import log_lines


@pytest.fixture
def chatops(deployments: Any, configure: Any) -> Any:
    """The signing secret in the local SSM, ChatOps configured, every deployment of the world."""
    seed_slack_secret()
    configure(SLACK_SIGNING_SECRET_PARAM=SLACK_SECRET_PARAM)
    return deployments


def rest(text: str, **options: Any) -> dict[str, Any]:
    return signed(load_event("slack-command-rest.json"), text=text, **options)


def reply(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 200, response["body"]
    message: dict[str, Any] = json.loads(response["body"])
    assert message["text"]  # the fallback is always there
    assert message["blocks"][0]["text"]["type"] == "mrkdwn"
    return message


def operations() -> list[str]:
    return [call.operation for call in fake_codedeploy.calls()]


def test_signed_stop_stops_and_tells_the_channel_who_stopped_what(chatops: Any, lambda_context: Any) -> None:
    message = reply(lambda_handler(rest(f"stop {IN_FLIGHT_ID}"), lambda_context))

    assert message["response_type"] == "in_channel"
    for words in (
        "<@U0789IJKL>",
        IN_FLIGHT_ID,
        "checkout/prod",
        "Pending",
        "rollback requested",
        "now Stopped",
    ):
        assert words in message["text"]
    assert status_of(IN_FLIGHT_ID) == "Stopped"


def test_http_api_base64_status_command_replies_privately(chatops: Any, lambda_context: Any) -> None:
    event = signed(load_event("slack-command-http-api.json"))  # its text is "status d-LGUMS25CC"

    message = reply(lambda_handler(event, lambda_context))

    assert message["response_type"] == "ephemeral"
    for words in (IN_FLIGHT_ID, "checkout/prod", "InProgress", "created by user"):
        assert words in message["text"]
    assert "StopDeployment" not in operations()


def test_no_rollback_flag_is_sent_as_false(chatops: Any, lambda_context: Any) -> None:
    message = reply(lambda_handler(rest(f"stop {IN_FLIGHT_ID.lower()} --no-rollback"), lambda_context))

    assert "no rollback" in message["text"]
    stops = [call.params for call in fake_codedeploy.calls() if call.operation == "StopDeployment"]
    assert stops == [{"deploymentId": IN_FLIGHT_ID, "autoRollbackEnabled": False}]


def test_stop_group_stops_every_deployment_in_flight_there(
    chatops: Any, configure: Any, lambda_context: Any
) -> None:
    configure(SLACK_CONFIRM="never")  # tests/integration/test_slack_confirm_*.py ask first
    message = reply(lambda_handler(rest("stop checkout/prod"), lambda_context))

    assert message["response_type"] == "in_channel"
    assert "stopped 2 of 2 in `checkout/prod`" in message["text"]
    assert status_of(IN_FLIGHT_ID) == status_of(QUEUED_ID) == "Stopped"
    assert status_of(COMPLETED_ID) == "Succeeded"
    assert status_of(OTHER_TEAM_ID) == "InProgress"


def test_already_completed_is_said_plainly(chatops: Any, lambda_context: Any) -> None:
    message = reply(lambda_handler(rest(f"stop {COMPLETED_ID}"), lambda_context))

    assert "had already completed" in message["text"]


@pytest.mark.parametrize(
    "text",
    [
        "help",
        "",
        "deploy d-LGUMS25CC",
        "stop",
        "stop not-an-id",
        "status checkout/prod",
        "stop d-LGUMS25CC --force",
    ],
)
def test_help_and_text_it_does_not_understand_get_the_usage_privately(
    chatops: Any, lambda_context: Any, text: str
) -> None:
    message = reply(lambda_handler(rest(text), lambda_context))

    assert message["response_type"] == "ephemeral"
    assert "`stop d-XXXXXXXXX`" in message["text"]
    assert operations() == []


def test_unknown_text_is_escaped_in_the_reply(chatops: Any, lambda_context: Any) -> None:
    message = reply(lambda_handler(rest("<!channel> hello"), lambda_context))

    assert "<!channel>" not in message["text"]
    assert "&lt;!channel&gt;" in message["text"]


@pytest.mark.parametrize(
    ("variable", "words"),
    [
        ("SLACK_ALLOWED_USERS", "<@U0789IJKL> is not allowed"),
        ("SLACK_ALLOWED_CHANNELS", "This channel is not allowed"),
        ("SLACK_ALLOWED_TEAMS", "This Slack workspace is not allowed"),
    ],
)
def test_users_channels_and_teams_outside_the_allowlists_are_refused_without_calls(
    chatops: Any,
    lambda_context: Any,
    configure: Any,
    variable: str,
    words: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(**{variable: "U0000OTHER,C0000OTHER,T0000OTHER"})

    message = reply(lambda_handler(rest(f"stop {IN_FLIGHT_ID}"), lambda_context))

    assert message["response_type"] == "ephemeral"
    assert words in message["text"]
    assert operations() == []
    (refusal,) = [
        line for line in log_lines(capsys.readouterr().out) if line["message"] == "Slack user refused"
    ]
    assert refusal["slackUserId"] == "U0789IJKL"


def test_listed_user_channel_and_team_may_stop(chatops: Any, lambda_context: Any, configure: Any) -> None:
    configure(
        SLACK_ALLOWED_USERS="U0789IJKL", SLACK_ALLOWED_CHANNELS="C0456EFGH", SLACK_ALLOWED_TEAMS="T0123ABCD"
    )

    message = reply(lambda_handler(rest(f"stop {IN_FLIGHT_ID}"), lambda_context))

    assert message["response_type"] == "in_channel"


def test_deployment_group_allowlist_applies_to_chat(
    chatops: Any, lambda_context: Any, configure: Any
) -> None:
    configure(ALLOWED_DEPLOYMENT_GROUPS="payments/*")

    message = reply(lambda_handler(rest(f"stop {IN_FLIGHT_ID}"), lambda_context))

    assert message["response_type"] == "ephemeral"
    assert "ALLOWED_DEPLOYMENT_GROUPS does not include" in message["text"]
    assert "StopDeployment" not in operations()


def test_a_stop_log_line_names_the_slack_requester(
    chatops: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_handler(rest(f"stop {IN_FLIGHT_ID}"), lambda_context)

    (line,) = [line for line in log_lines(capsys.readouterr().out) if line["message"] == "deployment stop"]
    assert line["trigger"] == "slack"
    assert line["requester"] == "jdoe (U0789IJKL)"
    assert (line["slackUserId"], line["slackChannelId"], line["slackTeamId"]) == (
        "U0789IJKL",
        "C0456EFGH",
        "T0123ABCD",
    )


def forged(event: dict[str, Any], how: str) -> dict[str, Any]:
    now = int(time.time())
    if how == "wrong secret":
        return signed(event, text=f"stop {IN_FLIGHT_ID}", secret="not-the-apps-secret")
    if how == "stale":
        return signed(event, text=f"stop {IN_FLIGHT_ID}", timestamp=now - 360)
    if how == "future":
        return signed(event, text=f"stop {IN_FLIGHT_ID}", timestamp=now + 360)
    good = signed(event, text="status d-LGUMS25CC")
    if how == "tampered":  # the text changed after signing
        encoded = good.get("isBase64Encoded")
        body = base64.b64decode(good["body"]).decode() if encoded else good["body"]
        body = body.replace("status", "stop")
        good["body"] = base64.b64encode(body.encode()).decode() if encoded else body
    elif how == "no signature":
        good["headers"] = {k: v for k, v in good["headers"].items() if k.lower() != "x-slack-signature"}
        good.pop("multiValueHeaders", None)
    elif how == "no timestamp":
        good["headers"] = {
            k: v for k, v in good["headers"].items() if k.lower() != "x-slack-request-timestamp"
        }
        good.pop("multiValueHeaders", None)
    return good


@pytest.mark.parametrize(
    "how", ["wrong secret", "stale", "future", "tampered", "no signature", "no timestamp"]
)
@pytest.mark.parametrize("event_file", ["slack-command-rest.json", "slack-command-http-api.json"])
def test_unverified_requests_are_401_and_do_nothing(
    chatops: Any, lambda_context: Any, how: str, event_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    event = forged(load_event(event_file), how)

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "SlackSignatureInvalid"
    assert operations() == []
    assert status_of(IN_FLIGHT_ID) == "InProgress"
    (refused,) = [
        line for line in log_lines(capsys.readouterr().out) if line["message"] == "Slack request refused"
    ]
    assert refused["reason"]


def test_a_request_inside_the_five_minute_window_is_accepted(chatops: Any, lambda_context: Any) -> None:
    event = rest(f"status {IN_FLIGHT_ID}", timestamp=int(time.time()) - 290)

    assert lambda_handler(event, lambda_context)["statusCode"] == 200


def test_neither_the_secret_nor_a_signature_reaches_the_logs(
    chatops: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    good = rest(f"stop {IN_FLIGHT_ID}")
    bad = signed(load_event("slack-command-rest.json"), text="help", secret="not-the-apps-secret")

    lambda_handler(good, lambda_context)
    lambda_handler(bad, lambda_context)

    output = capsys.readouterr()
    logged = output.out + output.err
    assert TEST_SIGNING_SECRET not in logged
    for event in (good, bad):
        assert event["headers"]["X-Slack-Signature"] not in logged
        assert event["headers"]["X-Slack-Signature"].removeprefix("v0=") not in logged


def test_without_a_configured_secret_the_route_is_503_and_the_rest_works(
    seeded: Any, lambda_context: Any
) -> None:
    response = lambda_handler(rest(f"stop {IN_FLIGHT_ID}"), lambda_context)

    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"] == "ChatOpsNotConfigured"
    assert operations() == []
    assert lambda_handler(load_event("direct-stop.json"), lambda_context)["outcome"] == "stop_requested"


def test_an_unreadable_secret_is_503(seeded: Any, lambda_context: Any, configure: Any) -> None:
    configure(SLACK_SIGNING_SECRET_PARAM="/stop-deployment/missing")

    response = lambda_handler(rest(f"stop {IN_FLIGHT_ID}"), lambda_context)

    assert response["statusCode"] == 503
    assert operations() == []


def test_the_secret_can_live_in_secrets_manager(seeded: Any, lambda_context: Any, configure: Any) -> None:
    arn = boto3.client("secretsmanager").create_secret(
        Name="slack-signing", SecretString=TEST_SIGNING_SECRET
    )["ARN"]
    configure(SLACK_SIGNING_SECRET_PARAM=arn)

    message = reply(lambda_handler(rest(f"status {IN_FLIGHT_ID}"), lambda_context))

    assert IN_FLIGHT_ID in message["text"]
