"""The freeze sweep (events/freeze-sweep.json, the stop function's schedule) through lambda_handler: what
is in flight in a group a Change Calendar or a kept freeze covers is stopped, exemptions and the
allowlist hold, and a source that cannot be read leaves the others working."""

import json
from typing import Any

import pytest

from local import fake_aws, fake_codedeploy
from local.world import (
    COMPLETED_ID,
    IN_FLIGHT_ID,
    OTHER_TEAM_ID,
    QUEUED_ID,
    load_event,
    received_notifications,
    status_of,
)
from stop_deployment import ledger
from stop_deployment.handler import lambda_handler
from tests.logs import metric_total

SWEEP = load_event("freeze-sweep.json")
FOREVER = {"from": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z", "reason": "launch", "by": "ops"}


def stopped_ids() -> list[str]:
    return sorted(
        c.params["deploymentId"] for c in fake_codedeploy.calls() if c.operation == "StopDeployment"
    )


def test_a_kept_freeze_stops_what_is_in_flight_in_its_group_only(
    deployments: Any, loop: str, lambda_context: Any
) -> None:
    ledger.set_freeze("checkout/prod", FOREVER)

    summary = lambda_handler(SWEEP, lambda_context)

    assert summary["frozenGroups"] == 1
    assert summary["counts"] == {"stop_requested": 2}
    assert stopped_ids() == sorted([IN_FLIGHT_ID, QUEUED_ID])
    assert status_of(OTHER_TEAM_ID) == "InProgress"
    assert status_of(COMPLETED_ID) == "Succeeded"
    (note,) = received_notifications(loop)
    assert note["Subject"] == "stop-deployment: 2 stopped in checkout/prod"
    assert "ops froze checkout/prod" in json.loads(note["Message"])["content"]["description"]


def test_a_closed_calendar_on_a_glob_stops_every_matching_group(
    deployments: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    configure(FREEZE_CALENDARS=json.dumps({"*/prod": ["holiday-freeze"]}))
    fake_aws.ssm.set_calendar_state("holiday-freeze", "CLOSED")
    fake_codedeploy.create_deployment(deployments, "checkout", "staging")

    summary = lambda_handler(SWEEP, lambda_context)

    assert summary["frozenGroups"] == 2
    assert stopped_ids() == sorted([IN_FLIGHT_ID, QUEUED_ID, OTHER_TEAM_ID])


def test_nothing_frozen_means_no_codedeploy_call(deployments: Any, loop: str, lambda_context: Any) -> None:
    summary = lambda_handler(SWEEP, lambda_context)

    assert (summary["frozenGroups"], summary["inFlight"]) == (0, 0)
    assert fake_codedeploy.calls() == []


def test_exempt_deployments_and_rollbacks_keep_running(
    deployments: Any, loop: str, lambda_context: Any
) -> None:
    ledger.set_freeze("payments/*", FOREVER)
    hotfix = fake_codedeploy.create_deployment(
        deployments, "payments", "prod", description="[freeze-exempt] fix"
    )
    fake_codedeploy.backend().deployments[OTHER_TEAM_ID].creator = "codeDeployRollback"

    summary = lambda_handler(SWEEP, lambda_context)
    lambda_handler(SWEEP, lambda_context)  # the next sweep announces the exemption no more

    assert summary["counts"] == {"exempt": 1, "exempt_creator": 1}
    assert status_of(hotfix) == "InProgress"
    assert status_of(OTHER_TEAM_ID) == "InProgress"
    (note,) = received_notifications(loop)
    assert note["Subject"] == f"stop-deployment: {hotfix} passed the freeze on payments/prod (exempt)"


def test_the_allowlist_and_dry_run_hold_in_the_sweep(
    deployments: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    ledger.set_freeze("*/*", FOREVER)
    configure(ALLOWED_DEPLOYMENT_GROUPS="payments/*", DRY_RUN="true")

    summary = lambda_handler(SWEEP, lambda_context)

    assert summary["frozenGroups"] == 1
    assert summary["counts"] == {"dry_run": 1}
    assert stopped_ids() == []
    assert status_of(IN_FLIGHT_ID) == "InProgress"


def test_an_expired_freeze_stops_nothing(deployments: Any, loop: str, lambda_context: Any) -> None:
    ledger.set_freeze("checkout/prod", {**FOREVER, "until": "2026-01-01T01:00:00Z"})

    assert lambda_handler(SWEEP, lambda_context)["frozenGroups"] == 0
    assert stopped_ids() == []


def test_an_unreadable_calendar_is_counted_and_the_kept_freezes_still_apply(
    deployments: Any, loop: str, configure: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(FREEZE_CALENDARS=json.dumps({"*/prod": ["no-such-calendar"]}), FREEZE_ON_ERROR="stop")
    ledger.set_freeze("payments/prod", FOREVER)

    summary = lambda_handler(SWEEP, lambda_context)

    assert stopped_ids() == [OTHER_TEAM_ID]  # FREEZE_ON_ERROR is for START, not the sweep
    assert "no-such-calendar" in summary["problems"][0]
    assert metric_total(capsys.readouterr().out, "FreezeChecksFailed") == 1


def test_a_stop_that_fails_is_reported_and_the_others_go_ahead(
    deployments: Any, loop: str, lambda_context: Any
) -> None:
    ledger.set_freeze("*/prod", FOREVER)
    fake_codedeploy.inject_error(
        "StopDeployment", "ThrottlingException", times=-1, match={"deploymentId": QUEUED_ID}
    )

    summary = lambda_handler(SWEEP, lambda_context)

    assert summary["counts"] == {"stop_requested": 2, "failed": 1}
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert status_of(QUEUED_ID) == "Queued"


def test_a_glob_lists_the_groups_of_allowed_applications_only(
    deployments: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    ledger.set_freeze("*/prod", FOREVER)
    configure(ALLOWED_DEPLOYMENT_GROUPS="payments/*")

    lambda_handler(SWEEP, lambda_context)

    listed = [
        c.params["applicationName"] for c in fake_codedeploy.calls() if c.operation == "ListDeploymentGroups"
    ]
    assert listed == ["payments"]
    assert stopped_ids() == [OTHER_TEAM_ID]
