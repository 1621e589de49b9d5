"""Fuzzing the Slack slash command: a signed one touches only what it asked for; a forged one gets 401."""

import json
import time
from typing import Any
from urllib.parse import urlencode

from hypothesis import example, given
from hypothesis import strategies as st

from local.world import CHECKOUT, IN_FLIGHT_ID, OTHER_TEAM_ID, PAYMENTS, QUEUED_ID
from stop_deployment.triggers.slack import command as slack_command
from tests.fuzz.slack_strategies import (
    SLACK_EVENTS,
    SLACK_FORM,
    allowed_calls,
    forged_requests,
    signed_headers,
    slack_event,
    slack_forms,
    slack_reply,
)
from tests.fuzz.strategies import calls, fuzz, invoke, reset_deployments, stopped


@fuzz(500)
@given(name=st.sampled_from(SLACK_EVENTS), body=slack_forms())
@example(
    name="slack-command-rest.json", body=urlencode({**SLACK_FORM, "text": "stop d-lgums25cc --no-rollback"})
)
@example(name="slack-command-rest.json", body=urlencode({**SLACK_FORM, "text": "stop checkout/prod"}))
def test_given_a_signed_slash_command_with_any_form_when_handled_then_a_slack_reply_and_only_what_it_asked(
    chatops: Any, lambda_context: Any, name: str, body: str
) -> None:
    reset_deployments()
    allowed = allowed_calls(body)

    message = slack_reply(invoke(slack_event(name, body, signed_headers(body)), lambda_context))

    if allowed is None:
        assert calls() == [], "a command that asked for nothing reached CodeDeploy"
        assert message["response_type"] == "ephemeral"
        return
    if isinstance(allowed, slack_command.Status):
        assert stopped() == []
        assert message["response_type"] == "ephemeral"
    elif isinstance(allowed, slack_command.StopDeployment):
        assert set(stopped()) <= {allowed.deployment_id}
        flag = allowed.auto_rollback
        sent = {params["autoRollbackEnabled"] for op, params in calls() if op == "StopDeployment"}
        assert sent <= {True if flag is None else flag}, f"asked for rollback {flag}, sent {sent}"
    else:
        in_group = {CHECKOUT: {IN_FLIGHT_ID, QUEUED_ID}, PAYMENTS: {OTHER_TEAM_ID}}
        assert set(stopped()) <= in_group.get(str(allowed.target), set())


@fuzz(400)
@given(forged=forged_requests())
# Found by this test: a signature with a non-ASCII character makes hmac.compare_digest raise TypeError.
@example(
    forged=(
        "slack-command-rest.json",
        "text=help",
        {"X-Slack-Request-Timestamp": 0, "X-Slack-Signature": "\u00e9"},  # 0: now, when it runs
    )
)
def test_given_an_unsigned_or_forged_slash_command_when_handled_then_401_and_nothing_called(
    chatops: Any, lambda_context: Any, forged: tuple[str, str, dict[str, str | int]]
) -> None:
    reset_deployments()
    name, body, given_headers = forged
    # A timestamp given as a number is seconds from now (the examples above are written down once).
    now = int(time.time())
    headers = {k: str(now + v) if isinstance(v, int) else v for k, v in given_headers.items()}

    response = invoke(slack_event(name, body, headers), lambda_context)

    assert isinstance(response, dict), repr(response)
    assert response["statusCode"] == 401, response.get("body")
    assert json.loads(response["body"])["error"] == "SlackSignatureInvalid"
    assert calls() == []
