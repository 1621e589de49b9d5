"""What people read: the notifications' words, their chat-card shape and their filterable attributes."""

import json
from typing import Any

from stop_deployment import notices, notify

ALARM_CALLER = {
    "trigger": "alarm",
    "requester": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-5xx",
    "reason": "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).",
    "details": {"alarmName": "checkout-5xx"},
}
STOPPED = {
    "deploymentId": "d-AAAAAAAA1",
    "outcome": "stop_requested",
    "applicationName": "checkout",
    "deploymentGroupName": "prod",
    "status": "Pending",
    "autoRollbackEnabled": True,
}
FAILED = {
    "target": "payments/prod",
    "outcome": "failed",
    "error": "Throttled",
    "errorMessage": "CodeDeploy throttled the request",
}


def test_one_notification_says_what_was_stopped_where_why_and_what_failed() -> None:
    second = {**STOPPED, "deploymentId": "d-AAAAAAAA2", "autoRollbackEnabled": False}
    note = notices.stops(ALARM_CALLER, [STOPPED, second, FAILED], "thread-1")

    assert note.subject == "stop-deployment: 2 stopped, 1 failed in checkout/prod, payments/prod"
    assert "Asked by alarm *checkout-5xx*.\nWhy: Threshold Crossed" in note.description
    assert "`d-AAAAAAAA1` in checkout/prod: stop requested, with rollback (CodeDeploy: Pending)" in (
        note.description
    )
    assert "`d-AAAAAAAA2` in checkout/prod: stop requested, without rollback" in note.description
    assert "payments/prod: FAILED to stop: CodeDeploy throttled the request" in note.description
    assert note.event_type == "StopsFailed"
    assert note.deployments == ("d-AAAAAAAA1", "d-AAAAAAAA2")


def test_a_big_fan_out_is_one_readable_message() -> None:
    many = [{**STOPPED, "deploymentId": f"d-{n:09d}"} for n in range(60)]
    note = notices.stops(ALARM_CALLER, many, "thread-1")

    assert note.subject.startswith("stop-deployment: 60 stopped in checkout/prod")
    assert note.description.count("stop requested") == 50
    assert "and 10 more" in note.description


def test_a_person_is_named_with_the_way_they_asked() -> None:
    caller = {"trigger": "slack", "requester": "jdoe (U0789IJKL)", "details": {}}
    assert notices.who(caller) == "jdoe (U0789IJKL) in Slack"
    assert notices.who({"trigger": "direct", "requester": None}) == "a direct invocation"


def test_follow_ups_thread_under_their_stop_and_name_the_rollback() -> None:
    item = {**ALARM_CALLER, "deploymentId": "d-AAAAAAAA1", "applicationName": "checkout",
            "deploymentGroupName": "prod", "threadId": "thread-1"}  # fmt: skip
    note = notices.stop_landed(item, "Stopped", "d-RRRRRRRR1")

    assert note.thread_id == "thread-1"
    assert note.title == ":white_check_mark: d-AAAAAAAA1 stopped; rollback d-RRRRRRRR1 started"
    assert "stopped by alarm *checkout-5xx*" in note.description
    assert note.deployments == ("d-AAAAAAAA1", "d-RRRRRRRR1")


def test_a_failed_rollback_is_loud() -> None:
    item = {**ALARM_CALLER, "deploymentId": "d-RRRRRRRR1", "stoppedDeploymentId": "d-AAAAAAAA1",
            "applicationName": "checkout", "deploymentGroupName": "prod", "threadId": "thread-1"}  # fmt: skip
    note = notices.rollback_ended(item, "Failed")

    assert "FAILED" in note.subject
    assert "half-deployed" in note.subject
    assert note.event_type == "RollbackFailed"
    assert note.outcomes == ("rollback_failed",)


def test_the_chat_card_follows_the_custom_notification_schema() -> None:
    note = notices.stops(ALARM_CALLER, [STOPPED], "thread-1")
    message: dict[str, Any] = notify.chat_message(note)

    assert (message["version"], message["source"]) == ("1.0", "custom")
    assert message["content"]["textType"] == "client-markdown"
    assert message["content"]["title"] == note.title
    assert message["metadata"]["threadId"] == "thread-1"
    assert message["metadata"]["relatedResources"] == ["d-AAAAAAAA1"]
    json.dumps(message)  # it is sent as the SNS message


def test_attributes_let_subscribers_filter_by_outcome_way_in_application_and_group() -> None:
    attributes = notify.attributes(notices.stops(ALARM_CALLER, [STOPPED, FAILED], "thread-1"))

    assert attributes["trigger"] == {"DataType": "String", "StringValue": "alarm"}
    assert json.loads(attributes["outcome"]["StringValue"]) == ["failed", "stop_requested"]
    assert json.loads(attributes["application"]["StringValue"]) == ["checkout", "payments"]
    assert json.loads(attributes["deploymentGroup"]["StringValue"]) == ["checkout/prod", "payments/prod"]


def test_follow_ups_are_promised_only_when_the_ledger_is_on() -> None:
    assert notices.stops(ALARM_CALLER, [STOPPED], "thread-1").next_steps
    assert notices.stops(ALARM_CALLER, [STOPPED], "thread-1", followed=False).next_steps == ()
