"""Fuzzing the HTTP way in (REST v1, HTTP API v2, Function URL): our error body, no 5xx, no stray stop."""

from typing import Any

import pytest
from hypothesis import example, given

from stop_deployment import errors
from tests.fuzz.http_strategies import (
    assert_http_answer,
    http_api_event,
    http_events,
    looks_like_http,
    malformed_http_events,
    rest_event,
    without,
)
from tests.fuzz.strategies import calls, fuzz, invoke, reset_deployments, sample


@pytest.mark.filterwarnings("ignore:Received multipart/form-data without base64 encoding")
@fuzz(1000)
@given(request=http_events())
# Found by this test (see the report): nesting deeper than Python's recursion limit, under 16 KiB.
@example(request=http_api_event(body="[" * 1000 + "]" * 1000))
# Found by this test: a Content-Type that is neither JSON nor a form gets Powertools' own 415 body.
@example(request=http_api_event(headers={"content-type": "text/plain"}))
# Found by this test: text that is not base64 (non-ASCII) flagged isBase64Encoded raises ValueError.
@example(request=http_api_event(body="\u0080", isBase64Encoded=True))
# Found by this test: a multipart body with a character outside Latin-1 raises UnicodeEncodeError.
@example(
    request=http_api_event(
        headers={"content-type": "multipart/form-data; boundary=x"}, body='{"deploymentId": "\u0100"}'
    )
)
# Found by schemathesis: multipart/form-data without a boundary raises ValueError in Powertools.
@example(request=http_api_event(headers={"content-type": "multipart/form-data"}))
# Found by this invariant: a JSON body sent as multipart/form-data is ignored; the stop goes ahead
# with the default rollback although the body says false.
@example(
    request=rest_event(
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


@pytest.mark.filterwarnings("ignore:Received multipart/form-data without base64 encoding")
@fuzz(300)
@given(request=malformed_http_events())
# Found by this test: fields read without a check (by Powertools, and by our requester lookup).
@example(request=http_api_event(body=5))
@example(request=rest_event(path=None))
@example(request=without(http_api_event(), "rawPath"))
@example(request=without(http_api_event(), "requestContext", "http", "method"))
@example(request=without(http_api_event(), "requestContext", "stage"))
@example(request=rest_event(requestContext={**sample("rest-stop.json")["requestContext"], "identity": 1}))
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
