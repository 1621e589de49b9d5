"""`make serve`: the HTTP API on http://127.0.0.1:3000 against the local CodeDeploy.

Each HTTP request becomes an HTTP API (v2) event and goes through `lambda_handler`, exactly as in
Lambda: validation, error mapping, logs and all. The local CodeDeploy listens on 127.0.0.1:5000
(the address events/env.json gives `sam local invoke`) and is seeded with local/world.py, as in the demo,
with the stop ledger table and the notification topic.
"""

import base64
import os
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import boto3

from local import aws, fake_codedeploy, world
from local.context import LambdaContext

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

LOCAL_CALLER_ARN = "arn:aws:iam::123456789012:user/local-developer"


def http_api_event(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    """The HTTP API v2 event API Gateway would send for this request, signed by a local IAM user."""
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "authorizer": {"iam": {"accountId": "123456789012", "userArn": LOCAL_CALLER_ARN}},
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": text or None,
        "isBase64Encoded": encoded,
    }


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app around lambda_handler (also what schemathesis can drive)."""
    from stop_deployment.handler import lambda_handler

    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
    event = http_api_event(scope["method"], scope["path"], scope["query_string"].decode(), headers, body)
    response = lambda_handler(event, LambdaContext())
    payload = response.get("body") or ""
    raw = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
    await send(
        {
            "type": "http.response.start",
            "status": response["statusCode"],
            "headers": [(k.encode(), str(v).encode()) for k, v in (response.get("headers") or {}).items()],
        }
    )
    await send({"type": "http.response.body", "body": raw})


def main() -> None:
    import uvicorn

    server, url = fake_codedeploy.start_server(port=5000)
    os.environ.update(aws.environment(url), SLACK_SIGNING_SECRET_PARAM=world.SLACK_SECRET_PARAM)
    in_flight = world.seed(boto3.client("codedeploy"))
    # The ledger and topic events/env.json names, for `sam local invoke` against this server.
    os.environ.update(STOPS_TABLE=world.seed_stops_table(), NOTIFY_TOPIC_ARN=world.seed_notify_topic()[0])
    print(f"Local CodeDeploy on {url}; deployments in flight: {', '.join(in_flight)}")
    print(f"Try: curl -X POST http://127.0.0.1:3000/deployments/{in_flight[0]}/stop")
    try:
        uvicorn.run(app, host="127.0.0.1", port=3000, log_level="warning")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
