"""Slack's 3 seconds: a signed slash command `stop d-…` answered while CodeDeploy takes LATENCY (5 s) to
answer every operation, so that any CodeDeploy call in the request would show, beside a bare boto3
process doing the two calls the acknowledgement cannot skip.

As in Lambda (AWS_LAMBDA_FUNCTION_NAME set, the response_url one replies may be posted to: the local
stand-in, listed in SLACK_EXTRA_RESPONSE_HOSTS), the command is verified with the signing secret, parsed,
acknowledged at once, and the stop handed to an asynchronous invocation of the function (Lambda Invoke,
InvocationType Event, which the local Lambda queues and answers 202). Cases, interleaved in each round:

- the signing secret in Parameter Store (`slack`) and in Secrets Manager (`slack-secrets-manager`): a
  fresh Python process (as Lambda starts one) handles one command (cold), then WARM_INVOCATIONS / rounds
  more (warm: the same process handling the command again);
- the baseline, a fresh process of its own: it imports boto3, reads the parameter (SSM GetParameter) and
  makes one asynchronous Invoke (cold), then one Invoke per further run (warm: the handler keeps the
  secret for 5 minutes, so a warm acknowledgement reads nothing either).

Cold runs from just before the process is spawned (the command already signed, then written to its
stdin) until lambda_handler returns the acknowledgement (the process notes time.time() then): the
interpreter's start, the imports, the secret read, the Invoke. Warm is lambda_handler's own time
(perf_counter around the call). Every run as deployed: the stop ledger and the notification topic set.

Every acknowledgement is checked: a 200 with an in_channel message saying `stopping d-…`, no CodeDeploy
call received while the command was handled, and exactly one asynchronous invocation queued, carrying
that command. That invocation is then delivered (not timed, CodeDeploy answering at once) to a worker
process running the same function, which must stop the deployment with one StopDeployment and post the
result to the response_url. How soon the stop is sent after the answer is not measured: it is when Lambda
delivers the invocation, which the bench plays.

The previous behaviour is measured once in the same run: the same command outside Lambda
(AWS_LAMBDA_FUNCTION_NAME unset), where the stop runs in the request. Its CodeDeploy client gives up on
a call after 3 s and tries 3 times, so the answer comes about 10 s later, and says the stop timed out.
"""

import contextlib
import json
import math
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3

from bench import worker
from bench.coldstart import SECRET_NAME, child_environment
from local import fake_codedeploy
from local.fake_aws import lambda_ as fake_lambda
from local.slack import TEST_SIGNING_SECRET, ResponseUrl, response_url, signed
from local.world import SLACK_SECRET_PARAM, load_event, seed_slack_secret

LATENCY = 5.0  # seconds before the local CodeDeploy answers any operation while a command is handled
COLD_TARGET_MS = 3000.0  # Slack's window
WARM_TARGET_MS = 1000.0
WARM_INVOCATIONS = 20  # at least, over the rounds' processes
ROUNDS_AT_MOST = 7  # about 2 s a round, and 10 s for the command outside Lambda: under a minute
FUNCTION = "stop-deployment-bench"  # AWS_LAMBDA_FUNCTION_NAME: the function invokes itself by it
APPLICATION = "bench-slack"
PATHS = ("slack", "slack-secrets-manager")
READY = "READY\n"  # a handler worker's line once imported: awaited only for the deliverer
# Each worker runs once per line it reads on stdin (an event) and reports: the handler's answer, when
# it returned (time.time()) and how long the call took (perf_counter).
HANDLER = """
import json, sys, time
from local.context import LambdaContext
from stop_deployment.handler import lambda_handler
print("READY", file=sys.stderr, flush=True)
for line in sys.stdin:
    event = json.loads(line)
    started = time.perf_counter()
    response = lambda_handler(event, LambdaContext())
    seconds, returned = time.perf_counter() - started, time.time()
    print("BENCH", json.dumps({"seconds": seconds, "returned": returned, "response": response}),
          file=sys.stderr, flush=True)
"""
BASELINE = """
import json, sys, time
import boto3
parameter, function = sys.argv[1:]
invoker = None
for line in sys.stdin:
    started = time.perf_counter()
    if invoker is None:
        boto3.client("ssm").get_parameter(Name=parameter, WithDecryption=True)
        invoker = boto3.client("lambda")
    invoker.invoke(FunctionName=function, InvocationType="Event", Payload=line.strip().encode())
    seconds, returned = time.perf_counter() - started, time.time()
    print("BENCH", json.dumps({"seconds": seconds, "returned": returned, "response": None}),
          file=sys.stderr, flush=True)
"""


@dataclass
class Answer:
    """One handled command: the handler's response, its cold time (from spawn) or warm time."""

    response: Any
    seconds: float


class Worker(worker.Worker):
    """A Python process of its own running `script` (HANDLER or BASELINE) on each event sent to it."""

    def __init__(self, script: str, environment: dict[str, str], *arguments: str) -> None:
        self.spawned = time.time()
        super().__init__(script, environment, *arguments, owner="bench/slack.py")
        self.runs = 0

    def ready(self) -> "Worker":
        """This worker once it has imported the function (so that it runs beside no timed case)."""
        self.line(lambda line: line == READY)
        return self

    def run(self, event: Any) -> Answer:
        """The worker's answer to `event`: its first one timed from spawn (cold), others by themselves."""
        self.send(json.dumps(event))
        report = self.report()
        cold, self.runs = self.runs == 0, self.runs + 1
        return Answer(report["response"], report["returned"] - self.spawned if cold else report["seconds"])


def measure(url: str, repeat: int) -> dict[str, Any]:
    rounds = min(repeat, ROUNDS_AT_MOST)
    warm_each = math.ceil(WARM_INVOCATIONS / rounds)
    seed_slack_secret()
    secrets = boto3.client("secretsmanager")
    with contextlib.suppress(secrets.exceptions.ResourceExistsException):  # coldstart.py may have made it
        secrets.create_secret(Name=SECRET_NAME, SecretString=TEST_SIGNING_SECRET)
    client = boto3.client("codedeploy")
    cold: dict[str, list[float]] = {path: [] for path in ("baseline", *PATHS)}
    warm: dict[str, list[float]] = {path: [] for path in ("baseline", *PATHS)}
    fake_lambda.take_invocations()  # nothing queued before belongs to this bench
    with (
        response_url() as receiver,
        Worker(HANDLER, _environment(url, "slack", receiver)).ready() as deliverer,
    ):
        for _ in range(rounds):  # interleaved, so that machine noise hits every case alike
            with Worker(BASELINE, _environment(url, "slack", receiver), SLACK_SECRET_PARAM, FUNCTION) as bare:
                for run in range(1 + warm_each):
                    seconds = _bare_boto3(bare, run)
                    (cold if run == 0 else warm)["baseline"].append(seconds)
            for path in PATHS:
                with Worker(HANDLER, _environment(url, path, receiver)) as handler:
                    for run in range(1 + warm_each):
                        deployment_id = fake_codedeploy.create_deployment(client, APPLICATION, path)
                        seconds, handed_over = _acknowledged(handler, deployment_id, receiver)
                        (cold if run == 0 else warm)[path].append(seconds)
                        _deliver(deliverer, handed_over, deployment_id, receiver)
        inline = _inline(url, client, receiver)
    baseline_cold, baseline_warm = _median_ms(cold["baseline"]), _median_ms(warm["baseline"])
    rows: list[dict[str, Any]] = [{"path": "baseline", "cold_ms": baseline_cold, "warm_ms": baseline_warm}]
    for path in PATHS:
        cold_ms, warm_ms = _median_ms(cold[path]), _median_ms(warm[path])
        rows.append(
            {
                "path": path,
                "cold_ms": cold_ms,
                "cold_vs_baseline": round(cold_ms / baseline_cold, 2),
                "warm_ms": warm_ms,
                "warm_vs_baseline": round(warm_ms / baseline_warm, 2),
            }
        )
    return {
        "latency_ms_per_call": LATENCY * 1000,
        "repeat": rounds,
        "warm_invocations": rounds * warm_each,
        "cold_target_ms": COLD_TARGET_MS,
        "warm_target_ms": WARM_TARGET_MS,
        "paths": rows,
        "checked_each_run": [
            "a 200 whose message is in_channel and says `stopping d-…`",
            "no CodeDeploy call received while the command was handled",
            "exactly one asynchronous invocation queued, carrying the command",
            "that invocation, delivered: one StopDeployment of the deployment, the result posted once",
        ],
        "outside_lambda": inline,
    }


def _environment(url: str, path: str, receiver: ResponseUrl, *, in_lambda: bool = True) -> dict[str, str]:
    """coldstart.py's (as deployed: ledger, topic, the secret's location for `path`), with the local
    response_url allowed and, in Lambda, the function's name."""
    environment = {**child_environment(url, path), "SLACK_EXTRA_RESPONSE_HOSTS": receiver.host}
    if in_lambda:
        environment["AWS_LAMBDA_FUNCTION_NAME"] = FUNCTION
    return environment


@contextlib.contextmanager
def _slow_codedeploy() -> Iterator[None]:
    """LATENCY on every CodeDeploy operation, from nothing recorded, while a command is handled."""
    fake_codedeploy.clear_calls()
    fake_codedeploy.set_latency(LATENCY)
    try:
        yield
    finally:
        fake_codedeploy.set_latency(0)


def _command(deployment_id: str, receiver: ResponseUrl) -> dict[str, Any]:
    """The slash command `stop <deployment_id>`, signed now, its replies going to `receiver`."""
    return signed(
        load_event("slack-command-rest.json"), text=f"stop {deployment_id}", response_url=receiver.url
    )


def _acknowledged(handler: Worker, deployment_id: str, receiver: ResponseUrl) -> tuple[float, Any]:
    """Seconds to the acknowledgement of `stop deployment_id`, checked (in_channel, `stopping`, no
    CodeDeploy call in the request), and the one asynchronous invocation's payload, which carries it."""
    with _slow_codedeploy():
        answer = handler.run(_command(deployment_id, receiver))
        called = [call.operation for call in fake_codedeploy.calls()]
    assert answer.response["statusCode"] == 200, answer.response
    message = json.loads(answer.response["body"])
    assert message["response_type"] == "in_channel", message
    assert f"stopping `{deployment_id}`" in message["text"], message
    assert called == [], f"CodeDeploy was called in the request: {called}"
    (queued,) = fake_lambda.take_invocations()
    work = queued.payload["slackWork"]
    assert queued.function_name == FUNCTION, queued.function_name
    assert (work["kind"], work["text"], work["responseUrl"]) == (
        "command",
        f"stop {deployment_id}",
        receiver.url,
    )
    assert _status(deployment_id) == "InProgress"
    return answer.seconds, queued.payload


def _deliver(deliverer: Worker, payload: Any, deployment_id: str, receiver: ResponseUrl) -> None:
    """Lambda's part: the queued invocation's payload delivered to another process running the function,
    CodeDeploy answering at once; it must stop the deployment once and post the result."""
    posted = len(receiver.received)
    fake_codedeploy.clear_calls()
    answer = deliverer.run(payload)
    assert answer.response == {"outcome": "done", "kind": "command", "posted": True}, answer.response
    stops = [
        call.params["deploymentId"] for call in fake_codedeploy.calls() if call.operation == "StopDeployment"
    ]
    assert stops == [deployment_id], f"on delivery: StopDeployment of {stops}"
    assert _status(deployment_id) == "Stopped"
    (result,) = [m for m in receiver.received[posted:] if m.get("replace_original") is True]
    assert f"stopped `{deployment_id}`" in result["text"], result


def _bare_boto3(bare: Worker, run: int) -> float:
    """Seconds of the baseline's run: GetParameter and Invoke (cold), Invoke (warm); one invocation."""
    with _slow_codedeploy():
        answer = bare.run({"bench": "baseline", "run": run})
        called = fake_codedeploy.calls()
    assert called == []
    (queued,) = fake_lambda.take_invocations()
    assert queued.function_name == FUNCTION
    assert queued.payload == {"bench": "baseline", "run": run}
    return answer.seconds


def _inline(url: str, client: Any, receiver: ResponseUrl) -> dict[str, Any]:
    """The same command outside Lambda, cold, once: the stop runs in the request, and the reply says
    what came of it. Its CodeDeploy client gives up on a call after 3 s (clients.READ_TIMEOUT_SECONDS)
    and tries 3 times, so with CodeDeploy answering after LATENCY the reply is a timeout, about 10 s
    late; the CodeDeploy calls received are counted (each attempt is one)."""
    deployment_id = fake_codedeploy.create_deployment(client, APPLICATION, "outside-lambda")
    with (
        Worker(HANDLER, _environment(url, "slack", receiver, in_lambda=False)) as handler,
        _slow_codedeploy(),
    ):
        answer = handler.run(_command(deployment_id, receiver))
        called = Counter(call.operation for call in fake_codedeploy.calls())
    assert answer.response["statusCode"] == 200, answer.response
    message = json.loads(answer.response["body"])
    assert f"stopping `{deployment_id}`" not in message["text"], "acknowledged outside Lambda"
    assert called["StopDeployment"] >= 1, called
    assert fake_lambda.take_invocations() == [], "handed over outside Lambda"
    return {
        "cold_ms": round(answer.seconds * 1000, 1),
        "codedeploy_calls": dict(called),
        "reply": message["text"],
    }


def _status(deployment_id: str) -> str:
    return str(fake_codedeploy.backend().deployments[deployment_id].status)


def _median_ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 1)
