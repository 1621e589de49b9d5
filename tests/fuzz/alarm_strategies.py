"""Alarm events (EventBridge, the alarm's Lambda action, SNS) and what their summary must say, for
tests/fuzz/test_alarm.py; a helper module, not a test module."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from local.world import ALARM, CHECKOUT, IN_FLIGHT_ID, QUEUED_ID
from stop_deployment import errors
from tests.fuzz.strategies import calls, deep_json, json_values, mutated, sample, stopped

ALARM_TARGETS = json.dumps({"kill-switch-*": [CHECKOUT]})
ALARM_EVENTS = [
    "alarm-eventbridge.json",
    "alarm-eventbridge-composite.json",
    "alarm-eventbridge-ok.json",
    "alarm-lambda-action.json",
    "alarm-sns.json",
]
ALARM_OUTCOMES = {"stops_attempted", "nothing_in_flight", "no_targets", "ignored"}
DEPLOYMENT_OUTCOMES = {
    "stop_requested",
    "already_completed",
    "dry_run",
    "skipped_rollback",
    "refused",
    "failed",
}


def assert_alarm_outcome(outcome: Any) -> None:
    """A summary, or InvalidRequest having called nothing; only checkout/prod's deployments stopped."""
    if isinstance(outcome, BaseException):
        assert isinstance(outcome, errors.InvalidRequest), repr(outcome)
        assert calls() == [], "a malformed alarm event reached CodeDeploy"
        return
    assert isinstance(outcome, dict), repr(outcome)
    json.dumps(outcome)
    assert outcome["outcome"] in ALARM_OUTCOMES
    assert outcome["alarm"]["state"] in ("ALARM", "OK", "INSUFFICIENT_DATA")
    assert all(d["outcome"] in DEPLOYMENT_OUTCOMES for d in outcome["deployments"])
    if outcome["alarm"]["state"] != "ALARM":
        assert outcome["outcome"] == "ignored"
        assert calls() == []
    assert set(stopped()) <= {IN_FLIGHT_ID, QUEUED_ID}, stopped()
    assert len(stopped()) == len(set(stopped())), "a deployment was stopped twice"


alarm_events = st.sampled_from(ALARM_EVENTS).map(sample).flatmap(mutated)


def _sns_message() -> dict[str, Any]:
    message: dict[str, Any] = json.loads(sample("alarm-sns.json")["Records"][0]["Sns"]["Message"])
    return message


sns_messages = st.one_of(
    st.text(),
    json_values.map(json.dumps),
    st.tuples(st.integers(1, 5_000), st.sampled_from(["list", "object"])).map(lambda d: deep_json(*d)),
    mutated(_sns_message()).map(json.dumps),
    st.fixed_dictionaries(
        {
            "AlarmName": st.sampled_from([ALARM, "", "x" * 256]) | st.text(),
            "NewStateValue": st.sampled_from(["ALARM", "OK", "INSUFFICIENT_DATA", "alarm", " ALARM"])
            | json_values,
        },
        optional={
            "AlarmArn": st.sampled_from(["arn:aws:cloudwatch:us-east-1:123456789012:alarm:kill-switch-x"])
            | st.text(max_size=40).map(lambda s: "arn:aws:cloudwatch:" + s)
            | json_values,
            "AlarmTags": st.dictionaries(
                st.sampled_from(["stop-deployment:targets"]) | st.text(max_size=10), st.text(max_size=20)
            )
            | json_values,
            "AlarmTagsStatus": json_values,
        },
    ).map(json.dumps),
)
