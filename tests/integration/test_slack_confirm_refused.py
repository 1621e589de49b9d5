"""Interactions the function refuses: one Slack did not sign is a 401, one that is not a click on our
buttons is a 400, and a click from another channel finds no prompt; none of them stops anything.
Through lambda_handler on the local CodeDeploy, DynamoDB and SNS, the function running as in Lambda.
"""

import json
import time
from typing import Any

import pytest

from local import fake_codedeploy
from local.context import LambdaContext
from local.fake_aws import lambda_ as fake_lambda
from local.slack import TEST_SIGNING_SECRET
from local.world import IN_FLIGHT_ID, deliver_invocations
from stop_deployment.handler import lambda_handler
from stop_deployment.triggers.slack.messages import CONFIRM_ACTION
from tests.slack_world import Slack, interaction, interaction_payload, prompted, stops

# --- refused interactions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "skew"),
    [("not-the-apps-secret", 0), (TEST_SIGNING_SECRET, -360), (TEST_SIGNING_SECRET, 360)],
    ids=["wrong secret", "stale", "future"],
)
def test_an_interaction_slack_did_not_sign_is_401_and_does_nothing(
    confirming: Slack, secret: str, skew: int
) -> None:
    _, key = prompted(confirming)
    payload = interaction_payload()
    payload["actions"][0]["value"] = key
    payload["response_url"] = confirming.clicks.url
    signed_at = int(time.time()) + skew  # now, not when the tests were collected

    response = lambda_handler(interaction(payload, secret=secret, timestamp=signed_at), LambdaContext())

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "SlackSignatureInvalid"
    assert fake_lambda.take_invocations() == []
    assert confirming.clicks.received == []
    assert stops() == []


def _changed(path: str, value: Any) -> Any:
    """The example payload with one field (a dotted path; actions.0 the first action) set to `value`."""
    payload = interaction_payload()
    *parents, last = path.split(".")
    node: Any = payload
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return payload


_DELETE = object()
_ACTION = interaction_payload()["actions"][0]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("{not json", id="not JSON"),
        pytest.param("", id="empty"),
        pytest.param("[]", id="a list"),
        pytest.param(_changed("type", "view_submission"), id="another type"),
        pytest.param(_changed("actions.0.action_id", "approve"), id="an unknown action_id"),
        pytest.param(_changed("actions.0.value", "confirm#XYZ"), id="a value not a key"),
        pytest.param(_changed("actions.0.value", "confirm#" + "A" * 32), id="upper-case key"),
        pytest.param(_changed("actions.0.value", "freezes"), id="another ledger key"),
        pytest.param(_changed("actions.0.value", IN_FLIGHT_ID), id="a deployment id"),
        pytest.param(_changed("actions", []), id="no action"),
        pytest.param(_changed("actions", [_ACTION, _ACTION]), id="two actions"),
        pytest.param(_changed("user.id", "u0789ijkl"), id="a user id Slack would not send"),
        pytest.param(_changed("team", _DELETE), id="no team"),
        pytest.param(_changed("response_url", "https://attacker.example.com/x"), id="not Slack's url"),
        pytest.param(_changed("response_url", _DELETE), id="no response_url"),
    ],
)
def test_an_interaction_that_is_not_a_click_on_our_buttons_is_400_and_does_nothing(
    confirming: Slack, payload: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    response = lambda_handler(interaction(payload), LambdaContext())

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "InvalidRequest"
    assert fake_lambda.take_invocations() == []
    assert fake_codedeploy.calls() == []
    assert "attacker.example.com" not in capsys.readouterr().out


def test_a_click_from_another_channel_finds_no_prompt(confirming: Slack) -> None:
    _, key = prompted(confirming)
    payload = interaction_payload()
    payload["actions"][0].update(action_id=CONFIRM_ACTION, value=key)
    payload["channel"]["id"] = "C0OTHERCHAN"
    payload["response_url"] = confirming.clicks.url

    lambda_handler(interaction(payload), LambdaContext())
    deliver_invocations()

    assert stops() == []
    (said,) = confirming.clicks.received
    assert "unknown" in said["text"]
