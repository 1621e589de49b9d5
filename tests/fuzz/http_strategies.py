"""HTTP requests of every shape (REST v1, HTTP API v2, Function URL) and what every HTTP caller can rely
on, for tests/fuzz/test_http.py; a helper module, not a test module."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote, unquote, urlencode

from hypothesis import strategies as st

from local.world import IN_FLIGHT_ID
from stop_deployment import errors
from tests.fuzz.strategies import (
    KNOWN_IDS,
    MISSING,
    calls,
    deep_json,
    deployment_ids,
    json_values,
    mutated,
    sample,
    stop_payloads,
    stopped,
)

MAX_BODY_BYTES = 16 * 1024
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
    .map(lambda d: deep_json(*d))
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


def rest_event(**changes: Any) -> dict[str, Any]:
    """events/rest-stop.json with these top-level fields changed."""
    request: dict[str, Any] = sample("rest-stop.json")
    request.update(changes)
    return request


def http_api_event(**changes: Any) -> dict[str, Any]:
    """events/http-api-stop.json with these top-level fields changed."""
    request: dict[str, Any] = sample("http-api-stop.json")
    request.update(changes)
    return request


def without(request: dict[str, Any], *path: str) -> dict[str, Any]:
    """The event without the field at `path` (e.g. "requestContext", "http", "method")."""
    node = request
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return request


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


# --- the oracle ---------------------------------------------------------------------------------------


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
