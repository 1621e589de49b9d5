"""What the fuzz tests of every way in share (issue 5, "Bad input"); a helper module, not a test module.

Whatever arrives, a caller can rely on the same few things: a direct invocation gets a stop result or
one of our errors; an HTTP caller gets a status with our `{"error", "message"}` body and never a 5xx
while CodeDeploy is healthy; a malformed alarm event raises InvalidRequest; an unsigned Slack request
gets 401. And bad input never reaches CodeDeploy. The oracles are the function's own rules
(`validation.parse_stop_request`, `triggers.slack.command.parse`), so these tests check that every way
in applies them before anything is called, and that nothing else escapes on the way.

Here: the harness (invoke lambda_handler in-process on the local CodeDeploy, read what it called), the
values and deployment ids every strategy draws from, stop requests and their oracle, and `mutated`.
Each way in's own strategies and oracle sit beside it in http_strategies, alarm_strategies and
slack_strategies. The minimal failing inputs found so far are pinned with `@example` in the test
modules, so they replay on every run.
"""

from __future__ import annotations

import copy
import functools
import json
import string
from typing import Any

from hypothesis import HealthCheck, note, settings
from hypothesis import event as tally
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from local import fake_codedeploy
from local.world import COMPLETED_ID, IN_FLIGHT_ID, OTHER_TEAM_ID, QUEUED_ID, load_event
from stop_deployment import errors
from stop_deployment.handler import lambda_handler
from stop_deployment.target import HOME, Place
from stop_deployment.validation import parse_stop_request


def fuzz(max_examples: int) -> settings:
    """Fixtures are set up once per test, not per example: each example starts with reset_deployments().
    Everything else (derandomize in CI) comes from the profile tests/conftest.py loads."""
    return settings(
        max_examples=max_examples,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __deepcopy__(self, memo: dict[int, Any]) -> _Missing:
        return self


MISSING: Any = _Missing()  # "leave the key out"


# --- the local CodeDeploy ------------------------------------------------------------------------------


def reset_deployments() -> None:
    """Each example starts from the same deployments in flight (the `deployments` fixture's) and no
    recorded calls."""
    fake_codedeploy.set_status(IN_FLIGHT_ID, "InProgress")
    fake_codedeploy.set_status(QUEUED_ID, "Queued")
    fake_codedeploy.set_status(OTHER_TEAM_ID, "InProgress")
    fake_codedeploy.clear_calls()


def calls() -> list[tuple[str, dict[str, Any]]]:
    return [(call.operation, call.params) for call in fake_codedeploy.calls()]


def stopped() -> list[str]:
    return [params["deploymentId"] for operation, params in calls() if operation == "StopDeployment"]


def invoke(event: Any, context: Any) -> Any:
    """What the invocation returned, or the exception it raised (returned, to be asserted on).

    Each outcome is tallied: `pytest --hypothesis-show-statistics` shows what the inputs reached.
    """
    if currently_in_test_context():
        note(f"event: {_short(event)}")
    try:
        outcome = lambda_handler(event, context)
    except Exception as exc:  # every exception is a finding unless the test says otherwise
        _tally(f"raised {type(exc).__name__}")
        return exc
    if isinstance(outcome, dict) and "statusCode" in outcome:
        _tally(f"HTTP {outcome['statusCode']} {_error_code(outcome)}".strip())
    elif isinstance(outcome, dict):
        _tally(f"returned {outcome.get('outcome')}")
    _tally("CodeDeploy called" if fake_codedeploy.calls() else "CodeDeploy not called")
    return outcome


def _error_code(response: dict[str, Any]) -> str:
    try:
        return str(json.loads(response.get("body") or "{}").get("error") or "")
    except (ValueError, AttributeError):
        return ""


def _tally(what: str) -> None:
    if currently_in_test_context():
        tally(what)


def _short(value: Any, limit: int = 3000) -> str:
    """The event as JSON (to paste into a test), long strings elided."""

    def elide(item: Any) -> Any:
        if isinstance(item, str) and len(item) > 200:
            return f"{item[:60]}...<{len(item)} characters>...{item[-20:]}"
        if isinstance(item, dict):
            return {k: elide(v) for k, v in item.items()}
        if isinstance(item, list):
            return [elide(v) for v in item]
        return item

    text = json.dumps(elide(value), default=repr)
    return text if len(text) <= limit else text[:limit] + "..."


@functools.cache
def _sample(name: str) -> Any:
    return load_event(name)


def sample(name: str) -> Any:
    """A fresh copy of an events/ file."""
    return copy.deepcopy(_sample(name))


# --- strategies: values -------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
wrong_types = st.sampled_from(
    [None, True, False, 0, 1, -1, 1.5, "", "true", "ALARM", [], {}, [None], {"": None}]
)

ID_CHARS = string.ascii_letters + string.digits
WHITESPACE = " \t\r\n\x0b\x0c\x00\u00a0\u2003\u3000\ufeff"
KNOWN_IDS = [IN_FLIGHT_ID, COMPLETED_ID, QUEUED_ID, OTHER_TEAM_ID]
LOOKALIKE_IDS = [
    IN_FLIGHT_ID.lower(),
    "D-LGUMS25CC",  # the prefix is case-sensitive
    "d_LGUMS25CC",
    "d\u2010LGUMS25CC",  # a Unicode hyphen
    "d-\uff2c\uff27\uff35\uff2d\uff33\uff12\uff15\uff23\uff23",  # full-width letters and digits
    "d-LGUMS25C\u00c7",
    "d-\u0131gums25cc",  # dotless i: upper-cases to I
    "d-\ufb00gums25cc",  # the ff ligature: upper-cases to two letters
    "d-LGUMS25CC\n\n",
    "\n d-lgums25cc \t",
    "d-LGUMS25CC\x00",
    "d-LGUMS25CCd-LGUMS25CC",
    "d-",
    "d",
    "",
]
valid_format_ids = st.text(alphabet=ID_CHARS, min_size=9, max_size=9).map(lambda suffix: "d-" + suffix)
deployment_ids = st.one_of(
    st.sampled_from(KNOWN_IDS),
    st.sampled_from(LOOKALIKE_IDS),
    valid_format_ids,
    st.tuples(
        st.text(alphabet=WHITESPACE, max_size=3),
        st.sampled_from(KNOWN_IDS) | valid_format_ids,
        st.text(alphabet=WHITESPACE, max_size=3),
    ).map("".join),
    st.text(alphabet=ID_CHARS + "-_ ", max_size=20).map(lambda suffix: "d-" + suffix),  # every length
    st.text(min_size=9, max_size=9).map(lambda suffix: "d-" + suffix),  # every character
    st.text(max_size=30),
)
rollback_flags = st.one_of(
    st.sampled_from([MISSING, True, False, None]),
    st.sampled_from([MISSING, True, False, None]),
    st.sampled_from(["true", "false", "yes", 1, 0, "", [], {}]),
    json_values,
)
# The function's own account and region (the local context's), others, and near misses.
ACCOUNT_IDS = [
    "123456789012",
    "222222222222",
    "12345678901",
    "1234567890123",
    " 123456789012",
    "12345678901a",
]
REGIONS = ["us-east-1", "eu-west-1", "us-gov-west-1", "US-EAST-1", "us-east", "mars-north-1", "us-east-1 "]
HOME_SPELLINGS = {HOME, Place("123456789012", ""), Place("", "us-east-1"), Place("123456789012", "us-east-1")}
EXTRA_KEYS = [
    "reason",
    "DeploymentId",
    "deploymentid",
    "deploymentId ",
    "autorollbackenabled",
    "Records",
    "alarmData",
    "detail-type",
    "detail",
    "source",
]


@st.composite
def stop_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """Near {"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": true}: ids of every shape, flags of
    every type, fields missing or extra."""
    payload: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        payload["deploymentId"] = draw(
            st.one_of(st.sampled_from(KNOWN_IDS), st.sampled_from(KNOWN_IDS), deployment_ids, json_values)
        )
    flag = draw(rollback_flags)
    if flag is not MISSING:
        payload["autoRollbackEnabled"] = flag
    for field, values in (("accountId", ACCOUNT_IDS), ("region", REGIONS)):
        if not draw(st.integers(0, 3)):
            payload[field] = draw(st.one_of(st.sampled_from(values), json_values))
    if not draw(st.integers(0, 3)):
        payload.update(draw(st.dictionaries(st.sampled_from(EXTRA_KEYS) | st.text(max_size=10), json_values)))
    return payload


direct_payloads = st.one_of(json_values, stop_payloads(), stop_payloads())


@st.composite
def mutated(draw: st.DrawFn, document: Any, max_mutations: int = 3) -> Any:
    """A copy of `document` with up to `max_mutations` values, at random paths, removed, replaced by a
    value of another type, or replaced by arbitrary JSON."""
    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_mutations))):
        node, parent, key = doc, None, None  # type: Any, Any, Any
        while isinstance(node, (dict, list)) and node:
            keys = sorted(node) if isinstance(node, dict) else list(range(len(node)))
            key = draw(st.sampled_from(keys))
            parent, node = node, node[key]
            if not isinstance(node, (dict, list)) or not draw(st.booleans()):
                break
        if parent is None:
            break
        how = draw(st.sampled_from(["remove", "retype", "replace"]))
        if how == "remove":
            del parent[key]
        else:
            # A copy: a later mutation may change it in place, and sampled values are shared.
            parent[key] = copy.deepcopy(draw(wrong_types if how == "retype" else json_values))
    return doc


def deep_json(depth: int, kind: str) -> str:
    """JSON nested `depth` deep: a list, an object, or a stop request whose flag is the nested list."""
    if kind == "list":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a": ' * depth + "null" + "}" * depth
    return f'{{"deploymentId": "{IN_FLIGHT_ID}", "autoRollbackEnabled": ' + "[" * depth + "]" * depth + "}"


# --- the oracle for a stop request: direct invocation and Stop Deployment Request events ----------------


def expected_stop(payload: Any) -> tuple[str, bool | None, Place] | None:
    """The oracle: what parse_stop_request accepts, normalised; None for what it refuses."""
    try:
        return parse_stop_request(copy.deepcopy(payload))
    except errors.InvalidRequest:
        return None


def assert_stop_outcome(
    outcome: Any, expected: tuple[str, bool | None, Place] | None, *, completed_is_success: bool
) -> None:
    if expected is None:
        assert isinstance(outcome, errors.InvalidRequest), repr(outcome)
        assert calls() == [], "an invalid request reached CodeDeploy"
        return
    deployment_id, flag, place = expected
    if place not in HOME_SPELLINGS:  # ALLOWED_ACCOUNTS and ALLOWED_REGIONS are unset: only home
        assert isinstance(outcome, errors.AccountNotAllowed), repr(outcome)
        assert calls() == [], "a request for another account reached CodeDeploy"
        return
    # DEFAULT_AUTO_ROLLBACK is true, the allowlist is "*": one StopDeployment call, the flag as sent.
    sent = {"deploymentId": deployment_id, "autoRollbackEnabled": True if flag is None else flag}
    assert calls() == [("StopDeployment", sent)]
    if deployment_id in (IN_FLIGHT_ID, QUEUED_ID, OTHER_TEAM_ID):
        assert isinstance(outcome, dict), repr(outcome)
        assert (outcome["deploymentId"], outcome["outcome"]) == (deployment_id, "stop_requested")
        assert outcome["autoRollbackEnabled"] == sent["autoRollbackEnabled"]
        json.dumps(outcome)  # Lambda must be able to serialise it
    elif deployment_id == COMPLETED_ID and completed_is_success:
        assert isinstance(outcome, dict), repr(outcome)
        assert outcome["outcome"] == "already_completed"
    elif deployment_id == COMPLETED_ID:
        assert isinstance(outcome, errors.DeploymentAlreadyCompleted), repr(outcome)
    else:
        assert isinstance(outcome, errors.DeploymentNotFound), repr(outcome)
