"""Sign Slack slash-command events at run time: signatures expire after 5 minutes, so the events/
files carry placeholders and the tests and the demo sign them with a test secret."""

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

TEST_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # a test value, not a real Slack app's


def signed(
    event: dict[str, Any],
    *,
    text: str | None = None,
    secret: str = TEST_SIGNING_SECRET,
    timestamp: int | None = None,
    **fields: str,
) -> dict[str, Any]:
    """A copy of a REST v1 or HTTP API v2 slash-command event with `text` (and other form fields)
    replaced, signed with `secret` at `timestamp` (now by default), base64 kept as the event had it."""
    event = dict(event)
    raw = event["body"]
    encoded = bool(event.get("isBase64Encoded"))
    form = dict(parse_qsl(base64.b64decode(raw).decode() if encoded else raw, keep_blank_values=True))
    if text is not None:
        form["text"] = text
    form.update(fields)
    body = urlencode(form)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    event["body"] = base64.b64encode(body.encode()).decode() if encoded else body
    for key in ("headers", "multiValueHeaders"):  # REST v1 carries both; keep them in step
        if not event.get(key):
            continue
        headers = event[key] = dict(event[key])
        names = {name.lower(): name for name in headers}
        for name, value in (("X-Slack-Request-Timestamp", stamp), ("X-Slack-Signature", f"v0={digest}")):
            headers[names.get(name.lower(), name)] = [value] if key == "multiValueHeaders" else value
    return event
