"""Property-based fuzzing of every way in (issue 5, "Bad input"), in-process on the local CodeDeploy.

Whatever arrives, a caller can rely on the same few things: a direct invocation gets a stop result or
one of our errors; an HTTP caller gets a status with our `{"error", "message"}` body and never a 5xx
while CodeDeploy is healthy; a malformed alarm event raises InvalidRequest; an unsigned Slack request
gets 401. And bad input never reaches CodeDeploy. The oracles are the function's own rules
(`validation.parse_stop_request`, `triggers.slack.command.parse`), so these tests check that every way
in applies them before anything is called, and that nothing else escapes on the way.

The minimal failing inputs found so far are pinned with `@example`, so they replay on every run.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import hmac
import json
import re
import string
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import boto3
import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import event as tally
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from local import fake_codedeploy as local_codedeploy
from local.slack import TEST_SIGNING_SECRET
from local.world import COMPLETED_ID, IN_FLIGHT_ID, load_event
from stop_deployment import errors
from stop_deployment.handler import lambda_handler
from stop_deployment.triggers.slack import command as slack_command
from stop_deployment.validation import parse_stop_request

QUEUED_ID = "d-CHK0UT002"  # checkout/prod, Queued
OTHER_TEAM_ID = "d-PAYM3NTS1"  # payments/prod, InProgress: no alarm or command here may touch it
SECRET_PARAM = "/stop-deployment/slack-signing-secret"
ALARM_TARGETS = json.dumps({"kill-switch-*": ["checkout/prod"]})
MAX_BODY_BYTES = 16 * 1024


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


@pytest.fixture
def deployments(seeded: Any) -> Any:
    """checkout/prod: d-LGUMS25CC InProgress, d-CHK0UT002 Queued, d-C0MPLETED Succeeded;
    payments/prod: d-PAYM3NTS1 InProgress."""
    local_codedeploy.create_deployment(seeded, "checkout", "prod", status="Queued", deployment_id=QUEUED_ID)
    local_codedeploy.create_deployment(seeded, "payments", "prod", deployment_id=OTHER_TEAM_ID)
    local_codedeploy.clear_calls()
    return seeded


@pytest.fixture
def chatops(deployments: Any, configure: Callable[..., None]) -> Any:
    """The Slack signing secret in the local SSM and ChatOps configured (the Slack route answers 401,
    not 503, to an unsigned request)."""
    boto3.client("ssm").put_parameter(Name=SECRET_PARAM, Value=TEST_SIGNING_SECRET, Type="SecureString")
    configure(SLACK_SIGNING_SECRET_PARAM=SECRET_PARAM)
    return deployments


def reset_deployments() -> None:
    """Each example starts from the same deployments in flight and no recorded calls."""
    local_codedeploy.set_status(IN_FLIGHT_ID, "InProgress")
    local_codedeploy.set_status(QUEUED_ID, "Queued")
    local_codedeploy.set_status(OTHER_TEAM_ID, "InProgress")
    local_codedeploy.clear_calls()


def calls() -> list[tuple[str, dict[str, Any]]]:
    return [(call.operation, call.params) for call in local_codedeploy.calls()]


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
    _tally("CodeDeploy called" if local_codedeploy.calls() else "CodeDeploy not called")
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


# --- 1. direct invocation and Stop Deployment Request events -------------------------------------------


def expected_stop(payload: Any) -> tuple[str, bool | None] | None:
    """The oracle: what parse_stop_request accepts, normalised; None for what it refuses."""
    try:
        return parse_stop_request(copy.deepcopy(payload))
    except errors.InvalidRequest:
        return None


def assert_stop_outcome(
    outcome: Any, expected: tuple[str, bool | None] | None, *, completed_is_success: bool
) -> None:
    if expected is None:
        assert isinstance(outcome, errors.InvalidRequest), repr(outcome)
        assert calls() == [], "an invalid request reached CodeDeploy"
        return
    deployment_id, flag = expected
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


@fuzz(600)
@given(payload=direct_payloads)
@example(payload={"deploymentId": " d-lgums25cc\n"})
@example(payload={"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": "true"})
def test_given_any_direct_payload_when_invoked_then_a_result_or_our_error_and_bad_input_calls_nothing(
    deployments: Any, lambda_context: Any, payload: Any
) -> None:
    reset_deployments()
    expected = expected_stop(payload)

    outcome = invoke(payload, lambda_context)

    assert isinstance(outcome, dict | errors.StopDeploymentError), repr(outcome)
    assert_stop_outcome(outcome, expected, completed_is_success=False)


@fuzz(300)
@given(
    detail=direct_payloads | st.just(MISSING),
    envelope=st.fixed_dictionaries(
        {},
        optional={
            "id": json_values,
            "source": json_values,
            "account": json_values,
            "resources": json_values,
            "version": json_values,
        },
    ),
)
def test_given_any_stop_request_event_when_invoked_then_detail_follows_the_direct_rules(
    deployments: Any, lambda_context: Any, detail: Any, envelope: dict[str, Any]
) -> None:
    reset_deployments()
    request: dict[str, Any] = sample("eventbridge-stop-request.json")
    request.update(envelope)
    if detail is MISSING:
        del request["detail"]
    else:
        request["detail"] = detail
    expected = expected_stop(request.get("detail"))

    outcome = invoke(request, lambda_context)

    assert isinstance(outcome, dict | errors.StopDeploymentError), repr(outcome)
    # A Stop Deployment Request whose deployment had already completed is a success: it is stopped.
    assert_stop_outcome(outcome, expected, completed_is_success=True)


# --- 2. HTTP: REST v1, HTTP API v2, Function URL --------------------------------------------------------

API_EVENTS = {
    "rest": "rest-stop.json",
    "http-api": "http-api-stop.json",
    "function-url": "function-url-stop.json",
}
METHODS = ["POST", "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "post", "get", "Post"]
methods = st.one_of(st.sampled_from(["POST", "POST", "GET"]), st.sampled_from(METHODS), st.text(max_size=8))
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/vnd.api+json",
    "text/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "multipart/form-data",
    "application/xml",
    "application/octet-stream",
    "*/*",
    "",
]
HEADER_NAMES = [
    "accept",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "x-forwarded-for",
    "cookie",
    "authorization",
    "Host",
]
OUR_ERRORS = {cls.__name__ for cls in vars(errors).values() if isinstance(cls, type)}
# Errors our own checks answer before CodeDeploy is asked anything.
CHECKED_BEFORE_CALLING = {"InvalidRequest", "RouteNotFound", "PayloadTooLarge", "SlackSignatureInvalid"}
STOP_ROUTE = re.compile(r"/+(deployments/+[^/]+/+)?stop/*")

# (path, the method its route takes)
route_paths = st.one_of(
    st.just(("/stop", "POST")),
    deployment_ids.map(lambda i: (f"/deployments/{i}/stop", "POST")),
    deployment_ids.map(lambda i: (f"/deployments/{i}", "GET")),
)
odd_paths = st.one_of(
    st.sampled_from(
        [
            "/stop/",
            "//stop",
            "/STOP",
            "",
            "/",
            "//",
            "///",
            "/deployments",
            "/deployments/",
            "/deployments//stop",
            "/deployments/stop",
            "/deployments/d-LGUMS25CC/stop/",
            "/deployments/d-LGUMS25CC//stop",
            "/deployments/d-LGUMS25CC%2Fstop",
            "/deployments/%64-LGUMS25CC/stop",
            "/deployments/d-LGUMS25CC/stop/../../stop",
            "/slack/commands",
            "/slack/commands/",
            "/openapi.json",
            "/stop%00",
            "/stop?x=1",
        ]
    ),
    st.text().map(lambda s: f"/deployments/{s}/stop"),
    st.text().map(lambda s: f"/deployments/{quote(s, safe='')}/stop"),
    st.text().map(lambda s: f"/deployments/{quote(s, safe='')}"),
    st.integers(1_000, 100_000).map(lambda n: "/deployments/" + "d" * n + "/stop"),
    st.integers(2, 10_000).map(lambda n: "/" * n),
    st.text().map(lambda s: "/" + s),
    st.text(),
)
paths = st.one_of(route_paths, route_paths, odd_paths.map(lambda path: (path, "POST")))


def _plain(body: str) -> tuple[str, bool]:
    return body, False


def _b64(body: str | bytes) -> tuple[str, bool]:
    raw = body.encode() if isinstance(body, str) else body
    return base64.b64encode(raw).decode(), True


def _deep(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a": ' * depth + "null" + "}" * depth
    return f'{{"deploymentId": "{IN_FLIGHT_ID}", "autoRollbackEnabled": ' + "[" * depth + "]" * depth + "}"


valid_stop_bodies = st.fixed_dictionaries(
    {"deploymentId": st.sampled_from([*KNOWN_IDS, IN_FLIGHT_ID.lower(), f" {IN_FLIGHT_ID} "])},
    optional={"autoRollbackEnabled": st.sampled_from([True, False, None])},
).map(json.dumps)
json_texts = st.one_of(
    valid_stop_bodies,
    valid_stop_bodies,
    stop_payloads().map(json.dumps),
    stop_payloads().map(lambda p: json.dumps(p, ensure_ascii=False)),
    json_values.map(json.dumps),
)
body_texts = json_texts | st.text()
# (body, isBase64Encoded) as API Gateway would pass them, and as it never would.
bodies = st.one_of(
    body_texts.map(_plain),
    body_texts.map(_b64),
    st.binary(max_size=64).map(_b64),  # binary, often not UTF-8
    st.tuples(
        st.integers(MAX_BODY_BYTES - 64, 3 * MAX_BODY_BYTES), st.sampled_from(["x", "\u00e9", "\U0001f6d1"])
    )
    .map(
        lambda n_char: json.dumps(
            {"deploymentId": IN_FLIGHT_ID, "pad": n_char[1] * (n_char[0] // len(n_char[1].encode()))},
            ensure_ascii=False,
        )
    )
    .flatmap(lambda body: st.sampled_from([_plain(body), _b64(body)])),  # around and over 16 KiB
    st.tuples(st.integers(1, 8_000), st.sampled_from(["list", "object", "flag"]))
    .map(lambda d: _deep(*d))
    .flatmap(lambda body: st.sampled_from([_plain(body), _b64(body)])),  # deeply nested, under 16 KiB
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1).map(_plain),  # not UTF-8
    body_texts.map(lambda body: (_b64(body)[0], False)),  # base64 flagged as text
    body_texts.map(lambda body: (body, True)),  # text flagged as base64
    st.tuples(st.none(), st.booleans()),  # no body
    st.just(("", False)),
)


@st.composite
def header_lists(draw: st.DrawFn) -> list[tuple[str, str]] | None:
    if not draw(st.integers(0, 19)):
        return None
    pairs: list[tuple[str, str]] = []
    content_type = draw(
        st.sampled_from(["application/json"] * 4 + [MISSING, *CONTENT_TYPES]) | st.text(max_size=30)
    )
    if content_type is not MISSING:
        pairs.append(("Content-Type", content_type))
    # The same header in other cases, saying something else.
    for name in draw(st.lists(st.sampled_from(["content-type", "CONTENT-TYPE", "Content-type"]), max_size=2)):
        pairs.append((name, draw(st.sampled_from(CONTENT_TYPES) | st.text(max_size=30))))
    names = st.sampled_from(HEADER_NAMES) | st.text(min_size=1, max_size=20)
    pairs += draw(st.lists(st.tuples(names, st.text(max_size=40)), max_size=4))
    return pairs


query_lists = st.lists(st.tuples(st.text(max_size=10), st.text(max_size=10)), max_size=3)


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


@st.composite
def http_events(draw: st.DrawFn) -> dict[str, Any]:
    """An API Gateway REST, HTTP API or Function URL event with every field API Gateway always sends,
    carrying any method, path, headers, query string and body."""
    shape = draw(st.sampled_from(sorted(API_EVENTS)))
    request: dict[str, Any] = sample(API_EVENTS[shape])
    path, route_method = draw(paths)
    method = route_method if draw(st.integers(0, 3)) else draw(methods)
    headers = draw(header_lists())
    query = draw(query_lists)
    body, encoded = draw(bodies)
    context = request["requestContext"]
    if shape == "rest":
        request["httpMethod"] = context["httpMethod"] = method
        request["path"] = path
        context["path"] = "/prod" + path
        request["resource"] = context["resourcePath"] = "/{proxy+}"
        request["pathParameters"] = {"proxy": path.lstrip("/")}
        request["headers"] = None if headers is None else dict(headers)
        request["multiValueHeaders"] = None if headers is None else _multi(headers)
        request["queryStringParameters"] = dict(query) or None
        request["multiValueQueryStringParameters"] = _multi(query) or None
    else:
        request["rawPath"] = path
        context["http"]["method"] = method
        context["http"]["path"] = unquote(path)
        request["routeKey"] = context["routeKey"] = "$default"
        if headers is None:
            del request["headers"]
        else:
            request["headers"] = dict(headers)
        raw_query = draw(st.just(urlencode(query)) | st.text(max_size=30))
        request["rawQueryString"] = raw_query
        if query:
            request["queryStringParameters"] = {k: ",".join(v) for k, v in _multi(query).items()}
    request["body"] = body
    request["isBase64Encoded"] = encoded
    return request


def _method_and_path(request: dict[str, Any]) -> tuple[str, str]:
    if "httpMethod" in request:
        return str(request.get("httpMethod")), str(request.get("path"))
    http = request["requestContext"]["http"]
    return str(http.get("method")), str(request.get("rawPath"))


def _body_text(request: dict[str, Any]) -> str:
    body = request.get("body")
    if not isinstance(body, str):
        return ""
    if request.get("isBase64Encoded"):
        try:
            return base64.b64decode(body).decode(errors="replace")
        except ValueError:
            return ""
    return body


def assert_http_answer(request: dict[str, Any], response: Any) -> None:
    """What every HTTP caller can rely on, whatever the request."""
    assert isinstance(response, dict), f"not an HTTP answer: {response!r}"
    json.dumps(response)  # Lambda must be able to serialise it
    status = response["statusCode"]
    assert isinstance(status, int), f"statusCode {status!r}"
    assert not isinstance(status, bool), f"statusCode {status!r}"
    payload = response.get("body") or ""
    if response.get("isBase64Encoded"):
        payload = base64.b64decode(payload).decode()
    assert status < 500, f"{status} for a healthy CodeDeploy: {payload}"
    error = None
    if status >= 400:
        answer = json.loads(payload)
        assert isinstance(answer, dict), payload
        assert isinstance(answer.get("error"), str), payload
        assert isinstance(answer.get("message"), str), payload
        assert answer["message"], payload
        assert answer["error"] in OUR_ERRORS, payload
        error = answer["error"]
    if error in CHECKED_BEFORE_CALLING:
        assert calls() == [], f"{error} after calling CodeDeploy: {calls()}"
    if stopped():
        method, path = _method_and_path(request)
        assert method.upper() == "POST", method
        assert STOP_ROUTE.fullmatch(path), f"StopDeployment called for {path!r}"
        # Only a stop that CodeDeploy itself refused (it does not know the deployment, or it had
        # completed) may answer anything but 200.
        assert status == 200 or error in ("DeploymentNotFound", "DeploymentAlreadyCompleted"), payload
        asked = (path + _body_text(request)).upper()
        for deployment_id in stopped():
            assert deployment_id.upper() in asked, f"stopped {deployment_id}, which was not asked for"
        # The body was read as the JSON object it must be, and its flag was sent as given
        # (DEFAULT_AUTO_ROLLBACK, true, when it says nothing).
        text = _body_text(request)
        said = json.loads(text) if text.strip() else None
        # Relaxed: a JSON null body counts as no body (the path route's body is optional).
        said = {} if said is None else said
        assert isinstance(said, dict), f"stopped although the body is not a JSON object: {text!r}"
        flag = said.get("autoRollbackEnabled")
        sent = [params["autoRollbackEnabled"] for op, params in calls() if op == "StopDeployment"]
        assert sent == [True if flag is None else flag] * len(sent), f"body said {flag!r}, sent {sent}"
    if status == 200 and stopped():
        assert json.loads(payload)["outcome"] == "stop_requested"


def _rest_event(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = sample("rest-stop.json")
    request.update(changes)
    return request


def _http_api_event(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = sample("http-api-stop.json")
    request.update(changes)
    return request


def _without(request: dict[str, Any], *path: str) -> dict[str, Any]:
    """The event without the field at `path` (e.g. "requestContext", "http", "method")."""
    node = request
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return request


@pytest.mark.filterwarnings("ignore:Received multipart/form-data without base64 encoding")
@fuzz(1000)
@given(request=http_events())
# Found by this test (see the report): nesting deeper than Python's recursion limit, under 16 KiB.
@example(request=_http_api_event(body="[" * 1000 + "]" * 1000))
# Found by this test: a Content-Type that is neither JSON nor a form gets Powertools' own 415 body.
@example(request=_http_api_event(headers={"content-type": "text/plain"}))
# Found by this test: text that is not base64 (non-ASCII) flagged isBase64Encoded raises ValueError.
@example(request=_http_api_event(body="\u0080", isBase64Encoded=True))
# Found by this test: a multipart body with a character outside Latin-1 raises UnicodeEncodeError.
@example(
    request=_http_api_event(
        headers={"content-type": "multipart/form-data; boundary=x"}, body='{"deploymentId": "\u0100"}'
    )
)
# Found by schemathesis: multipart/form-data without a boundary raises ValueError in Powertools.
@example(request=_http_api_event(headers={"content-type": "multipart/form-data"}))
# Found by this invariant: a JSON body sent as multipart/form-data is ignored; the stop goes ahead
# with the default rollback although the body says false.
@example(
    request=_rest_event(
        headers={"Content-Type": "multipart/form-data; boundary=x"},
        multiValueHeaders={"Content-Type": ["multipart/form-data; boundary=x"]},
        body='{"autoRollbackEnabled": false}',
    )
)
def test_given_any_http_request_when_handled_then_an_answer_with_our_error_body_and_no_5xx(
    chatops: Any, lambda_context: Any, request: dict[str, Any]
) -> None:
    reset_deployments()

    response = invoke(request, lambda_context)

    assert_http_answer(request, response)


API_GATEWAY_FIELDS = {
    "rest": [
        "httpMethod",
        "path",
        "resource",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "body",
        "isBase64Encoded",
    ],
    "v2": [
        "version",
        "routeKey",
        "rawPath",
        "rawQueryString",
        "headers",
        "queryStringParameters",
        "cookies",
        "body",
        "isBase64Encoded",
    ],
}


@st.composite
def malformed_http_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid stop event with fields API Gateway always sends removed or of the wrong type, anywhere in
    requestContext or at the top level (a direct invocation can send anything)."""
    shape = draw(st.sampled_from(sorted(API_EVENTS)))
    request: dict[str, Any] = sample(API_EVENTS[shape])
    fields = API_GATEWAY_FIELDS["rest" if shape == "rest" else "v2"]
    top = {name: request.get(name, MISSING) for name in fields}
    top["requestContext"] = request["requestContext"]
    changed = draw(mutated(top))
    return {
        **{k: v for k, v in request.items() if k not in top},
        **{k: v for k, v in changed.items() if v is not MISSING},
    }


def looks_like_http(request: Any) -> bool:
    context = request.get("requestContext")
    return isinstance(context, dict) and ("httpMethod" in request or "http" in context)


@pytest.mark.filterwarnings("ignore:Received multipart/form-data without base64 encoding")
@fuzz(300)
@given(request=malformed_http_events())
# Found by this test: fields read without a check (by Powertools, and by our requester lookup).
@example(request=_http_api_event(body=5))
@example(request=_rest_event(path=None))
@example(request=_without(_http_api_event(), "rawPath"))
@example(request=_without(_http_api_event(), "requestContext", "http", "method"))
@example(request=_without(_http_api_event(), "requestContext", "stage"))
@example(request=_rest_event(requestContext={**sample("rest-stop.json")["requestContext"], "identity": 1}))
def test_given_an_http_event_missing_fields_when_handled_then_still_an_answer_or_invalid_request(
    chatops: Any, lambda_context: Any, request: dict[str, Any]
) -> None:
    reset_deployments()

    response = invoke(request, lambda_context)

    if looks_like_http(request):
        assert_http_answer(request, response)
    else:  # no longer an HTTP event: it is refused like any other unrecognised invocation
        assert isinstance(response, errors.InvalidRequest), repr(response)
        assert calls() == []


# --- 3. alarms: EventBridge, the alarm's Lambda action, SNS ---------------------------------------------

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


@fuzz(600)
@given(alarm=st.sampled_from(ALARM_EVENTS).map(sample).flatmap(mutated))
def test_given_a_mangled_alarm_event_when_handled_then_a_summary_or_invalid_request(
    deployments: Any, lambda_context: Any, configure: Callable[..., None], alarm: Any
) -> None:
    configure(ALARM_TARGETS=ALARM_TARGETS)
    reset_deployments()

    outcome = invoke(alarm, lambda_context)

    assert_alarm_outcome(outcome)


def _sns_message() -> dict[str, Any]:
    message: dict[str, Any] = json.loads(_sample("alarm-sns.json")["Records"][0]["Sns"]["Message"])
    return message


sns_messages = st.one_of(
    st.text(),
    json_values.map(json.dumps),
    st.tuples(st.integers(1, 5_000), st.sampled_from(["list", "object"])).map(lambda d: _deep(*d)),
    mutated(_sns_message()).map(json.dumps),
    st.fixed_dictionaries(
        {
            "AlarmName": st.sampled_from(["kill-switch-checkout-5xx", "", "x" * 256]) | st.text(),
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


# --- 4. Slack -----------------------------------------------------------------------------------------

SLACK_EVENTS = ["slack-command-rest.json", "slack-command-http-api.json"]
SLACK_FORM = {
    "token": "gIkuvaNzQIHg97ATvDxqgjtO",
    "team_id": "T0123ABCD",
    "channel_id": "C0456EFGH",
    "user_id": "U0789IJKL",
    "user_name": "jdoe",
    "command": "/stop-deployment",
}
SLACK_ID = re.compile(r"[A-Z0-9]+")
UNICODE_SPACES = [" ", "  ", "\t", "\n", "\u00a0", "\u2003", "\u3000"]

command_texts = st.one_of(
    st.tuples(
        st.sampled_from(["stop", "status"]),
        st.sampled_from([*KNOWN_IDS, IN_FLIGHT_ID.lower(), "checkout/prod", "payments/prod", "nosuch/prod"]),
        st.lists(st.sampled_from(["--rollback", "--no-rollback"]), max_size=1),
        st.just(" "),
    ).map(lambda t: t[3].join([t[0], t[1], *t[2]])),
    st.tuples(
        st.sampled_from(["stop", "status", "help", "STOP", "Status", "deploy", "", "stop stop"])
        | st.text(max_size=8),
        st.sampled_from(
            [
                *KNOWN_IDS,
                *LOOKALIKE_IDS,
                "checkout/prod",
                "payments/prod",
                "nosuch/prod",
                "checkout/*",
                "a/b/c",
            ]
        )
        | deployment_ids,
        st.lists(
            st.sampled_from(["--rollback", "--no-rollback", "--force", "--", "—no-rollback"]), max_size=2
        ),
        st.sampled_from(UNICODE_SPACES),
    ).map(lambda t: t[3].join([t[0], t[1], *t[2]])),
    st.text(),
)
# Slack IDs are [A-Z0-9]+: near misses too.
form_values = st.one_of(
    st.sampled_from(
        ["T0123ABCD\n", "U0789IJKL ", " C0456EFGH", "u0789ijkl", "U0789-IJKL", "", "\uff35\uff10"]
    ),
    st.text(max_size=30),
)


@st.composite
def slack_forms(draw: st.DrawFn) -> str:
    """A slash-command body: Slack's fields kept, missing or replaced, any text, extra pairs, or not a
    form at all."""
    if not draw(st.integers(0, 9)):
        return draw(st.text())
    pairs: list[tuple[str, str]] = []
    for name, value in SLACK_FORM.items():
        choice = draw(st.sampled_from(["keep"] * 8 + ["drop", "replace"]))
        if choice == "keep":
            pairs.append((name, value))
        elif choice == "replace":
            pairs.append((name, draw(form_values)))
    if draw(st.integers(0, 9)):
        pairs.append(("text", draw(command_texts)))
    pairs += draw(st.lists(st.tuples(st.text(max_size=10), form_values), max_size=3))
    pairs = draw(st.permutations(pairs))
    return urlencode(pairs)


def slack_event(name: str, body: str, headers: dict[str, str]) -> dict[str, Any]:
    """The events/ file with this raw body (base64 kept as the file has it) and these Slack headers."""
    request: dict[str, Any] = sample(name)
    request["body"] = base64.b64encode(body.encode()).decode() if request.get("isBase64Encoded") else body
    kept = {k: v for k, v in request["headers"].items() if not k.lower().startswith("x-slack-")}
    request["headers"] = {**kept, **headers}
    if "multiValueHeaders" in request:
        request["multiValueHeaders"] = {k: [v] for k, v in request["headers"].items()}
    return request


def slack_signature(body: str, timestamp: str, secret: str = TEST_SIGNING_SECRET) -> str:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(body: str, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": slack_signature(body, stamp)}


def slack_reply(response: Any) -> dict[str, Any]:
    assert isinstance(response, dict), repr(response)
    assert response["statusCode"] == 200, response.get("body")
    message: dict[str, Any] = json.loads(response["body"])
    assert message["response_type"] in ("ephemeral", "in_channel"), message
    assert isinstance(message["text"], str), message
    assert message["text"].strip(), message
    return message


def allowed_calls(
    body: str,
) -> slack_command.StopDeployment | slack_command.StopGroup | slack_command.Status | None:
    """The oracle: what the command may touch (None: nothing at all)."""
    form = dict(parse_qsl(body, keep_blank_values=True))
    if not all(SLACK_ID.fullmatch(form.get(name, "")) for name in ("team_id", "channel_id", "user_id")):
        return None
    asked = slack_command.parse(form.get("text", ""))
    if isinstance(asked, slack_command.Help):
        return None
    return asked


@fuzz(500)
@given(name=st.sampled_from(SLACK_EVENTS), body=slack_forms())
@example(
    name="slack-command-rest.json", body=urlencode({**SLACK_FORM, "text": "stop d-lgums25cc --no-rollback"})
)
@example(name="slack-command-rest.json", body=urlencode({**SLACK_FORM, "text": "stop checkout/prod"}))
def test_given_a_signed_slash_command_with_any_form_when_handled_then_a_slack_reply_and_only_what_it_asked(
    chatops: Any, lambda_context: Any, name: str, body: str
) -> None:
    reset_deployments()
    allowed = allowed_calls(body)

    message = slack_reply(invoke(slack_event(name, body, signed_headers(body)), lambda_context))

    if allowed is None:
        assert calls() == [], "a command that asked for nothing reached CodeDeploy"
        assert message["response_type"] == "ephemeral"
        return
    if isinstance(allowed, slack_command.Status):
        assert stopped() == []
        assert message["response_type"] == "ephemeral"
    elif isinstance(allowed, slack_command.StopDeployment):
        assert set(stopped()) <= {allowed.deployment_id}
        flag = allowed.auto_rollback
        sent = {params["autoRollbackEnabled"] for op, params in calls() if op == "StopDeployment"}
        assert sent <= {True if flag is None else flag}, f"asked for rollback {flag}, sent {sent}"
    else:
        in_group = {"checkout/prod": {IN_FLIGHT_ID, QUEUED_ID}, "payments/prod": {OTHER_TEAM_ID}}
        assert set(stopped()) <= in_group.get(str(allowed.target), set())


FORGERIES = [
    "unsigned",
    "no signature",
    "no timestamp",
    "junk signature",
    "hex signature",
    "other secret",
    "tampered",
    "stale",
    "future",
    "junk timestamp",
]


@st.composite
def forged_requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str | int]]:
    body = draw(slack_forms() | st.just(urlencode({**SLACK_FORM, "text": f"stop {IN_FLIGHT_ID}"})))
    how = draw(st.sampled_from(FORGERIES))
    now = int(time.time())
    headers: dict[str, str | int] = {**signed_headers(body)}
    if how == "unsigned":
        headers = {}
    elif how == "no signature":
        del headers["X-Slack-Signature"]
    elif how == "no timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif how == "junk signature":
        headers["X-Slack-Signature"] = draw(st.text(max_size=80))
    elif how == "hex signature":
        headers["X-Slack-Signature"] = "v0=" + draw(
            st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
        )
    elif how == "other secret":
        secret = draw(st.text(min_size=1).filter(lambda s: s != TEST_SIGNING_SECRET))
        headers["X-Slack-Signature"] = slack_signature(
            body, str(headers["X-Slack-Request-Timestamp"]), secret
        )
    elif how == "tampered":  # signed, then the body changed
        body = (
            draw(st.text().filter(lambda b: b != body))
            if draw(st.booleans())
            else body + draw(st.text(min_size=1))
        )
    elif how in ("stale", "future"):
        age = draw(st.integers(301, 10**9)) * (1 if how == "stale" else -1)
        headers = {**signed_headers(body, now - age)}
    else:  # a timestamp that is not a number, signed correctly over it
        stamp = draw(
            st.text(max_size=20).filter(lambda s: not s.strip().lstrip("+-").replace("_", "").isdecimal())
        )
        headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": slack_signature(body, stamp)}
    name = draw(st.sampled_from(SLACK_EVENTS))
    return name, body, headers


@fuzz(400)
@given(forged=forged_requests())
# Found by this test: a signature with a non-ASCII character makes hmac.compare_digest raise TypeError.
@example(
    forged=(
        "slack-command-rest.json",
        "text=help",
        {"X-Slack-Request-Timestamp": 0, "X-Slack-Signature": "\u00e9"},  # 0: now, when it runs
    )
)
def test_given_an_unsigned_or_forged_slash_command_when_handled_then_401_and_nothing_called(
    chatops: Any, lambda_context: Any, forged: tuple[str, str, dict[str, str | int]]
) -> None:
    reset_deployments()
    name, body, given_headers = forged
    # A timestamp given as a number is seconds from now (the examples above are written down once).
    now = int(time.time())
    headers = {k: str(now + v) if isinstance(v, int) else v for k, v in given_headers.items()}

    response = invoke(slack_event(name, body, headers), lambda_context)

    assert isinstance(response, dict), repr(response)
    assert response["statusCode"] == 401, response.get("body")
    assert json.loads(response["body"])["error"] == "SlackSignatureInvalid"
    assert calls() == []
