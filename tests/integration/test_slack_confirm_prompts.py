"""Asking before a big stop: `stop application/group` (every stop with SLACK_CONFIRM=always) first shows
what it would stop, with a danger button and Cancel, and stops nothing until someone clicks; with
SLACK_CONFIRM=never it stops at once, and without a ledger it explains why it cannot ask. Through
lambda_handler on the local CodeDeploy, DynamoDB and SNS, the function running as in Lambda (it hands
the work to the local Lambda's queue; world.deliver_invocations runs it).
"""

import re
from typing import Any

import pytest

from local import fake_codedeploy
from local.world import IN_FLIGHT_ID, OTHER_TEAM_ID, QUEUED_ID, deliver_invocations, status_of
from stop_deployment.triggers.slack.messages import CANCEL_ACTION, CONFIRM_ACTION
from tests.slack_world import SHOWN, USER, Slack, click, prompted, rollback_in_flight, say, stops

KEY = re.compile(r"^confirm#[0-9a-f]{32}$")


# --- the prompt ---------------------------------------------------------------------------------------


def test_the_prompt_lists_exactly_the_deployments_in_flight_and_stops_nothing(
    confirming: Slack, deployments: Any
) -> None:
    rollback = rollback_in_flight(deployments)

    prompt, key = prompted(confirming)

    assert prompt["response_type"] == "in_channel"
    assert f"{USER} asked to stop 2 deployments in `checkout/prod` (rollback requested)" in prompt["text"]
    assert "Confirm within 5 minutes; deployments that start later are not included" in prompt["text"]
    listed = re.findall(r"`(d-[A-Z0-9]+)`", prompt["text"])
    assert sorted(listed) == sorted(SHOWN)  # not the completed one, not payments', not the rollback
    assert rollback not in prompt["text"]
    for line in prompt["blocks"][1]["elements"][0]["text"].splitlines():
        assert re.fullmatch(
            r"`d-[A-Z0-9]{9}` (InProgress|Queued), created by user, created \d{4}-\d\d-\d\d \d\d:\d\d UTC",
            line,
        ), line
    confirm, cancel = prompt["blocks"][-1]["elements"]
    assert KEY.match(key)
    assert (confirm["action_id"], confirm["style"], confirm["text"]["text"]) == (
        CONFIRM_ACTION,
        "danger",
        "Stop 2 deployments",
    )
    assert confirm["confirm"]["title"]["text"] == "Stop 2 deployments?"
    assert confirm["confirm"]["style"] == "danger"
    assert (cancel["action_id"], cancel["text"]["text"]) == (CANCEL_ACTION, "Cancel")
    assert "style" not in cancel
    assert stops() == []
    assert all(status_of(d) == s for d, s in zip(SHOWN, ("InProgress", "Queued"), strict=True))


def test_a_group_with_nothing_in_flight_says_so_without_a_prompt(confirming: Slack) -> None:
    fake_codedeploy.set_status(OTHER_TEAM_ID, "Succeeded")

    say("stop payments/prod", confirming.command.url)
    deliver_invocations()

    (said,) = confirming.command.received
    assert "asked to stop `payments/prod`: no deployment was in flight" in said["text"]
    assert [block["type"] for block in said["blocks"]] == ["section"]  # no buttons


def test_a_group_outside_allowed_deployment_groups_gets_no_prompt(confirming: Slack, configure: Any) -> None:
    configure(ALLOWED_DEPLOYMENT_GROUPS="payments/*")

    say("stop checkout/prod", confirming.command.url)
    deliver_invocations()

    (said,) = confirming.command.received
    assert said["response_type"] == "ephemeral"
    assert "`stop checkout/prod` failed: checkout/prod is not in ALLOWED_DEPLOYMENT_GROUPS" in said["text"]
    assert fake_codedeploy.calls() == []


# --- SLACK_CONFIRM and the ledger -----------------------------------------------------------------------


def test_always_asks_before_a_single_stop_too(confirming: Slack, configure: Any) -> None:
    configure(SLACK_CONFIRM="always")

    prompt, key = prompted(confirming, f"stop {IN_FLIGHT_ID}")

    assert "asked to stop 1 deployment in `checkout/prod`" in prompt["text"]
    assert re.findall(r"`(d-[A-Z0-9]+)`", prompt["text"]) == [IN_FLIGHT_ID]
    assert prompt["blocks"][-1]["elements"][0]["text"]["text"] == "Stop 1 deployment"
    assert stops() == []
    click(confirming, key)
    deliver_invocations()
    assert stops() == [IN_FLIGHT_ID]
    assert status_of(QUEUED_ID) == "Queued"


def test_always_keeps_a_no_rollback_flag_until_the_confirmation(confirming: Slack, configure: Any) -> None:
    configure(SLACK_CONFIRM="always")
    prompt, key = prompted(confirming, f"stop {IN_FLIGHT_ID} --no-rollback")
    assert "(no rollback)" in prompt["text"]

    click(confirming, key)
    deliver_invocations()

    (stop,) = [c.params for c in fake_codedeploy.calls() if c.operation == "StopDeployment"]
    assert stop == {"deploymentId": IN_FLIGHT_ID, "autoRollbackEnabled": False}


def test_never_stops_a_group_without_asking(confirming: Slack, configure: Any) -> None:
    configure(SLACK_CONFIRM="never")

    say("stop checkout/prod", confirming.command.url)
    deliver_invocations()

    (result,) = confirming.command.received
    assert "stopped 2 of 2 in `checkout/prod`" in result["text"]
    assert "blocks" in result
    assert all(block["type"] != "actions" for block in result["blocks"])
    assert sorted(stops()) == sorted(SHOWN)


@pytest.mark.parametrize("in_lambda", [True, False], ids=["handed over", "in the request"])
def test_without_a_ledger_the_confirmation_is_explained_and_nothing_is_stopped(
    confirm_chatops: Slack, configure: Any, in_lambda: bool
) -> None:
    if not in_lambda:
        configure(AWS_LAMBDA_FUNCTION_NAME="")  # as outside Lambda

    answer = say("stop checkout/prod", confirm_chatops.command.url)
    deliver_invocations()

    said = confirm_chatops.command.received[-1] if in_lambda else answer
    assert said["response_type"] == "ephemeral"
    assert "`stop checkout/prod` asks for a confirmation first" in said["text"]
    assert "STOPS_TABLE" in said["text"]
    assert "SLACK_CONFIRM=never" in said["text"]
    assert stops() == []
