"""Slack as the function running in Lambda sees it: the commands someone types, the work it hands over
to itself, the prompts it shows and the clicks on them (a helper module, not a test module, so the
Slack test modules share it; their fixtures are in tests/integration/conftest.py)."""

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from local import fake_codedeploy
from local.context import LambdaContext
from local.slack import ResponseUrl, signed
from local.world import IN_FLIGHT_ID, QUEUED_ID, deliver_invocations, load_event, status_of
from stop_deployment.handler import lambda_handler
from stop_deployment.triggers.slack import deferral
from stop_deployment.triggers.slack.authorise import Sender
from stop_deployment.triggers.slack.messages import CONFIRM_ACTION

FUNCTION = "stop-deployment-local"
USER = "<@U0789IJKL>"  # the user of events/slack-command-rest.json and events/slack-interaction.json
SENDER = Sender("T0123ABCD", "C0456EFGH", "U0789IJKL", "jdoe")  # the command's team, channel, user
SHOWN = (IN_FLIGHT_ID, QUEUED_ID)  # what is in flight in checkout/prod


class Slack:
    """Where the command's answers go (`command`) and where the clicks' go (`clicks`): Slack gives
    each interaction a response_url of its own."""

    def __init__(self, command: ResponseUrl, clicks: ResponseUrl) -> None:
        self.command, self.clicks = command, clicks


# --- commands and the work they hand over ----------------------------------------------------------------


def say(text: str, url: str) -> dict[str, Any]:
    """What Slack shows at once after someone typed `text` (a signed REST v1 slash command)."""
    event = signed(load_event("slack-command-rest.json"), text=text, response_url=url)
    response = lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    message: dict[str, Any] = json.loads(response["body"])
    assert message["text"]
    assert message["blocks"][0]["text"]["type"] == "mrkdwn"
    return message


def operations() -> list[str]:
    return [call.operation for call in fake_codedeploy.calls()]


def stops() -> list[str]:
    return [c.params["deploymentId"] for c in fake_codedeploy.calls() if c.operation == "StopDeployment"]


def work(text: str, url: str, issued_at: int | None = None) -> dict[str, Any]:
    """A command handed over as the route does it (deferral's own payload, signed with the app's
    secret), issued at `issued_at` (now by default)."""
    handed = deferral.Work("command", SENDER, url, text=text)
    return deferral._payload(handed, int(time.time()) if issued_at is None else issued_at)


def resign(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload signed again as it now is: a forger who knows the secret, or a test making a field
    consistent with its signature."""
    return {**payload, "signature": deferral._signature(payload[deferral.WORK_KEY])}


# --- prompts and the clicks on them ----------------------------------------------------------------------


def prompted(slack: Slack, text: str = "stop checkout/prod") -> tuple[dict[str, Any], str]:
    """Type `text`, let Lambda deliver the work; the prompt that replaced the acknowledgement, and the
    key its buttons carry."""
    ack = say(text, slack.command.url)
    asked = " ".join(word for word in text.split() if not word.startswith("--"))  # as echoed
    assert f"Looking up what `{asked}` would stop" in ack["text"]
    deliver_invocations()
    prompt = slack.command.received[-1]
    assert prompt["replace_original"] is True
    confirm, cancel = prompt["blocks"][-1]["elements"]
    assert confirm["value"] == cancel["value"]
    return prompt, str(confirm["value"])


def interaction_payload() -> dict[str, Any]:
    """The block_actions payload of events/slack-interaction.json."""
    event = load_event("slack-interaction.json")
    form = dict(parse_qsl(base64.b64decode(event["body"]).decode()))
    payload: dict[str, Any] = json.loads(form["payload"])
    return payload


def interaction(payload: Any, **options: Any) -> dict[str, Any]:
    """events/slack-interaction.json carrying `payload` (JSON-encoded unless a str), signed now."""
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return signed(load_event("slack-interaction.json"), payload=raw, **options)


def click(slack: Slack, key: str, action_id: str = CONFIRM_ACTION, user_id: str = "U0789IJKL") -> None:
    """Someone clicks a button of the prompt `key`: Slack gets its empty 200 at once (what the click
    does comes later, through the click's response_url)."""
    payload = interaction_payload()
    payload["actions"][0].update(action_id=action_id, value=key)
    payload["user"]["id"] = user_id
    payload["response_url"] = slack.clicks.url
    response = lambda_handler(interaction(payload), LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    assert response["body"] == ""


def rollback_in_flight(client: Any) -> str:
    """A rollback running in checkout/prod: CodeDeploy's own, for a deployment stopped before."""
    fake_codedeploy.set_rollback_result("Succeeded", after=3600)
    stopped = fake_codedeploy.create_deployment(client, "checkout", "prod")
    client.stop_deployment(deploymentId=stopped, autoRollbackEnabled=True)
    info = client.get_deployment(deploymentId=stopped)["deploymentInfo"]
    rollback = str(info["rollbackInfo"]["rollbackDeploymentId"])
    assert status_of(rollback) == "InProgress"
    fake_codedeploy.take_events()
    fake_codedeploy.clear_calls()
    return rollback
