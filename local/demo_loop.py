"""The second part of `make demo`: the loop closed. Every stop is recorded (DynamoDB) and announced
(SNS, read back from a subscribed SQS queue), then followed to the end of its rollback through the
CodeDeploy state-change events the local CodeDeploy emits, delivered to the function as EventBridge
would. All on the same local AWS (moto's server) as the first part.
"""

import json
import os
import time
from typing import Any

import boto3

from local import fake_codedeploy, world
from local.context import LambdaContext
from local.demo import Step, captured_logs, run_step

STOP_DELAY_SECONDS = 0.5  # StopDeployment answers Pending; the deployment is Stopped this much later


def run(first_number: int) -> tuple[list[bool], str]:
    """The loop's steps, numbered from `first_number`; returns whether each did what it said, and the
    queue that reads the notification topic."""
    table = world.seed_stops_table()
    topic, queue = world.seed_notify_topic()
    os.environ.update(STOPS_TABLE=table, NOTIFY_TOPIC_ARN=topic, CONFIRM_AFTER_SECONDS="0")
    fake_codedeploy.take_events()  # the first part's stops were not followed: forget their events
    fake_codedeploy.set_stop_delay(STOP_DELAY_SECONDS)
    print(f"\nClosing the loop: ledger in DynamoDB table {table}, notifications on {topic}")
    print("(the demo reads the topic through a subscribed SQS queue; all on the local AWS)")
    steps = (_alarm_stops, _a_failed_rollback_is_loud)
    return [step(number, queue) for number, step in enumerate(steps, start=first_number)], queue


def _alarm_stops(number: int, queue: str) -> bool:
    stopped = run_step(
        number,
        Step(
            "An alarm stops two deployments: one notification, then a follow-up per change",
            "alarm-eventbridge.json",
            "stops_attempted",
        ),
    )
    subjects = [note["Subject"] for note in show_notifications(queue)]
    titles = _titles(deliver_events(queue))
    return (
        stopped
        and subjects == ["stop-deployment: 2 stopped in checkout/prod"]
        and sum("stopped; rollback" in t for t in titles) == 2
        and sum("succeeded" in t for t in titles) == 2
    )


def _a_failed_rollback_is_loud(number: int, queue: str) -> bool:
    fake_codedeploy.set_rollback_result("Failed")
    deployment_id = new_deployment()
    try:
        stopped = run_step(
            number,
            Step(
                "A stop whose rollback fails: the loud notification",
                "direct-stop.json",
                "stop_requested",
                fresh=False,
                prepare=lambda event: {**event, "deploymentId": deployment_id},
            ),
        )
        show_notifications(queue)
        titles = _titles(deliver_events(queue))
    finally:
        fake_codedeploy.set_rollback_result("Succeeded")
    return stopped and any("FAILED" in t and "half-deployed" in t for t in titles)


def new_deployment() -> str:
    """Another deployment in flight in checkout/prod: CodeDeploy never reuses an id, so neither does
    the loop (the ledger knows the ids the first steps stopped)."""
    return fake_codedeploy.create_deployment(boto3.client("codedeploy"), "checkout", "prod")


def _titles(notes: list[dict[str, Any]]) -> list[str]:
    return [json.loads(note["Message"])["content"]["title"] for note in notes]


def deliver_events(queue: str) -> list[dict[str, Any]]:
    """Wait for the stops to land, then hand each CodeDeploy event to the function, as EventBridge would."""
    from stop_deployment.handler import lambda_handler

    time.sleep(STOP_DELAY_SECONDS)
    fake_codedeploy.advance()
    notes: list[dict[str, Any]] = []
    for event in fake_codedeploy.take_events():
        detail = event["detail"]
        print(f"   event    CodeDeploy {detail['state']} {detail['deploymentId']} ({detail['application']}/"
              f"{detail['deploymentGroup']})")  # fmt: skip
        with captured_logs():  # the follow-ups below say what the log lines would
            answer = lambda_handler(event, LambdaContext(aws_request_id="demo-event"))
        print(f"   result   {answer['outcome']}")
        notes += show_notifications(queue)
    return notes


def show_notifications(queue: str) -> list[dict[str, Any]]:
    notes = world.received_notifications(queue)
    for note in notes:
        card = json.loads(note["Message"])["content"]
        print(f"   sns      subject: {note['Subject']}")
        print(f"            chat:    {card['title']}")
        for line in filter(None, card["description"].splitlines()):
            print(f"                     {line}")
    return notes
