"""Closing the loop, through lambda_handler on the local CodeDeploy, DynamoDB and SNS: every stop is
recorded and announced once, and followed to the end of its rollback by events or by the sweep."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local import fake_codedeploy
from local.slack import response_url, signed
from local.world import (
    IN_FLIGHT_ID,
    OTHER_TEAM_ID,
    QUEUED_ID,
    SLACK_SECRET_PARAM,
    STOPS_TABLE,
    edit_ledger_item,
    load_event,
    received_notifications,
    seed_slack_secret,
    status_of,
)
from stop_deployment import errors, ledger
from stop_deployment.handler import lambda_handler
from tests.logs import metric_total

ALARM_TARGETS = json.dumps({"kill-switch-checkout-*": ["checkout/prod"]})
STOPPED = (IN_FLIGHT_ID, QUEUED_ID)  # what the alarm stops in checkout/prod
SWEEP = {"version": "0", "id": "sweep-1", "detail-type": "Scheduled Event", "source": "aws.events",
         "account": "123456789012", "time": "2026-12-03T10:00:00Z", "region": "us-east-1",
         "resources": ["arn:aws:events:us-east-1:123456789012:rule/sweep"], "detail": {}}  # fmt: skip
LONG_AGO = "2026-01-01T00:00:00.000000Z"


def titles(queue: str) -> list[str]:
    """The chat titles of what reached the topic since the last call."""
    return [json.loads(n["Message"])["content"]["title"] for n in received_notifications(queue)]


def deliver(events: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
    """Hand CodeDeploy's events to the function, as EventBridge would."""
    return [lambda_handler(event, context) for event in events]


def ledger_items() -> dict[str, dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=STOPS_TABLE)["Items"]
    return {item["deploymentId"]["S"]: item for item in items}


def rollback_of(deployment_id: str) -> str:
    info = boto3.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    return str(info["rollbackInfo"]["rollbackDeploymentId"])


@pytest.fixture
def alarm_world(deployments: Any, loop: str, configure: Any) -> str:
    configure(ALARM_TARGETS=ALARM_TARGETS)
    return loop


def test_an_alarm_stop_is_announced_once_then_followed_to_the_end_of_each_rollback(
    alarm_world: str, lambda_context: Any
) -> None:
    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    (announced,) = received_notifications(alarm_world)
    assert announced["Subject"] == "stop-deployment: 2 stopped in checkout/prod"
    card = json.loads(announced["Message"])
    assert IN_FLIGHT_ID in card["content"]["description"]
    assert QUEUED_ID in card["content"]["description"]
    assert announced["MessageAttributes"]["trigger"]["Value"] == "alarm"
    items = ledger_items()
    assert set(items) == {IN_FLIGHT_ID, QUEUED_ID}
    assert items[IN_FLIGHT_ID]["details"]["M"]["alarmName"]["S"] == "kill-switch-checkout-5xx"

    events = fake_codedeploy.take_events()
    deliver(events, lambda_context)

    rollbacks = {rollback_of(d) for d in STOPPED}
    followed = titles(alarm_world)
    assert sorted(followed) == sorted(
        [
            f":white_check_mark: {d} stopped; rollback {rollback_of(d)} started"
            for d in (IN_FLIGHT_ID, QUEUED_ID)
        ]
        + [f":white_check_mark: Rollback {r} succeeded" for r in rollbacks]
    )
    assert status_of(OTHER_TEAM_ID) == "InProgress"

    deliver(events, lambda_context)  # EventBridge delivers at least once: duplicates say nothing new
    assert titles(alarm_world) == []


def test_a_repeated_alarm_delivery_records_and_announces_nothing_twice(
    alarm_world: str, lambda_context: Any
) -> None:
    fake_codedeploy.set_stop_delay(3600)  # the stops stay pending, so the repeat stops them again

    lambda_handler(load_event("alarm-sns.json"), lambda_context)
    lambda_handler(load_event("alarm-sns.json"), lambda_context)

    assert len(received_notifications(alarm_world)) == 1
    assert set(ledger_items()) == {IN_FLIGHT_ID, QUEUED_ID}


@pytest.mark.parametrize(
    "event_file",
    ["direct-stop.json", "http-api-stop.json", "rest-stop.json", "eventbridge-stop-request.json"],
)
def test_every_way_in_records_and_announces_a_repeated_stop_once(
    seeded: Any, loop: str, lambda_context: Any, event_file: str
) -> None:
    fake_codedeploy.set_stop_delay(3600)  # still pending: the repeat calls StopDeployment again

    for _ in range(2):
        lambda_handler(load_event(event_file), lambda_context)

    assert [c.operation for c in fake_codedeploy.calls()].count("StopDeployment") == 2
    assert [n["Subject"] for n in received_notifications(loop)] == [
        "stop-deployment: 1 stopped in checkout/prod"
    ]
    assert set(ledger_items()) == {IN_FLIGHT_ID}


def test_a_failed_rollback_is_announced_loudly_and_counted(
    alarm_world: str, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_codedeploy.set_rollback_result("Failed")
    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)
    received_notifications(alarm_world)

    events = fake_codedeploy.take_events()
    deliver(events, lambda_context)
    deliver(events, lambda_context)  # FAILURE delivered twice: still one loud message each

    loud = [t for t in titles(alarm_world) if "FAILED" in t]
    assert len(loud) == 2
    assert all("may be half-deployed" in t for t in loud)
    assert metric_total(capsys.readouterr().out, "RollbacksFailed") == 2


def test_lost_events_are_caught_by_the_sweep_and_each_state_is_reported_once(
    alarm_world: str, lambda_context: Any
) -> None:
    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)
    received_notifications(alarm_world)
    lost = fake_codedeploy.take_events()  # EventBridge never delivers them

    swept = lambda_handler(SWEEP, lambda_context)

    assert swept["counts"] == {"stopped": 2}
    assert len(titles(alarm_world)) == 4  # two stops landed, two rollbacks succeeded
    assert lambda_handler(SWEEP, lambda_context)["checked"] == 0
    deliver(lost, lambda_context)  # late after all: nothing new to say
    assert titles(alarm_world) == []


def test_an_event_and_the_sweep_at_once_report_each_state_once(
    alarm_world: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)
    received_notifications(alarm_world)
    # Both paths read the stops before either settled them: only the conditional update tells them apart.
    unsettled = {deployment_id: ledger.get(deployment_id) for deployment_id in STOPPED}
    read = ledger.get
    monkeypatch.setattr(
        ledger, "get", lambda deployment_id: unsettled.get(deployment_id) or read(deployment_id)
    )
    monkeypatch.setattr(ledger, "unsettled", lambda recorded_before: list(unsettled.values()))

    deliver(fake_codedeploy.take_events(), lambda_context)
    swept = lambda_handler(SWEEP, lambda_context)

    assert swept["counts"] == {"already_reported": 2}
    assert len(titles(alarm_world)) == 4


def test_a_throttled_follow_up_is_left_to_the_next_sweep(
    alarm_world: str, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)
    received_notifications(alarm_world)
    stop_event = next(e for e in fake_codedeploy.take_events() if e["detail"]["state"] == "STOP")
    fake_codedeploy.inject_error("GetDeployment", "ThrottlingException", times=3)

    answer = lambda_handler(stop_event, lambda_context)

    assert answer["outcome"] == "deferred"
    assert metric_total(capsys.readouterr().out, "FollowUpsDeferred") == 1
    assert titles(alarm_world) == []
    assert lambda_handler(SWEEP, lambda_context)["counts"] == {"stopped": 2}
    assert len(titles(alarm_world)) == 4


def test_a_deployment_that_finished_first_is_reported_too_late(
    seeded: Any, loop: str, lambda_context: Any
) -> None:
    fake_codedeploy.set_stop_delay(3600)
    lambda_handler(load_event("direct-stop.json"), lambda_context)
    fake_codedeploy.complete(IN_FLIGHT_ID, "Succeeded")

    deliver(fake_codedeploy.take_events(), lambda_context)

    assert titles(loop)[-1] == f":warning: {IN_FLIGHT_ID} finished before the stop landed"


def test_the_stop_goes_ahead_when_the_ledger_is_down(
    seeded: Any, loop: str, configure: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(STOPS_TABLE="no-such-table")

    result = lambda_handler(load_event("direct-stop.json"), lambda_context)

    assert result["outcome"] == "stop_requested"
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert metric_total(capsys.readouterr().out, "LedgerWritesFailed") == 1
    assert len(received_notifications(loop)) == 1  # better announced than lost


def test_the_stop_goes_ahead_when_sns_is_down(
    seeded: Any, loop: str, configure: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(NOTIFY_TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:no-such-topic")

    result = lambda_handler(load_event("direct-stop.json"), lambda_context)

    assert result["outcome"] == "stop_requested"
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert set(ledger_items()) == {IN_FLIGHT_ID}
    assert metric_total(capsys.readouterr().out, "NotificationsFailed") == 1


def test_a_no_op_sends_no_message(deployments: Any, loop: str, configure: Any, lambda_context: Any) -> None:
    configure(ALARM_TARGETS=json.dumps({"kill-switch-checkout-*": ["billing/prod"]}))

    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert received_notifications(loop) == []


def test_a_refused_stop_is_announced_and_not_recorded(
    seeded: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    configure(ALLOWED_DEPLOYMENT_GROUPS="payments/*")

    with pytest.raises(errors.DeploymentGroupNotAllowed):
        lambda_handler(load_event("direct-stop.json"), lambda_context)

    (note,) = received_notifications(loop)
    assert note["Subject"] == "stop-deployment: 1 refused in checkout/prod"
    assert ledger_items() == {}


def test_events_for_deployments_the_function_did_not_stop_are_ignored(
    deployments: Any, loop: str, lambda_context: Any
) -> None:
    event = load_event("codedeploy-state-change-stop.json")
    event["detail"]["deploymentId"] = OTHER_TEAM_ID

    assert lambda_handler(event, lambda_context)["outcome"] == "not_ours"
    assert fake_codedeploy.calls() == []
    assert received_notifications(loop) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"deploymentId": "d-lowercase"}, "deploymentId"),
        ({"deploymentId": 42}, "deploymentId"),
        ({"state": "EXPLODED"}, "state"),
        (None, "detail"),
    ],
)
def test_malformed_codedeploy_events_are_refused_without_a_call(
    seeded: Any, loop: str, lambda_context: Any, change: dict[str, Any] | None, named: str
) -> None:
    event = load_event("codedeploy-state-change-stop.json")
    if change is None:
        event["detail"] = "STOP"
    else:
        event["detail"].update(change)

    with pytest.raises(errors.InvalidRequest, match=named):
        lambda_handler(event, lambda_context)
    assert fake_codedeploy.calls() == []


def test_without_a_ledger_codedeploy_events_and_the_sweep_do_nothing(
    seeded: Any, lambda_context: Any
) -> None:
    assert (
        lambda_handler(load_event("codedeploy-state-change-stop.json"), lambda_context)["outcome"]
        == "ignored"
    )
    assert lambda_handler(SWEEP, lambda_context)["outcome"] == "ignored"
    assert fake_codedeploy.calls() == []


@pytest.fixture
def slack_response_url(configure: Any) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local stand-in for Slack's response_url on 127.0.0.1, allowed, and what was posted to it."""
    with response_url() as stand_in:
        configure(SLACK_EXTRA_RESPONSE_HOSTS=stand_in.host, SLACK_CONFIRM="never")
        yield stand_in.url, stand_in.received


def test_a_slack_stop_hears_its_follow_ups_in_the_same_conversation(
    seeded: Any,
    loop: str,
    configure: Any,
    lambda_context: Any,
    slack_response_url: tuple[str, list[dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, received = slack_response_url
    seed_slack_secret()
    configure(SLACK_SIGNING_SECRET_PARAM=SLACK_SECRET_PARAM)
    command = signed(load_event("slack-command-rest.json"), text=f"stop {IN_FLIGHT_ID}", response_url=url)

    assert lambda_handler(command, lambda_context)["statusCode"] == 200
    deliver(fake_codedeploy.take_events(), lambda_context)

    rollback = rollback_of(IN_FLIGHT_ID)
    assert [post["text"].splitlines()[0] for post in received] == [
        f":white_check_mark: {IN_FLIGHT_ID} stopped; rollback {rollback} started",
        f":white_check_mark: Rollback {rollback} succeeded",
    ]
    assert all(post["response_type"] == "in_channel" for post in received)
    assert "jdoe (U0789IJKL) in Slack" in received[0]["text"]
    assert url not in capsys.readouterr().out  # the response_url is a credential: never logged


def slack_command(configure: Any, text: str, response_url: str) -> dict[str, Any]:
    seed_slack_secret()
    configure(SLACK_SIGNING_SECRET_PARAM=SLACK_SECRET_PARAM)
    return signed(load_event("slack-command-rest.json"), text=text, response_url=response_url)


def test_slack_hears_nothing_once_its_30_minutes_are_over_and_the_topic_still_does(
    seeded: Any,
    loop: str,
    configure: Any,
    lambda_context: Any,
    slack_response_url: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = slack_response_url
    lambda_handler(slack_command(configure, f"stop {IN_FLIGHT_ID}", url), lambda_context)
    received_notifications(loop)
    edit_ledger_item(IN_FLIGHT_ID, replyUntil=LONG_AGO)

    deliver(fake_codedeploy.take_events(), lambda_context)

    assert received == []
    assert len(titles(loop)) == 2


@pytest.mark.parametrize(
    ("rollback", "posts", "last"), [("Succeeded", 3, "stopped; rollback"), ("Failed", 4, "FAILED")]
)
def test_a_group_stop_keeps_within_slacks_five_posts_and_keeps_the_last_for_a_failed_rollback(
    # Slack takes 5 posts: one is left for the command's own result, the last for a failed rollback.
    deployments: Any,
    loop: str,
    configure: Any,
    lambda_context: Any,
    slack_response_url: tuple[str, list[dict[str, Any]]],
    rollback: str,
    posts: int,
    last: str,
) -> None:
    url, received = slack_response_url
    fake_codedeploy.create_deployment(deployments, "checkout", "prod")  # three in flight: six follow-ups
    fake_codedeploy.set_rollback_result(rollback)
    lambda_handler(slack_command(configure, "stop checkout/prod", url), lambda_context)

    deliver(fake_codedeploy.take_events(), lambda_context)

    assert len(received) == posts
    assert last in received[-1]["text"].splitlines()[0]
    assert len(titles(loop)) == 1 + 6  # the topic has everything


def test_a_doubtful_response_url_is_ignored_and_the_stop_goes_ahead(
    seeded: Any, loop: str, configure: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://attacker.example.com/commands/1"

    answer = lambda_handler(slack_command(configure, f"stop {IN_FLIGHT_ID}", url), lambda_context)

    assert answer["statusCode"] == 200
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert "replyUrl" not in ledger_items()[IN_FLIGHT_ID]
    output = capsys.readouterr().out
    assert "response_url this function does not post to" in output
    assert url not in output


def test_a_stop_without_rollback_news_waits_then_says_no_rollback_started(
    seeded: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    configure(DEFAULT_AUTO_ROLLBACK="deployment-group")  # the flag is omitted; the group has no rollback
    lambda_handler(load_event("direct-stop.json"), lambda_context)
    received_notifications(loop)

    assert lambda_handler(SWEEP, lambda_context)["counts"] == {"pending": 1}
    edit_ledger_item(IN_FLIGHT_ID, recordedAt=LONG_AGO)  # CodeDeploy had all the time it needs to roll back
    assert lambda_handler(SWEEP, lambda_context)["counts"] == {"stopped": 1}
    assert titles(loop) == [f":white_check_mark: {IN_FLIGHT_ID} stopped; no rollback started"]


def test_the_sweep_leaves_recent_stops_to_their_events(
    seeded: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    configure(CONFIRM_AFTER_SECONDS="300")
    lambda_handler(load_event("direct-stop.json"), lambda_context)

    assert lambda_handler(SWEEP, lambda_context)["checked"] == 0
    edit_ledger_item(IN_FLIGHT_ID, recordedAt=LONG_AGO)
    assert lambda_handler(SWEEP, lambda_context)["checked"] == 1


def test_a_sweep_short_of_time_leaves_the_rest_to_the_next(alarm_world: str, lambda_context: Any) -> None:
    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)
    lambda_context.remaining_ms = 20_000

    assert lambda_handler(SWEEP, lambda_context)["counts"] == {"left_for_next_sweep": 2}
