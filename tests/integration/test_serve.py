"""`make serve`: HTTP requests become HTTP API events and go through lambda_handler."""

import asyncio
import json
from typing import Any

from local.serve import app
from local.world import IN_FLIGHT_ID, status_of


def request(method: str, path: str, body: bytes = b"", content_type: str = "application/json") -> Any:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(b"content-type", content_type.encode())],
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_served_stop_stops_the_deployment_and_names_the_local_caller(seeded: Any) -> None:
    status, body = request("POST", f"/deployments/{IN_FLIGHT_ID}/stop", b'{"autoRollbackEnabled": false}')

    assert status == 200
    assert body["autoRollbackEnabled"] is False
    assert status_of(IN_FLIGHT_ID) == "Stopped"


def test_served_errors_keep_our_error_body(seeded: Any) -> None:
    status, body = request("POST", "/stop", b"\xff\xfe not json")

    assert status == 400
    assert body["error"] == "InvalidRequest"
