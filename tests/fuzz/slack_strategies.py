"""Slash-command bodies of every shape, signed and forged, and what a command may touch, for
tests/fuzz/test_slack.py; a helper module, not a test module.

The signing here works on the raw body as drawn (local.slack.signed re-encodes a parsed form, which
would change a body that is not a well-formed form) and can sign with any secret or timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from hypothesis import strategies as st

from local.slack import TEST_SIGNING_SECRET
from local.world import CHECKOUT, IN_FLIGHT_ID, PAYMENTS
from stop_deployment.triggers.slack import command as slack_command
from tests.fuzz.strategies import KNOWN_IDS, LOOKALIKE_IDS, deployment_ids, sample

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
        st.sampled_from([*KNOWN_IDS, IN_FLIGHT_ID.lower(), CHECKOUT, PAYMENTS, "nosuch/prod"]),
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
                CHECKOUT,
                PAYMENTS,
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


# --- the oracles --------------------------------------------------------------------------------------


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
    never_calls_codedeploy = (
        slack_command.Help | slack_command.FreezeGroup | slack_command.Unfreeze | slack_command.ListFreezes
    )
    if isinstance(asked, never_calls_codedeploy):
        return None
    return asked
