"""An HTTP request as every HTTP way in reads it, from REST (v1), HTTP API (v2) or Function URL events.

The one place that reads the event: the envelope is schema-checked first (anyone allowed to invoke
the function directly can send anything HTTP-shaped), then the body is decoded and size-checked
once, and the request context gives the caller's IAM ARN, the request id and the source IP.
Powertools' event data classes would read the same fields but cost about 17 ms of cold start (their
package imports every event type), so the schema-checked dict is read directly.
"""

import base64
import json
from dataclasses import dataclass
from typing import Any, Literal

from ...errors import InvalidRequest, PayloadTooLarge
from ...validation import check

Kind = Literal["rest", "http"]  # REST v1; HTTP API v2 and Function URLs share a shape
MAX_BODY_BYTES = 16 * 1024


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_OBJECT = {"type": "object"}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_STRING_LISTS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
_BODY = {"body": _nullable({"type": "string"}), "isBase64Encoded": {"type": "boolean"}}
_IDENTITY = _nullable({"type": "object", "properties": {"userArn": _nullable({"type": "string"})}})
# The envelope fields this module reads, with the types it relies on.
REST_EVENT_SCHEMA = {
    "type": "object",
    "required": ["httpMethod", "path", "requestContext"],
    "properties": {
        "httpMethod": {"type": "string"},
        "path": {"type": "string"},
        "headers": _nullable(_STRINGS),
        "multiValueHeaders": _nullable(_STRING_LISTS),
        "queryStringParameters": _nullable(_STRINGS),
        **_BODY,
        "requestContext": {
            "type": "object",
            "properties": {
                "requestId": {"type": "string"},
                "identity": _nullable(
                    {
                        "type": "object",
                        "properties": {
                            "userArn": _nullable({"type": "string"}),
                            "sourceIp": _nullable({"type": "string"}),
                        },
                    }
                ),
                "authorizer": _nullable(_OBJECT),
            },
        },
    },
}
HTTP_EVENT_SCHEMA = {
    "type": "object",
    "required": ["rawPath", "requestContext"],
    "properties": {
        "rawPath": {"type": "string"},
        "headers": _STRINGS,
        "queryStringParameters": _nullable(_STRINGS),
        **_BODY,
        "requestContext": {
            "type": "object",
            "required": ["http", "stage"],
            "properties": {
                "requestId": {"type": "string"},
                "http": {
                    "type": "object",
                    "required": ["method", "path"],
                    "properties": {
                        "method": {"type": "string"},
                        "path": {"type": "string"},
                        "sourceIp": _nullable({"type": "string"}),
                    },
                },
                "stage": {"type": "string"},
                "authorizer": _nullable({"type": "object", "properties": {"iam": _IDENTITY}}),
            },
        },
    },
}


@dataclass(frozen=True)
class HttpRequest:
    kind: Kind
    method: str  # upper case
    path: str  # without the HTTP API stage
    headers: dict[str, str]  # names in lower case
    query: dict[str, str]  # the query string's parameters (a repeated one: as API Gateway gives it)
    body: str  # decoded: base64 undone, at most MAX_BODY_BYTES of UTF-8
    request_id: str | None
    requester: str | None  # the IAM caller's ARN, when the route is IAM-authorised
    source_ip: str | None

    def json(self) -> Any:
        """The body as JSON (None when empty); InvalidRequest for a body that is not JSON."""
        if not self.body.strip():
            return None
        content_type = self.headers.get("content-type")
        if content_type and content_type.split(";")[0].strip().lower() != "application/json":
            # A form or multipart body read as JSON could change what the request means.
            raise InvalidRequest(
                f"the request body must be JSON sent as Content-Type: application/json, not {content_type}"
            )
        try:
            return json.loads(self.body)
        except RecursionError:
            raise InvalidRequest("the request body is JSON nested too deeply") from None
        except ValueError:
            raise InvalidRequest("the request body is not valid JSON") from None


def request_id(event: dict[str, Any]) -> str | None:
    """The API's request id, for error bodies: read even from an event whose envelope is invalid."""
    context = event.get("requestContext")
    found = context.get("requestId") if isinstance(context, dict) else None
    return found if isinstance(found, str) else None


def parse(event: dict[str, Any], kind: Kind) -> HttpRequest:
    """The request an event carries; InvalidRequest or PayloadTooLarge when it cannot be read."""
    context = event["requestContext"]
    if kind == "rest":
        check("REST API event", REST_EVENT_SCHEMA, event)
        identity = context.get("identity") or {}
        method, path = event["httpMethod"], event["path"].rstrip("/") or "/"  # REST allows a trailing /
        requester, source_ip = identity.get("userArn"), identity.get("sourceIp")
    else:
        check("HTTP API event", HTTP_EVENT_SCHEMA, event)
        method, path = context["http"]["method"], _without_stage(event["rawPath"], context["stage"])
        requester = ((context.get("authorizer") or {}).get("iam") or {}).get("userArn")
        source_ip = context["http"].get("sourceIp")
    return HttpRequest(
        kind=kind,
        method=method.upper(),
        path=path,
        headers={name.lower(): value for name, value in (event.get("headers") or {}).items()},
        query=dict(event.get("queryStringParameters") or {}),
        body=_decoded_body(event),
        request_id=request_id(event),
        requester=requester,
        source_ip=source_ip,
    )


def _without_stage(raw_path: str, stage: str) -> str:
    # An HTTP API's named stage prefixes the path; $default (and Function URLs) do not.
    prefix = f"/{stage}"
    if stage != "$default" and (raw_path == prefix or raw_path.startswith(prefix + "/")):
        return raw_path[len(prefix) :] or "/"
    return raw_path


def _decoded_body(event: dict[str, Any]) -> str:
    body = event.get("body") or ""
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the request body is over {MAX_BODY_BYTES // 1024} KiB")
        return raw.decode()
    except (ValueError, UnicodeError):  # binascii.Error is a ValueError
        raise InvalidRequest(
            "the request body is not UTF-8 text (or not valid base64 when flagged so)"
        ) from None
