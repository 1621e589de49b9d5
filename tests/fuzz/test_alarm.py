"""Fuzzing the alarm way in (EventBridge, Lambda action, SNS): a summary or InvalidRequest, checkout only."""

from collections.abc import Callable
from typing import Any

from hypothesis import example, given

from tests.fuzz.alarm_strategies import (
    ALARM_EVENTS,
    ALARM_TARGETS,
    alarm_events,
    assert_alarm_outcome,
    sns_messages,
)
from tests.fuzz.strategies import fuzz, invoke, reset_deployments, sample


@fuzz(600)
@given(alarm=alarm_events)
def test_given_a_mangled_alarm_event_when_handled_then_a_summary_or_invalid_request(
    deployments: Any, lambda_context: Any, configure: Callable[..., None], alarm: Any
) -> None:
    configure(ALARM_TARGETS=ALARM_TARGETS)
    reset_deployments()

    outcome = invoke(alarm, lambda_context)

    assert_alarm_outcome(outcome)


@fuzz(400)
@given(message=sns_messages)
# Found by this test: a Message nested deeper than Python's recursion limit raises RecursionError.
@example(message="[" * 1000 + "]" * 1000)
def test_given_any_sns_message_when_handled_then_a_summary_or_invalid_request(
    deployments: Any, lambda_context: Any, configure: Callable[..., None], message: str
) -> None:
    configure(ALARM_TARGETS=ALARM_TARGETS)
    reset_deployments()
    notification = sample("alarm-sns.json")
    notification["Records"][0]["Sns"]["Message"] = message

    outcome = invoke(notification, lambda_context)

    assert_alarm_outcome(outcome)


def test_given_a_valid_alarm_event_the_fuzzed_ones_come_from_when_handled_then_it_stops_checkout(
    deployments: Any, lambda_context: Any, configure: Callable[..., None]
) -> None:
    # The alarm properties above hold trivially if the unmutated events did nothing at all.
    configure(ALARM_TARGETS=ALARM_TARGETS)
    for name in ALARM_EVENTS:
        reset_deployments()
        outcome = invoke(sample(name), lambda_context)
        assert_alarm_outcome(outcome)
        expected = {"stops_attempted"} if "-ok" not in name else {"ignored"}
        assert outcome["outcome"] in expected, (name, outcome)
