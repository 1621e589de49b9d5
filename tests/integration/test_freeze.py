"""Deployment freezes, through lambda_handler on the local CodeDeploy, CloudWatch and SSM: a deployment
that STARTs in a frozen group is stopped at once, announced, and recorded like every stop."""

import json
from typing import Any

import pytest

from local import fake_aws, fake_codedeploy
from local.world import ALARM, load_event, received_notifications, seed_alarm, set_alarm_state, status_of
from stop_deployment import errors
from stop_deployment.handler import lambda_handler
from tests.logs import metric_total

CALENDAR = "holiday-freeze"


def started(
    client: Any, target: str = "checkout/prod", description: str | None = None
) -> tuple[str, dict[str, Any]]:
    """A deployment that just started in `target`, and the START event EventBridge brings for it."""
    application, group = target.split("/")
    deployment_id = fake_codedeploy.create_deployment(
        client, application, group, description=description, announce=True
    )
    (start,) = [e for e in fake_codedeploy.take_events() if e["detail"]["deploymentId"] == deployment_id]
    return deployment_id, start


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

    assert lambda_handler(rollback_start, lambda_context)["outcome"] == "exempt_rollback"
    assert status_of(rollback_start["detail"]["deploymentId"]) == "InProgress"


def test_a_repeated_start_event_stops_once_and_announces_once(
    calendar_freeze: str, deployments: Any, lambda_context: Any
) -> None:
    fake_codedeploy.set_stop_delay(3600)  # still stopping when the duplicate arrives
    _, start = started(deployments)

    lambda_handler(start, lambda_context)
    lambda_handler(start, lambda_context)

    assert subjects(calendar_freeze) == ["stop-deployment: 1 stopped in checkout/prod"]


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
