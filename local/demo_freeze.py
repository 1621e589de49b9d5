"""The third part of `make demo`: deployment freezes. A deployment that starts in a frozen group is
stopped at its START event (the local CodeDeploy emits it, the demo delivers it as EventBridge would):
a manual freeze of checkout/prod set over HTTP, a `[freeze-exempt]` hotfix let through and announced,
the freeze sweep stopping a deployment whose START event was lost, the freezes listed, the freeze
lifted and the next deployment running; then a CLOSED Change Calendar freezing */prod, and an alarm in
ALARM freezing the group it guards.
"""

import json
import os
from typing import Any

import boto3

from local import fake_aws, fake_codedeploy, world
from local.demo import Step, run_step
from local.demo_loop import show_notifications

CALENDAR = "holiday-freeze"


def run(first_number: int, queue: str) -> list[bool]:
    settings = {"FREEZE_CALENDARS": json.dumps({"*/prod": [CALENDAR]}), "ALARM_NAME_PREFIX": "kill-switch-"}
    os.environ.update(settings)
    try:
        return _steps(first_number, queue)
    finally:
        for name in settings:
            del os.environ[name]


def _steps(first_number: int, queue: str) -> list[bool]:
    print("\nFreezes: a person freezes a group over HTTP or Slack; FREEZE_CALENDARS freezes */prod while")
    print(
        f"the Change Calendar {CALENDAR} is CLOSED; alarms named kill-switch-* freeze the groups they guard"
    )
    number = iter(range(first_number, first_number + 10))
    fake_aws.ssm.set_calendar_state(CALENDAR, "OPEN")
    results = [
        _http(next(number), "PUT /freezes/checkout/prod: frozen for 2 hours, for Black Friday",
              "http-api-freeze.json", queue),
        _start(next(number), "A deployment starting in checkout/prod is stopped at once", None,
               "stop_requested", queue),
        _start(next(number), "A hotfix whose description says [freeze-exempt] passes, and is announced",
               "[freeze-exempt] hotfix for INC-42", "exempt", queue),
        _sweep(next(number), queue),
        _http(next(number), "GET /freezes: who froze what, why, until when", "http-api-freezes.json", queue),
        _http(next(number), "DELETE /freezes/checkout/prod: the freeze is lifted", "http-api-unfreeze.json",
              queue),
        _start(next(number), "The next deployment in checkout/prod runs", None, "not_frozen", queue),
    ]  # fmt: skip
    fake_aws.ssm.set_calendar_state(CALENDAR, "CLOSED")
    results.append(
        _start(
            next(number),
            f"{CALENDAR} is CLOSED: */prod is frozen, a deployment in checkout/prod is stopped",
            None,
            "stop_requested",
            queue,
        )
    )
    fake_aws.ssm.set_calendar_state(CALENDAR, "OPEN")
    world.set_alarm_state("ALARM")
    results.append(
        _start(
            next(number),
            f"{world.ALARM} is in ALARM: the group it guards is frozen",
            None,
            "stop_requested",
            queue,
        )
    )
    world.set_alarm_state("OK")
    return results


def _http(number: int, title: str, event_file: str, queue: str) -> bool:
    ok = run_step(number, Step(title, event_file, "200", fresh=False))
    show_notifications(queue)
    return ok


def _sweep(number: int, queue: str) -> bool:
    """A deployment whose START event never came (EventBridge delivers at least once, not always on
    time): the freeze sweep, every 5 minutes, stops it."""
    missed = fake_codedeploy.create_deployment(boto3.client("codedeploy"), "checkout", "prod")
    print(f"\n   ({missed} started in checkout/prod, and its START event was lost)")
    ok = run_step(number, Step("The freeze sweep stops what runs in a frozen group", "freeze-sweep.json",
                               "swept", fresh=False))  # fmt: skip
    stopped = any(
        call.operation == "StopDeployment" and call.params["deploymentId"] == missed
        for call in fake_codedeploy.calls()
    )
    print(f"   now      {missed} {world.status_of(missed)}{', stop requested' if stopped else ''}")
    show_notifications(queue)
    fake_codedeploy.take_events()
    return ok and stopped


def _start(number: int, title: str, description: str | None, expect: str, queue: str) -> bool:
    deployment_id, start = world.started(boto3.client("codedeploy"), description=description)

    def delivered(_: dict[str, Any]) -> dict[str, Any]:
        return start

    ok = run_step(
        number, Step(title, "codedeploy-state-change-start.json", expect, fresh=False, prepare=delivered)
    )
    print(f"   now      {deployment_id} {world.status_of(deployment_id)}")
    show_notifications(queue)
    fake_codedeploy.take_events()  # the stop's own STOP/rollback events: the loop's part showed those
    return ok
