"""Clicks on a confirmation prompt (POST /slack/interactions): Confirm stops exactly what was shown,
once, and replaces the prompt with what happened; Cancel, an expired or unknown prompt, and a user or
group the configuration now excludes stop nothing. Through lambda_handler on the local CodeDeploy,
DynamoDB and SNS, the function running as in Lambda (it hands the work to the local Lambda's queue;
world.deliver_invocations runs it).
"""

import json
import time
from typing import Any

import boto3

from local import fake_codedeploy
from local.context import LambdaContext
from local.fake_aws import lambda_ as fake_lambda
from local.world import (
    COMPLETED_ID,
    IN_FLIGHT_ID,
    OTHER_TEAM_ID,
    QUEUED_ID,
    STOPS_TABLE,
    deliver_invocations,
    edit_ledger_item,
    received_notifications,
    status_of,
)
from stop_deployment.handler import lambda_handler
from stop_deployment.triggers.slack.messages import CANCEL_ACTION
from tests.slack_world import (
    FUNCTION,
    SHOWN,
    USER,
    Slack,
    click,
    prompted,
    rollback_in_flight,
    say,
    stops,
)

# --- the clicks -----------------------------------------------------------------------------------------


def test_confirm_stops_exactly_what_was_shown_and_replaces_the_prompt(
    confirming: Slack, deployments: Any
) -> None:
    # Given the prompt, and a deployment that started after it was shown
    _, key = prompted(confirming)
    later = fake_codedeploy.create_deployment(deployments, "checkout", "prod")

    # When someone confirms, Slack gets its 200 at once and the stop is handed over
    click(confirming, key)
    assert stops() == []
    (queued,) = fake_lambda.take_invocations()
    assert queued.function_name == FUNCTION
    assert queued.payload["slackWork"]["kind"] == "confirm"
    assert queued.payload["slackWork"]["confirmation"] == key

    # Then, delivered, it stops the two deployments shown, and only those
    lambda_handler(queued.payload, LambdaContext())
    assert sorted(stops()) == sorted(SHOWN)
    assert status_of(IN_FLIGHT_ID) == status_of(QUEUED_ID) == "Stopped"
    assert status_of(later) == "InProgress"
    assert status_of(OTHER_TEAM_ID) == "InProgress"
    assert status_of(COMPLETED_ID) == "Succeeded"
    # And the prompt is replaced with what happened, the later deployment named as not confirmed
    (outcome,) = confirming.clicks.received
    assert outcome["replace_original"] is True
    assert outcome["response_type"] == "in_channel"
    assert f"{USER} confirmed: stopped 2 of 2 in `checkout/prod`" in outcome["text"]
    for deployment_id in SHOWN:
        assert f"`{deployment_id}` stop requested" in outcome["text"]
    assert f"`{later}` not confirmed: it started after the prompt; still running" in outcome["text"]


def test_the_rollbacks_the_confirmed_stops_start_are_not_reported_as_unconfirmed(
    confirming: Slack,
) -> None:
    fake_codedeploy.set_rollback_result("Succeeded", after=3600)  # rollbacks run a while, as in AWS
    _, key = prompted(confirming)

    click(confirming, key)
    deliver_invocations()

    rollbacks = [_rollback_of(d) for d in SHOWN]
    (outcome,) = confirming.clicks.received
    assert "not confirmed" not in outcome["text"], rollbacks


def test_a_rollback_left_out_of_the_prompt_is_not_reported_as_started_later(
    confirming: Slack, deployments: Any
) -> None:
    rollback = rollback_in_flight(deployments)
    _, key = prompted(confirming)
    fake_codedeploy.set_rollback_result("Succeeded")  # the stops' own rollbacks end at once

    click(confirming, key)
    deliver_invocations()

    assert status_of(rollback) == "InProgress"
    (outcome,) = confirming.clicks.received
    assert rollback not in outcome["text"]


def test_cancel_stops_nothing_and_says_who_cancelled(confirming: Slack) -> None:
    _, key = prompted(confirming)

    click(confirming, key, CANCEL_ACTION, user_id="U0999OTHER")
    deliver_invocations()

    (cancelled,) = confirming.clicks.received
    assert cancelled["replace_original"] is True
    assert "Cancelled by <@U0999OTHER>; nothing was stopped" in cancelled["text"]
    assert stops() == []
    # And a late click on Stop does nothing and says nothing: the cancellation stands
    click(confirming, key)
    deliver_invocations()
    assert stops() == []
    assert len(confirming.clicks.received) == 1


def test_a_double_click_stops_each_deployment_once_and_says_so_once(confirming: Slack, loop: str) -> None:
    _, key = prompted(confirming)
    received_notifications(loop)

    click(confirming, key)
    click(confirming, key)  # the second click, or Slack's retry
    answers = deliver_invocations()

    assert sorted(stops()) == sorted(SHOWN)
    assert len(confirming.clicks.received) == 1
    # The second is dropped as a repeated delivery (the same click in the same second), or finds the
    # prompt decided.
    first, second = sorted(a["outcome"] for a in answers)
    assert first == "done"
    assert second in ("nothing_to_say", "repeated")
    assert len(received_notifications(loop)) == 1


def test_a_double_click_done_in_the_request_stops_once_too(confirming: Slack) -> None:
    _, key = prompted(confirming)
    fake_lambda.inject_error("Invoke", "AccessDeniedException", http_status=403, times=-1)

    click(confirming, key)
    click(confirming, key)

    assert sorted(stops()) == sorted(SHOWN)
    assert len(confirming.clicks.received) == 1
    assert fake_lambda.take_invocations() == []


def test_an_expired_prompt_stops_nothing(confirming: Slack) -> None:
    _, key = prompted(confirming)
    edit_ledger_item(key, confirmBefore=int(time.time()) - 1)

    click(confirming, key)
    deliver_invocations()

    (expired,) = confirming.clicks.received
    assert "This confirmation expired after 5 minutes; nothing was stopped" in expired["text"]
    assert "Run `stop checkout/prod` again" in expired["text"]
    assert stops() == []


def test_a_prompt_holds_for_slack_confirm_minutes(confirming: Slack, configure: Any) -> None:
    configure(SLACK_CONFIRM_MINUTES="2")
    before = int(time.time())
    prompt, key = prompted(confirming)

    assert "Confirm within 2 minutes" in prompt["text"]
    item = boto3.client("dynamodb").get_item(TableName=STOPS_TABLE, Key={"deploymentId": {"S": key}})
    assert before + 120 <= int(item["Item"]["confirmBefore"]["N"]) <= int(time.time()) + 120


def test_an_unknown_prompt_says_so_and_stops_nothing(confirming: Slack) -> None:
    prompted(confirming)

    click(confirming, "confirm#" + "0" * 32)
    deliver_invocations()

    (unknown,) = confirming.clicks.received
    assert "This prompt is unknown" in unknown["text"]
    assert stops() == []


def test_a_user_the_allowlist_excludes_cannot_confirm(confirming: Slack, configure: Any) -> None:
    configure(SLACK_ALLOWED_USERS="U0789IJKL")
    _, key = prompted(confirming)

    click(confirming, key, user_id="U0999OTHER")

    assert fake_lambda.take_invocations() == []
    (refused,) = confirming.clicks.received
    assert refused["replace_original"] is False  # the prompt stays for someone who may
    assert "<@U0999OTHER> is not allowed to use this command; nothing was done" in refused["text"]
    assert stops() == []


def test_a_user_removed_from_the_allowlist_before_delivery_is_refused_then(
    confirming: Slack, configure: Any
) -> None:
    _, key = prompted(confirming)
    click(confirming, key)
    configure(SLACK_ALLOWED_USERS="U0000OTHER")

    deliver_invocations()

    (refused,) = confirming.clicks.received
    assert f"{USER} is not allowed to use this command" in refused["text"]
    assert stops() == []


def test_allowed_deployment_groups_applies_at_confirmation(confirming: Slack, configure: Any) -> None:
    _, key = prompted(confirming)
    configure(ALLOWED_DEPLOYMENT_GROUPS="payments/*")

    click(confirming, key)
    deliver_invocations()

    (outcome,) = confirming.clicks.received
    assert "confirmed: stopped 0 of 2" in outcome["text"]
    for deployment_id in SHOWN:
        assert f"`{deployment_id}` refused" in outcome["text"]
    assert stops() == []
    assert status_of(IN_FLIGHT_ID) == "InProgress"


def test_dry_run_applies_at_confirmation(confirming: Slack, configure: Any) -> None:
    _, key = prompted(confirming)
    configure(DRY_RUN="true")

    click(confirming, key)
    deliver_invocations()

    (outcome,) = confirming.clicks.received
    assert "confirmed: stopped 0 of 2" in outcome["text"]
    for deployment_id in SHOWN:
        assert f"`{deployment_id}` dry run" in outcome["text"]
    assert stops() == []
    assert status_of(IN_FLIGHT_ID) == "InProgress"


def test_the_confirmed_stops_are_recorded_announced_once_and_followed_up_in_the_click_conversation(
    confirming: Slack, loop: str
) -> None:
    _, key = prompted(confirming)
    assert received_notifications(loop) == []  # a prompt announces nothing

    click(confirming, key)
    deliver_invocations()

    (announced,) = received_notifications(loop)
    assert announced["Subject"] == "stop-deployment: 2 stopped in checkout/prod"
    card = json.loads(announced["Message"])
    assert card["metadata"]["additionalContext"]["requester"] == "jdoe (U0789IJKL)"
    assert "jdoe (U0789IJKL) in Slack" in card["content"]["description"]
    items = boto3.client("dynamodb").scan(TableName=STOPS_TABLE)["Items"]
    recorded = {i["deploymentId"]["S"] for i in items if i["deploymentId"]["S"].startswith("d-")}
    assert recorded == set(SHOWN)
    # When CodeDeploy's events come, the follow-ups reach the click's conversation
    for event in fake_codedeploy.take_events():
        lambda_handler(event, LambdaContext())
    follow_ups = [p["text"].splitlines()[0] for p in confirming.clicks.received[1:]]
    assert sorted(f for f in follow_ups if "stopped; rollback" in f) == sorted(
        f":white_check_mark: {d} stopped; rollback {rollback} started"
        for d, rollback in ((d, _rollback_of(d)) for d in SHOWN)
    )
    assert all(p["replace_original"] is False for p in confirming.clicks.received[1:])


def _rollback_of(deployment_id: str) -> str:
    info = boto3.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    return str(info["rollbackInfo"]["rollbackDeploymentId"])


def test_status_says_who_confirmed_the_stop(confirming: Slack) -> None:
    _, key = prompted(confirming)
    click(confirming, key)
    deliver_invocations()

    shown = say(f"status {IN_FLIGHT_ID}", confirming.command.url)

    assert "stop asked by jdoe (U0789IJKL) (slack)" in shown["text"]
