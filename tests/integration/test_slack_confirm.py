"""Asking before a big stop: `stop application/group` (every stop with SLACK_CONFIRM=always) first shows
what it would stop, with a danger button and Cancel; a click (POST /slack/interactions) stops exactly
what was shown, once. Through lambda_handler on the local CodeDeploy, DynamoDB and SNS, the function
running as in Lambda (it hands the work to the local Lambda's queue; world.deliver_invocations runs it).
"""

import base64
import json
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import parse_qsl

import boto3
import pytest

from local import fake_codedeploy
from local.context import LambdaContext
from local.fake_aws import lambda_ as fake_lambda
from local.slack import TEST_SIGNING_SECRET, ResponseUrl, response_url, signed
from local.world import (
    COMPLETED_ID,
    IN_FLIGHT_ID,
    OTHER_TEAM_ID,
    QUEUED_ID,
    SLACK_SECRET_PARAM,
    STOPS_TABLE,
    deliver_invocations,
    load_event,
    received_notifications,
    seed_slack_secret,
    status_of,
)
from stop_deployment.handler import lambda_handler
from stop_deployment.triggers.slack.messages import CANCEL_ACTION, CONFIRM_ACTION

FUNCTION = "stop-deployment-local"
USER = "<@U0789IJKL>"  # the user of events/slack-command-rest.json and events/slack-interaction.json
SHOWN = (IN_FLIGHT_ID, QUEUED_ID)  # what is in flight in checkout/prod
KEY = re.compile(r"^confirm#[0-9a-f]{32}$")


class Slack:
    """Where the command's answers go (`command`) and where the clicks' go (`clicks`): Slack gives
    each interaction a response_url of its own."""

    def __init__(self, command: ResponseUrl, clicks: ResponseUrl) -> None:
        self.command, self.clicks = command, clicks


@pytest.fixture
def slack(configure: Any) -> Iterator[Slack]:
    with ExitStack() as stack:
        command, clicks = stack.enter_context(response_url()), stack.enter_context(response_url())
        configure(SLACK_EXTRA_RESPONSE_HOSTS=f"{command.host},{clicks.host}")
        yield Slack(command, clicks)


@pytest.fixture
def chatops(deployments: Any, configure: Any, slack: Slack) -> Slack:
    """Every deployment of the world, the signing secret, the function running as in Lambda."""
    seed_slack_secret()
    configure(SLACK_SIGNING_SECRET_PARAM=SLACK_SECRET_PARAM, AWS_LAMBDA_FUNCTION_NAME=FUNCTION)
    return slack


@pytest.fixture
def confirming(chatops: Slack, loop: str) -> Slack:
    """ChatOps with the ledger (where prompts are kept) and the notification topic."""
    return chatops


def say(text: str, url: str) -> dict[str, Any]:
    """What Slack shows at once after someone typed `text`."""
    event = signed(load_event("slack-command-rest.json"), text=text, response_url=url)
    response = lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    message: dict[str, Any] = json.loads(response["body"])
    return message


def prompted(slack: Slack, text: str = "stop checkout/prod") -> tuple[dict[str, Any], str]:
    """Type `text`, let Lambda deliver the work; the prompt that replaced the acknowledgement, and the
    key its buttons carry."""
    ack = say(text, slack.command.url)
    asked = " ".join(word for word in text.split() if not word.startswith("--"))  # as echoed
    assert f"Looking up what `{asked}` would stop" in ack["text"]
    deliver_invocations()
    prompt = slack.command.received[-1]
    assert prompt["replace_original"] is True
    confirm, cancel = prompt["blocks"][-1]["elements"]
    assert confirm["value"] == cancel["value"]
    return prompt, str(confirm["value"])


def interaction_payload() -> dict[str, Any]:
    """The block_actions payload of events/slack-interaction.json."""
    event = load_event("slack-interaction.json")
    form = dict(parse_qsl(base64.b64decode(event["body"]).decode()))
    payload: dict[str, Any] = json.loads(form["payload"])
    return payload


def interaction(payload: Any, **options: Any) -> dict[str, Any]:
    """events/slack-interaction.json carrying `payload` (JSON-encoded unless a str), signed now."""
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return signed(load_event("slack-interaction.json"), payload=raw, **options)


def click(slack: Slack, key: str, action_id: str = CONFIRM_ACTION, user_id: str = "U0789IJKL") -> None:
    """Someone clicks a button of the prompt `key`: Slack gets its empty 200 at once (what the click
    does comes later, through the click's response_url)."""
    payload = interaction_payload()
    payload["actions"][0].update(action_id=action_id, value=key)
    payload["user"]["id"] = user_id
    payload["response_url"] = slack.clicks.url
    response = lambda_handler(interaction(payload), LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    assert response["body"] == ""


def stops() -> list[str]:
    return [c.params["deploymentId"] for c in fake_codedeploy.calls() if c.operation == "StopDeployment"]


def set_prompt(key: str, **numbers: int) -> None:
    """Change a prompt's number fields in the ledger as time would (confirmBefore into the past)."""
    boto3.client("dynamodb").update_item(
        TableName=STOPS_TABLE,
        Key={"deploymentId": {"S": key}},
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in numbers),
        ExpressionAttributeNames={f"#{k}": k for k in numbers},
        ExpressionAttributeValues={f":{k}": {"N": str(v)} for k, v in numbers.items()},
    )


def rollback_in_flight(client: Any) -> str:
    """A rollback running in checkout/prod: CodeDeploy's own, for a deployment stopped before."""
    fake_codedeploy.set_rollback_result("Succeeded", after=3600)
    stopped = fake_codedeploy.create_deployment(client, "checkout", "prod")
    client.stop_deployment(deploymentId=stopped, autoRollbackEnabled=True)
    info = client.get_deployment(deploymentId=stopped)["deploymentInfo"]
    rollback = str(info["rollbackInfo"]["rollbackDeploymentId"])
    assert status_of(rollback) == "InProgress"
    fake_codedeploy.take_events()
    fake_codedeploy.clear_calls()
    return rollback


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
    set_prompt(key, confirmBefore=int(time.time()) - 1)

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
    chatops: Slack, configure: Any, in_lambda: bool
) -> None:
    if not in_lambda:
        configure(AWS_LAMBDA_FUNCTION_NAME="")  # as outside Lambda

    answer = say("stop checkout/prod", chatops.command.url)
    deliver_invocations()

    said = chatops.command.received[-1] if in_lambda else answer
    assert said["response_type"] == "ephemeral"
    assert "`stop checkout/prod` asks for a confirmation first" in said["text"]
    assert "STOPS_TABLE" in said["text"]
    assert "SLACK_CONFIRM=never" in said["text"]
    assert stops() == []


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
