"""Manual freezes from Slack, through lambda_handler on the local CodeDeploy, DynamoDB and SNS: `freeze`,
`unfreeze` and `freezes` answer in the channel, keep the freeze in the ledger, announce it, and a
deployment that STARTs in a frozen group is stopped."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local import fake_aws, fake_codedeploy
from local.slack import signed
from local.world import SLACK_SECRET_PARAM, load_event, received_notifications, seed_slack_secret, status_of
from stop_deployment import ledger
from stop_deployment.handler import lambda_handler

USER = "<@U0789IJKL>"  # the user_id of events/slack-command-rest.json
CALENDAR = "holiday-freeze"


@pytest.fixture
def chatops(deployments: Any, configure: Any) -> Any:
    """The signing secret in the local SSM, ChatOps configured, every deployment of the world."""
    seed_slack_secret()
    configure(SLACK_SIGNING_SECRET_PARAM=SLACK_SECRET_PARAM)
    return deployments


@pytest.fixture
def freezing(chatops: Any, loop: str) -> str:
    """ChatOps with the ledger and the topic; returns the queue the topic delivers to."""
    return loop


def say(text: str, lambda_context: Any, user_name: str = "jdoe") -> dict[str, Any]:
    """What Slack shows after someone typed `text` (a signed REST v1 slash command)."""
    event = signed(load_event("slack-command-rest.json"), text=text, user_name=user_name)
    response = lambda_handler(event, lambda_context)
    assert response["statusCode"] == 200, response["body"]
    message: dict[str, Any] = json.loads(response["body"])
    assert message["text"]
    assert message["blocks"][0]["text"]["type"] == "mrkdwn"
    return message


def started(client: Any, target: str = "checkout/prod") -> tuple[str, dict[str, Any]]:
    """A deployment that just started in `target`, and the START event EventBridge brings for it."""
    application, group = target.split("/")
    deployment_id = fake_codedeploy.create_deployment(client, application, group, announce=True)
    (start,) = [e for e in fake_codedeploy.take_events() if e["detail"]["deploymentId"] == deployment_id]
    return deployment_id, start


def codedeploy_calls() -> list[str]:
    return [call.operation for call in fake_codedeploy.calls()]


def subjects(queue: str) -> list[str]:
    return [note["Subject"] for note in received_notifications(queue)]


def test_a_freeze_set_in_slack_stops_what_starts_there_until_it_is_lifted(
    freezing: str, chatops: Any, lambda_context: Any
) -> None:
    # Given nothing frozen; when someone freezes checkout/prod for two hours
    before = datetime.now(UTC).replace(microsecond=0)
    frozen = say("freeze checkout/prod 2h Black Friday", lambda_context)
    after = datetime.now(UTC)

    # Then the channel is told who froze what until when, and why
    (kept,) = ledger.freezes().values()
    until = datetime.fromisoformat(kept["until"])
    assert before + timedelta(hours=2) <= until <= after + timedelta(hours=2)
    assert frozen["response_type"] == "in_channel"
    for words in (
        USER,
        "`checkout/prod`",
        f"until {kept['until']}",
        "Black Friday",
        "unfreeze checkout/prod",
    ):
        assert words in frozen["text"]
    assert kept["reason"] == "Black Friday"
    assert kept["by"] == "jdoe (U0789IJKL)"
    (note,) = received_notifications(freezing)
    assert note["Subject"] == f"stop-deployment: checkout/prod frozen until {kept['until']}"
    assert json.loads(note["MessageAttributes"]["outcome"]["Value"]) == ["frozen"]

    # And a deployment that starts there is stopped, while payments/prod runs
    stopped_id, start = started(chatops)
    answer = lambda_handler(start, lambda_context)
    assert answer["freezes"] == ["freeze checkout/prod"]
    assert status_of(stopped_id) == "Stopped"
    running_id, start = started(chatops, "payments/prod")
    assert lambda_handler(start, lambda_context)["outcome"] == "not_frozen"
    assert status_of(running_id) == "InProgress"

    # And `freezes` lists it with who, until when and why
    listed = say("freezes", lambda_context)
    assert "1 freeze(s) in force" in listed["text"]
    assert (
        f"`checkout/prod` freeze checkout/prod by jdoe (U0789IJKL) until {kept['until']}: Black Friday"
        in (listed["text"])
    )

    # When it is lifted, the channel is told, the topic too, and the next deployment runs
    received_notifications(freezing)  # the stop's own announcement
    lifted = say("unfreeze checkout/prod", lambda_context)
    assert lifted["response_type"] == "in_channel"
    for words in (USER, "lifted the freeze on `checkout/prod`", "jdoe (U0789IJKL)", "Black Friday"):
        assert words in lifted["text"]
    assert ledger.freezes() == {}
    assert subjects(freezing) == ["stop-deployment: freeze on checkout/prod lifted"]
    running_id, start = started(chatops)
    assert lambda_handler(start, lambda_context)["outcome"] == "not_frozen"
    assert status_of(running_id) == "InProgress"
    assert say("freezes", lambda_context)["text"].startswith("No freeze is in force")

    # And lifting it again fails, privately, and changes nothing
    fake_codedeploy.clear_calls()
    again = say("unfreeze checkout/prod", lambda_context)
    assert again["response_type"] == "ephemeral"
    assert "`unfreeze checkout/prod` failed: No freeze is set on checkout/prod" in again["text"]
    assert ledger.freezes() == {}
    assert received_notifications(freezing) == []
    assert codedeploy_calls() == []
    assert status_of(running_id) == "InProgress"


def test_a_glob_freezes_every_group_it_matches_and_only_those(
    freezing: str, chatops: Any, lambda_context: Any
) -> None:
    message = say("freeze */prod 30m launch", lambda_context)

    assert message["response_type"] == "in_channel"
    assert "froze `*/prod`" in message["text"]
    (until,) = [kept["until"] for kept in ledger.freezes().values()]
    assert timedelta(minutes=29) < datetime.fromisoformat(until) - datetime.now(UTC) <= timedelta(minutes=30)
    for target, status in (
        ("payments/prod", "Stopped"),
        ("checkout/prod", "Stopped"),
        ("checkout/staging", "InProgress"),
    ):
        deployment_id, start = started(chatops, target)
        lambda_handler(start, lambda_context)
        assert status_of(deployment_id) == status, target


def test_unfreeze_lifts_only_the_freeze_set_on_exactly_that_pattern(
    freezing: str, chatops: Any, lambda_context: Any
) -> None:
    say("freeze */prod 30m launch", lambda_context)

    message = say("unfreeze checkout/prod", lambda_context)

    assert message["response_type"] == "ephemeral"
    assert "failed: No freeze is set on checkout/prod" in message["text"]
    assert list(ledger.freezes()) == ["*/prod"]
    deployment_id, start = started(chatops)
    lambda_handler(start, lambda_context)
    assert status_of(deployment_id) == "Stopped"


def test_freezing_again_replaces_the_freeze_on_the_same_pattern(freezing: str, lambda_context: Any) -> None:
    say("freeze checkout/prod 2h first", lambda_context)

    say("freeze checkout/prod 1d second", lambda_context)

    (kept,) = ledger.freezes().values()
    assert kept["reason"] == "second"
    assert datetime.fromisoformat(kept["until"]) - datetime.now(UTC) > timedelta(hours=23)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("freeze checkout/prod", "Say for how long and why"),
        ("freeze checkout/prod Black Friday", "`Black` is not a duration from 1m to 7d"),
        ("freeze checkout/prod 0m launch", "`0m` is not a duration from 1m to 7d"),
        ("freeze checkout/prod 8d launch", "`8d` is not a duration from 1m to 7d"),
        ("freeze checkout/prod abc launch", "`abc` is not a duration from 1m to 7d"),
        ("freeze checkout/prod 2h", "Say for how long and why"),
        ("freeze checkout/prod 2h " + "x" * 201, "The reason is over 200 characters"),
        ("freeze checkout 2h launch", "`checkout` is not application/group"),
        ("freeze check out/prod 2h launch", "`check` is not application/group"),
        ("freeze a/b/c 2h launch", "`a/b/c` is not application/group"),
        ("freeze", "Say which group"),
        ("unfreeze", "Say which group"),
        ("unfreeze checkout/prod now", "`unfreeze` takes only application/group"),
        ("unfreeze checkout", "`checkout` is not application/group"),
        ("freezes all", "`freezes` takes nothing after it"),
    ],
)
def test_a_freeze_command_it_cannot_read_is_answered_privately_and_changes_nothing(
    freezing: str, lambda_context: Any, text: str, problem: str
) -> None:
    message = say(text, lambda_context)

    assert message["response_type"] == "ephemeral"
    assert problem in message["text"]
    assert "`freeze application/group 2h reason`" in message["text"]  # the usage follows
    assert ledger.freezes() == {}
    assert received_notifications(freezing) == []
    assert codedeploy_calls() == []


@pytest.mark.parametrize("text", ["freeze checkout/prod 2h launch", "unfreeze checkout/prod"])
def test_a_user_outside_slack_allowed_users_can_neither_freeze_nor_unfreeze(
    freezing: str, configure: Any, lambda_context: Any, text: str
) -> None:
    ledger.set_freeze(
        "checkout/prod",
        {
            "from": "2026-01-01T00:00:00Z",
            "until": "2099-01-01T00:00:00Z",
            "reason": "set before",
            "by": "ops",
        },
    )
    before = ledger.freezes()
    configure(SLACK_ALLOWED_USERS="U0000OTHER")

    message = say(text, lambda_context)

    assert message["response_type"] == "ephemeral"
    assert f"{USER} is not allowed to use this command; nothing was done" in message["text"]
    assert ledger.freezes() == before
    assert received_notifications(freezing) == []


def test_a_listed_user_may_freeze(freezing: str, configure: Any, lambda_context: Any) -> None:
    configure(SLACK_ALLOWED_USERS="U0000OTHER,U0789IJKL")

    assert say("freeze checkout/prod 2h launch", lambda_context)["response_type"] == "in_channel"
    assert list(ledger.freezes()) == ["checkout/prod"]


def test_a_freeze_on_a_group_outside_allowed_deployment_groups_is_refused_and_not_kept(
    freezing: str, configure: Any, lambda_context: Any
) -> None:
    configure(ALLOWED_DEPLOYMENT_GROUPS="payments/*")

    message = say("freeze checkout/prod 2h launch", lambda_context)

    assert message["response_type"] == "ephemeral"
    assert "`freeze checkout/prod` failed" in message["text"]
    assert "ALLOWED_DEPLOYMENT_GROUPS" in message["text"]
    assert ledger.freezes() == {}
    assert received_notifications(freezing) == []


def test_without_the_ledger_a_freeze_fails_and_says_why(chatops: Any, lambda_context: Any) -> None:
    message = say("freeze checkout/prod 2h launch", lambda_context)

    assert message["response_type"] == "ephemeral"
    assert "`freeze checkout/prod` failed" in message["text"]
    assert "STOPS_TABLE" in message["text"]


def test_slack_control_characters_in_the_reason_are_escaped_wherever_it_is_shown(
    freezing: str, lambda_context: Any
) -> None:
    reason = "<!channel> R&D <https://evil.example|click>"
    escaped = "&lt;!channel&gt; R&amp;D &lt;https://evil.example|click&gt;"

    shown = [
        say(f"freeze checkout/prod 2h {reason}", lambda_context),
        say("freezes", lambda_context),
        say("unfreeze checkout/prod", lambda_context),
    ]

    assert ledger.freezes() == {}  # it was kept, then lifted
    for message in shown:
        assert escaped in message["text"]
        assert "<!channel>" not in message["text"]
        assert "<https://evil" not in json.dumps(message["blocks"])


def test_a_user_name_with_control_characters_is_escaped_in_the_list(
    freezing: str, lambda_context: Any
) -> None:
    say("freeze checkout/prod 2h launch", lambda_context, user_name="<!here>")

    listed = say("freezes", lambda_context)

    assert "by &lt;!here&gt; (U0789IJKL)" in listed["text"]
    assert "<!here>" not in listed["text"]


def test_freezes_lists_a_closed_change_calendar_beside_the_kept_freezes(
    freezing: str, configure: Any, lambda_context: Any
) -> None:
    configure(FREEZE_CALENDARS=json.dumps({"*/prod": [CALENDAR]}))
    fake_aws.ssm.set_calendar_state(CALENDAR, "CLOSED")
    say("freeze payments/prod 1d quarter close", lambda_context)

    listed = say("freezes", lambda_context)

    assert "2 freeze(s) in force" in listed["text"]
    assert f"`*/prod` calendar {CALENDAR}: Change Calendar {CALENDAR} is CLOSED" in listed["text"]
    assert "`payments/prod` freeze payments/prod by jdoe (U0789IJKL)" in listed["text"]
    assert "may be incomplete" not in listed["text"]


def test_an_open_calendar_is_not_listed(freezing: str, configure: Any, lambda_context: Any) -> None:
    configure(FREEZE_CALENDARS=json.dumps({"*/prod": [CALENDAR]}))
    fake_aws.ssm.set_calendar_state(CALENDAR, "OPEN")

    listed = say("freezes", lambda_context)

    assert listed["text"].startswith("No freeze is in force")


def test_freezes_says_when_a_source_could_not_be_read(
    freezing: str, configure: Any, lambda_context: Any
) -> None:
    configure(FREEZE_CALENDARS=json.dumps({"*/prod": [CALENDAR]}))
    fake_aws.ssm.set_calendar_state(CALENDAR, "CLOSED")
    fake_aws.ssm.inject_error("GetCalendarState", "ThrottlingException", times=-1)
    say("freeze payments/prod 1d quarter close", lambda_context)

    listed = say("freezes", lambda_context)

    assert "1 freeze(s) in force" in listed["text"]  # the kept freeze is still shown
    assert f"the Change Calendar(s) {CALENDAR} could not be read (ThrottlingException)" in listed["text"]
    assert "this list may be incomplete" in listed["text"]
