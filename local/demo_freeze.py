"""The third part of `make demo`: deployment freezes. A deployment that starts in a frozen group is
stopped at its START event (the local CodeDeploy emits it, the demo delivers it as EventBridge would):
a CLOSED Change Calendar freezing */prod, a `[freeze-exempt]` hotfix let through and announced, the
calendar open again and the next deployment running, then an alarm in ALARM freezing the group it
guards.
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
    print(f"\nFreezes: FREEZE_CALENDARS freezes */prod while the Change Calendar {CALENDAR} is CLOSED;")
    print("alarms named kill-switch-* freeze the groups they guard while in ALARM")
    number = iter(range(first_number, first_number + 4))
    fake_aws.ssm.set_calendar_state(CALENDAR, "CLOSED")
    results = [
        _start(next(number), f"{CALENDAR} is CLOSED: a deployment starting in checkout/prod is stopped",
               None, "stop_requested", queue),
        _start(next(number), "A hotfix whose description says [freeze-exempt] passes, and is announced",
               "[freeze-exempt] hotfix for INC-42", "exempt", queue),
    ]  # fmt: skip
    fake_aws.ssm.set_calendar_state(CALENDAR, "OPEN")
    results.append(
        _start(next(number), f"{CALENDAR} is OPEN again: the next deployment runs", None, "not_frozen", queue)
    )
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


def _start(number: int, title: str, description: str | None, expect: str, queue: str) -> bool:
    deployment_id = fake_codedeploy.create_deployment(
        boto3.client("codedeploy"), "checkout", "prod", description=description, announce=True
    )
    (start,) = [e for e in fake_codedeploy.take_events() if e["detail"]["deploymentId"] == deployment_id]

    def delivered(_: dict[str, Any]) -> dict[str, Any]:
        return start

    ok = run_step(
        number, Step(title, "codedeploy-state-change-start.json", expect, fresh=False, prepare=delivered)
    )
    print(f"   now      {deployment_id} {world.status_of(deployment_id)}")
    show_notifications(queue)
    fake_codedeploy.take_events()  # the stop's own STOP/rollback events: the loop's part showed those
    return ok
