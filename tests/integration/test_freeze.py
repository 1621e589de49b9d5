"""Deployment freezes, through lambda_handler on the local CodeDeploy, CloudWatch and SSM: a deployment
that STARTs in a frozen group is stopped at once, announced, and recorded like every stop."""

import json
from typing import Any

import pytest

from local import fake_aws, fake_codedeploy
from local.world import (
    ALARM,
    load_event,
    received_notifications,
    seed_alarm,
    set_alarm_state,
    started,
    status_of,
)
from stop_deployment import cloudwatch, errors, ledger
from stop_deployment.handler import lambda_handler
from tests.logs import metric_total

CALENDAR = "holiday-freeze"


def subjects(queue: str) -> list[str]:
    return [note["Subject"] for note in received_notifications(queue)]


@pytest.fixture
def calendar_freeze(deployments: Any, loop: str, configure: Any) -> str:
    """*/prod frozen by a CLOSED Change Calendar."""
    configure(FREEZE_CALENDARS=json.dumps({"*/prod": [CALENDAR]}))
    fake_aws.ssm.set_calendar_state(CALENDAR, "CLOSED")
    return loop


def test_a_deployment_starting_in_a_calendar_freeze_is_stopped_recorded_and_announced(
    calendar_freeze: str, deployments: Any, lambda_context: Any
) -> None:
    deployment_id, start = started(deployments)

    answer = lambda_handler(start, lambda_context)

    assert answer["outcome"] == "stop_requested"
    assert status_of(deployment_id) == "Stopped"
    (note,) = received_notifications(calendar_freeze)
    card = json.loads(note["Message"])
    assert note["Subject"] == "stop-deployment: 1 stopped in checkout/prod"
    assert f"Change Calendar {CALENDAR} is CLOSED" in card["content"]["description"]
    assert note["MessageAttributes"]["trigger"]["Value"] == "freeze"


def test_an_open_calendar_lets_the_deployment_run(
    calendar_freeze: str, deployments: Any, lambda_context: Any
) -> None:
    fake_aws.ssm.set_calendar_state(CALENDAR, "OPEN")
    deployment_id, start = started(deployments)

    assert lambda_handler(start, lambda_context)["outcome"] == "not_frozen"
    assert status_of(deployment_id) == "InProgress"
    assert received_notifications(calendar_freeze) == []


def test_a_calendar_freezes_only_the_groups_it_is_named_for(
    calendar_freeze: str, deployments: Any, lambda_context: Any
) -> None:
    deployment_id, start = started(deployments, "checkout/staging")

    assert (
        lambda_handler(start, lambda_context)["outcome"] == "not_checked"
        or status_of(deployment_id) == "InProgress"
    )
    assert [c.operation for c in fake_aws.ssm.calls()] == []


def test_an_alarm_in_alarm_freezes_the_groups_it_guards_and_only_while_it_fires(
    deployments: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    configure(ALARM_NAME_PREFIX="kill-switch-")
    seed_alarm()  # tagged checkout/prod
    set_alarm_state("ALARM")
    frozen_id, start = started(deployments)

    assert lambda_handler(start, lambda_context)["freezes"] == [f"alarm {ALARM}"]
    assert status_of(frozen_id) == "Stopped"

    set_alarm_state("OK")
    running_id, start = started(deployments)
    assert lambda_handler(start, lambda_context)["outcome"] == "not_frozen"
    assert status_of(running_id) == "InProgress"


def test_overlapping_freezes_stop_once_naming_both(
    calendar_freeze: str, deployments: Any, configure: Any, lambda_context: Any
) -> None:
    configure(ALARM_NAME_PREFIX="kill-switch-")
    seed_alarm()
    set_alarm_state("ALARM")
    deployment_id, start = started(deployments)

    answer = lambda_handler(start, lambda_context)

    assert answer["freezes"] == [f"alarm {ALARM}", f"calendar {CALENDAR}"]
    assert [c.params["deploymentId"] for c in fake_codedeploy.calls() if c.operation == "StopDeployment"] == [
        deployment_id
    ]


def test_a_hotfix_marked_exempt_passes_the_freeze_and_is_announced(
    calendar_freeze: str, deployments: Any, lambda_context: Any
) -> None:
    deployment_id, start = started(deployments, description="[freeze-exempt] hotfix for INC-42")

    assert lambda_handler(start, lambda_context)["outcome"] == "exempt"
    assert status_of(deployment_id) == "InProgress"
    assert subjects(calendar_freeze) == [
        f"stop-deployment: {deployment_id} passed the freeze on checkout/prod (exempt)"
    ]


def test_a_rollback_is_never_stopped_by_a_freeze(
    calendar_freeze: str, deployments: Any, lambda_context: Any
) -> None:
    fake_codedeploy.set_rollback_result("Succeeded", after=3600)  # the rollback is still running
    _, start = started(deployments)
    lambda_handler(start, lambda_context)  # stopped with rollback: CodeDeploy starts the rollback
    (rollback_start,) = [e for e in fake_codedeploy.take_events() if e["detail"]["state"] == "START"]

    assert lambda_handler(rollback_start, lambda_context)["outcome"] == "exempt_creator"
    assert status_of(rollback_start["detail"]["deploymentId"]) == "InProgress"


def test_a_repeated_start_event_is_announced_once(
    calendar_freeze: str, deployments: Any, lambda_context: Any
) -> None:
    fake_codedeploy.set_stop_delay(3600)  # still stopping when the duplicate arrives
    _, start = started(deployments)
    _, exempt_start = started(deployments, description="[freeze-exempt] hotfix")

    for event in (start, start, exempt_start, exempt_start):
        lambda_handler(event, lambda_context)

    announced = subjects(calendar_freeze)
    assert len(announced) == 2
    assert announced[0] == "stop-deployment: 1 stopped in checkout/prod"
    assert "passed the freeze" in announced[1]


@pytest.mark.parametrize(("on_error", "status"), [("allow", "InProgress"), ("stop", "Stopped")])
def test_a_freeze_check_that_cannot_complete_fails_the_way_the_user_chose(
    deployments: Any,
    loop: str,
    configure: Any,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    on_error: str,
    status: str,
) -> None:
    configure(FREEZE_CALENDARS=json.dumps({"*/prod": ["no-such-calendar"]}), FREEZE_ON_ERROR=on_error)
    deployment_id, start = started(deployments)

    lambda_handler(start, lambda_context)

    assert status_of(deployment_id) == status
    output = capsys.readouterr().out
    assert metric_total(output, "FreezeChecksFailed") == 1
    notes = subjects(loop)
    assert len(notes) == 1
    assert ("freeze check failed" in notes[0]) == (on_error == "allow")


def test_dry_run_and_the_allowlist_apply_to_freezes(
    calendar_freeze: str, deployments: Any, configure: Any, lambda_context: Any
) -> None:
    configure(DRY_RUN="true")
    deployment_id, start = started(deployments)
    assert lambda_handler(start, lambda_context)["outcome"] == "dry_run"
    assert status_of(deployment_id) == "InProgress"

    configure(DRY_RUN="false", ALLOWED_DEPLOYMENT_GROUPS="payments/*")
    deployment_id, start = started(deployments)
    assert lambda_handler(start, lambda_context)["outcome"] == "not_checked"
    assert status_of(deployment_id) == "InProgress"


def test_a_start_event_without_its_group_is_refused_without_a_call(
    calendar_freeze: str, lambda_context: Any
) -> None:
    event = load_event("codedeploy-state-change-stop.json")
    event["detail"].update(state="START")
    del event["detail"]["deploymentGroup"]
    fake_codedeploy.clear_calls()

    with pytest.raises(errors.InvalidRequest, match="deploymentGroup"):
        lambda_handler(event, lambda_context)
    assert fake_codedeploy.calls() == []


def test_after_an_alarm_stops_deployments_its_groups_stay_frozen_for_alarm_freeze_minutes(
    deployments: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    configure(ALARM_TARGETS=json.dumps({"kill-switch-*": ["checkout/prod"]}), ALARM_FREEZE_MINUTES="30")
    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)  # stops what is in flight
    received_notifications(loop)
    fake_codedeploy.take_events()

    retried_id, start = started(deployments)  # the pipeline retries; the alarm may be OK again
    answer = lambda_handler(start, lambda_context)

    assert answer["freezes"] == ["freeze checkout/prod"]
    assert status_of(retried_id) == "Stopped"
    (note,) = received_notifications(loop)
    assert f"alarm {ALARM} froze checkout/prod until" in json.loads(note["Message"])["content"]["description"]
    _, start = started(deployments, "payments/prod")
    assert lambda_handler(start, lambda_context)["outcome"] == "not_frozen"


def test_a_freeze_ends_when_its_time_is_up(deployments: Any, loop: str, lambda_context: Any) -> None:
    ledger.set_freeze(
        "checkout/*",
        {"from": "2026-01-01T00:00:00Z", "until": "2026-01-01T01:00:00Z", "reason": "over", "by": "someone"},
    )
    deployment_id, start = started(deployments)

    assert lambda_handler(start, lambda_context)["outcome"] == "not_frozen"
    assert status_of(deployment_id) == "InProgress"


def test_without_alarm_freeze_minutes_an_alarm_leaves_no_freeze(
    deployments: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    configure(ALARM_TARGETS=json.dumps({"kill-switch-*": ["checkout/prod"]}))
    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert ledger.freezes() == {}


@pytest.mark.parametrize("creator", ["autoscaling", "CloudFormationRollback", "CodeDeployAutoUpdate"])
def test_deployments_nobody_asked_for_pass_the_freeze(
    calendar_freeze: str, deployments: Any, lambda_context: Any, creator: str
) -> None:
    deployment_id, start = started(deployments)
    fake_codedeploy.backend().deployments[deployment_id].creator = creator  # e.g. a scale-out's

    assert lambda_handler(start, lambda_context)["outcome"] == "exempt_creator"
    assert status_of(deployment_id) == "InProgress"


def test_a_start_event_naming_another_group_stops_nothing(
    calendar_freeze: str, deployments: Any, configure: Any, lambda_context: Any
) -> None:
    configure(ALLOWED_DEPLOYMENT_GROUPS="checkout/*")
    deployment_id, start = started(deployments, "payments/prod")
    start["detail"].update(application="checkout", deploymentGroup="prod")  # forged: says checkout/prod

    assert lambda_handler(start, lambda_context)["outcome"] == "group_mismatch"
    assert status_of(deployment_id) == "InProgress"


def test_a_start_event_from_another_account_is_ignored(
    calendar_freeze: str, deployments: Any, lambda_context: Any
) -> None:
    deployment_id, start = started(deployments)
    start["account"] = "999999999999"  # forwarded by an organisation's bus

    assert lambda_handler(start, lambda_context)["outcome"] == "other_account"
    assert status_of(deployment_id) == "InProgress"


def test_a_source_that_fails_does_not_hide_another_that_freezes(
    calendar_freeze: str, deployments: Any, configure: Any, lambda_context: Any
) -> None:
    configure(ALARM_NAME_PREFIX="kill-switch-")
    fake_aws.ssm.inject_error("GetCalendarState", "ThrottlingException", times=-1)
    seed_alarm()
    set_alarm_state("ALARM")
    deployment_id, start = started(deployments)

    assert lambda_handler(start, lambda_context)["freezes"] == [f"alarm {ALARM}"]
    assert status_of(deployment_id) == "Stopped"


def test_an_alarm_in_alarm_freezes_only_the_groups_it_guards(
    deployments: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    configure(ALARM_NAME_PREFIX="kill-switch-")
    seed_alarm("payments/prod")
    set_alarm_state("ALARM")
    deployment_id, start = started(deployments)

    assert lambda_handler(start, lambda_context)["outcome"] == "not_frozen"
    assert status_of(deployment_id) == "InProgress"


@pytest.mark.parametrize(
    ("setting", "sent"), [("true", True), ("false", False), ("deployment-group", "omitted")]
)
def test_freeze_stops_send_freeze_auto_rollback(
    calendar_freeze: str, deployments: Any, configure: Any, lambda_context: Any, setting: str, sent: object
) -> None:
    configure(FREEZE_AUTO_ROLLBACK=setting, DEFAULT_AUTO_ROLLBACK="false" if setting == "true" else "true")
    _, start = started(deployments)

    lambda_handler(start, lambda_context)

    (stop,) = [c for c in fake_codedeploy.calls() if c.operation == "StopDeployment"]
    assert stop.params.get("autoRollbackEnabled", "omitted") == sent


@pytest.mark.parametrize(("on_error", "status"), [("allow", "InProgress"), ("stop", "Stopped")])
def test_an_alarm_in_alarm_whose_tags_cannot_be_read_is_a_check_that_could_not_complete(
    deployments: Any,
    loop: str,
    configure: Any,
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
    on_error: str,
    status: str,
) -> None:
    configure(ALARM_NAME_PREFIX="kill-switch-", FREEZE_ON_ERROR=on_error)
    seed_alarm()
    set_alarm_state("ALARM")
    monkeypatch.setattr(cloudwatch, "alarm_tags", lambda arn: None)  # as when ListTagsForResource fails
    deployment_id, start = started(deployments)

    lambda_handler(start, lambda_context)

    assert status_of(deployment_id) == status


def test_an_alarms_short_freeze_never_cuts_a_longer_freeze_someone_set(
    deployments: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    configure(ALARM_TARGETS=json.dumps({"kill-switch-*": ["checkout/prod"]}), ALARM_FREEZE_MINUTES="30")
    week = {
        "from": "2026-01-01T00:00:00Z",
        "until": "2099-01-01T00:00:00Z",
        "reason": "Black Friday",
        "by": "ops",
    }
    ledger.set_freeze("checkout/prod", week)

    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert ledger.freezes()["checkout/prod"] == week
    ledger.set_freeze(
        "payments/prod", {**week, "until": "2026-01-01T01:00:00Z"}
    )  # over: the alarm's is longer
    configure(ALARM_TARGETS=json.dumps({"kill-switch-*": ["payments/prod"]}))
    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)
    assert ledger.freezes()["payments/prod"]["by"] == f"alarm {ALARM}"
