"""The fourth part of `make demo`: Slack that is never late and asks before a big stop. A local
receiver on 127.0.0.1 stands in for Slack's response_url and prints what it receives; the local
Lambda queues the function's asynchronous invocations of itself, and the demo delivers them as Lambda
would, after the answer Slack waited for.

A stop is acknowledged at once while CodeDeploy takes 2 seconds, and its result replaces the
acknowledgement; `stop checkout/prod` answers with what would be stopped and a button; a deployment
that starts after the prompt is not stopped by the click; a second click does nothing; the stops'
follow-ups arrive in the same conversation.
"""

import json
import os
import time
from typing import Any

from local import fake_codedeploy, slack, world
from local.demo import Step, captured_logs, run_step
from local.demo_loop import STOP_DELAY_SECONDS, deliver_events, new_deployment, show_notifications

SLOW_CODEDEPLOY_SECONDS = 2.0


def run(first_number: int, queue: str) -> list[bool]:
    with slack.response_url() as stand_in:
        settings = {
            # As Lambda sets it: Slack's work is handed over to an asynchronous invocation.
            "AWS_LAMBDA_FUNCTION_NAME": "stop-deployment-local",
            "SLACK_EXTRA_RESPONSE_HOSTS": stand_in.host,
        }
        os.environ.update(settings)
        try:
            return _steps(first_number, queue, stand_in)
        finally:
            for name in settings:
                del os.environ[name]


def _steps(first_number: int, queue: str, stand_in: slack.ResponseUrl) -> list[bool]:
    print(f"\nSlack, never late: a stand-in for Slack's response_url listens on {stand_in.host}")
    number = iter(range(first_number, first_number + 5))
    fake_codedeploy.advance()
    fake_codedeploy.take_events()  # the earlier parts' stops: their follow-ups were shown there
    deployment_id = new_deployment()
    fake_codedeploy.set_latency(SLOW_CODEDEPLOY_SECONDS, "StopDeployment")
    try:
        started = time.perf_counter()
        acknowledged = _command(next(number), f"stop {deployment_id} while StopDeployment takes 2 s",
                                f"stop {deployment_id}", stand_in)  # fmt: skip
        print(
            f"   answered in {(time.perf_counter() - started) * 1000:.0f} ms; the stop runs after the answer"
        )
        posts = _deliver(stand_in)
    finally:
        fake_codedeploy.set_latency(0, "StopDeployment")
    results = [acknowledged and any(f"stopped `{deployment_id}`" in p["text"] for p in posts)]
    show_notifications(queue)
    time.sleep(STOP_DELAY_SECONDS)  # the stop lands before the next command looks at the group
    fake_codedeploy.advance()

    asked = _command(next(number), "stop checkout/prod asks first", "stop checkout/prod", stand_in)
    prompt = _deliver(stand_in)[-1]
    shown = prompt["blocks"][1]["elements"][0]["text"].count("`d-")
    key = prompt["blocks"][-1]["elements"][0]["value"]
    late = new_deployment()
    print(f"\n   ({late} starts in checkout/prod after the prompt)")
    results.append(asked and f"Stop {shown} deployment" in json.dumps(prompt))

    clicked = _click(next(number), "A click on the prompt's button stops what it showed", key, stand_in)
    outcome = _deliver(stand_in)
    show_notifications(queue)
    results.append(clicked and len(outcome) == 1 and f"`{late}` not confirmed" in outcome[0]["text"])
    results.append(
        _click(next(number), "The same click again (a double click): nothing more", key, stand_in)
        and _deliver(stand_in) == []
    )
    print("\n   The stops' follow-ups, in the same conversation:")
    deliver_events(queue)
    follow_ups = _received(stand_in)
    results.append(sum("stopped; rollback" in p["text"] for p in follow_ups) == 1 + shown)
    return results


def _command(number: int, title: str, text: str, stand_in: slack.ResponseUrl) -> bool:
    url = f"{stand_in.url}/{number}"  # Slack gives each command a response_url of its own
    return run_step(
        number,
        Step(
            f"Slack: {title}",
            "slack-command-rest.json",
            "200",
            fresh=False,
            prepare=lambda event: slack.signed(event, text=text, response_url=url),
        ),
    )


def _click(number: int, title: str, key: str, stand_in: slack.ResponseUrl) -> bool:
    def clicked(event: dict[str, Any]) -> dict[str, Any]:
        payload = json.loads(slack.form_of(event)["payload"])
        payload["actions"][0]["value"] = key
        payload["response_url"] = f"{stand_in.url}/{number}"  # each click has a response_url of its own
        return slack.signed(event, payload=json.dumps(payload))

    return run_step(
        number, Step(f"Slack: {title}", "slack-interaction.json", "200", fresh=False, prepare=clicked)
    )


def _deliver(stand_in: slack.ResponseUrl) -> list[dict[str, Any]]:
    """Deliver the function's asynchronous invocations of itself, as Lambda would; what Slack got."""
    with captured_logs():  # the posts below say what the work did
        for result in world.deliver_invocations():
            print(f"   handed over, then ran: {json.dumps(result) if isinstance(result, dict) else result!r}")
    return _received(stand_in)


def _received(stand_in: slack.ResponseUrl) -> list[dict[str, Any]]:
    posts = list(stand_in.received)
    stand_in.received.clear()
    for post in posts:
        how = "replaces the message" if post.get("replace_original") else "posts"
        print(f"   slack    {how} ({post['response_type']}): {post['text'].splitlines()[0]}")
        for line in post["text"].splitlines()[1:]:
            print(f"                     {line}")
        buttons = [
            e["text"]["text"] for b in post.get("blocks", []) if b["type"] == "actions" for e in b["elements"]
        ]
        if buttons:
            print(f"            buttons: {' | '.join(f'[{b}]' for b in buttons)}")
    return posts
