"""Slack, locally: sign slash-command and interaction events at run time (signatures expire after
5 minutes, so the events/ files carry placeholders and the tests and the demo sign them with a test
secret), and a stand-in for Slack's response_url on 127.0.0.1 that keeps what is posted to it."""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
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
    encoded = bool(event.get("isBase64Encoded"))
    form = form_of(event)
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


def form_of(event: dict[str, Any]) -> dict[str, str]:
    """The form a slash-command or interaction event carries (base64 undone)."""
    raw = event["body"]
    return dict(
        parse_qsl(
            base64.b64decode(raw).decode() if event.get("isBase64Encoded") else raw, keep_blank_values=True
        )
    )


@dataclass
class ResponseUrl:
    """A local response_url: `url` to put in a command, `host` for SLACK_EXTRA_RESPONSE_HOSTS, and
    the messages posted to it, in order."""

    url: str
    host: str
    received: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def response_url() -> Iterator[ResponseUrl]:
    """A stand-in for Slack's response_url on 127.0.0.1 (a free port), for as long as the block runs."""
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    try:
        yield ResponseUrl(
            f"http://127.0.0.1:{port}/commands/T0123ABCD/1/secret", f"127.0.0.1:{port}", received
        )
    finally:
        server.shutdown()
        server.server_close()
