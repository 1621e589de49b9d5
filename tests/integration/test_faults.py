"""Faults: CodeDeploy throttling, 5xx, slowness, refused connections and denials, via lambda_handler.

The local CodeDeploy (local/fake_codedeploy/) fails on request (inject_error) and answers slowly
(set_latency). A read timeout or a refused connection needs a real socket (mock_aws, in-process,
never times out), so those tests run it as a server on 127.0.0.1 with short timeouts.

Not repeated here: the status code and message of each CodeDeploy error (test_http.py's error
table), the attempts of persistent errors on the direct path (test_direct.py), and a throttled
deployment or listing on its own in an alarm fan-out (test_alarm.py).
"""

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff
from cfnlint.decode import decode  # type: ignore[import-untyped]

from local import fake_codedeploy
from local.world import IN_FLIGHT_ID, OTHER_TEAM_ID, QUEUED_ID, load_event, status_of
from stop_deployment import clients, cloudwatch, codedeploy, errors
from stop_deployment.handler import lambda_handler
from tests.logs import log_lines

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"
BOTH_TEAMS = json.dumps({"kill-switch-*": ["checkout/prod", "payments/prod"]})

# The function's client configuration with timeouts short enough for a test; everything else (the
# retry mode and attempts) is the real one.
FAST_TIMEOUT_SECONDS = 0.25
FAST = clients.CONFIG.merge(Config(connect_timeout=FAST_TIMEOUT_SECONDS, read_timeout=FAST_TIMEOUT_SECONDS))
SLOW_ANSWER_SECONDS = FAST_TIMEOUT_SECONDS + 0.5  # the local CodeDeploy's delay: past the read timeout
# What a test may spend beyond the computed bound: the handler itself, thread scheduling, a busy CI.
OVERHEAD_SECONDS = 0.5

# botocore's standard retry mode (botocore/retries/standard.py; the stubs do not declare these).
_BACKOFF: Any = ExponentialBackoff
THROTTLING_SCALE_SECONDS = _BACKOFF._DEFAULT_BACKOFF_CONFIG["throttling_base_scale"]  # 1 s
OTHER_ERRORS_SCALE_SECONDS = _BACKOFF._DEFAULT_BACKOFF_CONFIG["non_throttling_base_scale"]  # 50 ms
MAX_BACKOFF_SECONDS = _BACKOFF._MAX_BACKOFF  # 20 s
RETRY_AFTER_EXTRA_SECONDS = _BACKOFF._RETRY_AFTER_MAX_ADDITIONAL  # 5 s


def worst_case_call_seconds(config: Any, *, throttled: bool = True, retry_after: bool = False) -> float:
    """The longest one call can take with this client configuration in botocore's standard mode.

    Every attempt waits out the connect and the read timeout; before retry n it sleeps a random
    time up to min(scale x 2^(n-1), 20 s), scale being 1 s after throttling and 50 ms after anything
    else. A response carrying x-amz-retry-after may stretch each sleep by up to 5 s more (botocore
    honours it; CodeDeploy is not documented to send it).

    Not bounded by these timeouts: DNS resolution, and a server that trickles its answer (the read
    timeout applies to each read from the socket, not to the whole response).
    """
    attempts = config.retries["total_max_attempts"]
    scale = THROTTLING_SCALE_SECONDS if throttled else OTHER_ERRORS_SCALE_SECONDS
    backoff = sum(min(scale * 2 ** (retry - 1), MAX_BACKOFF_SECONDS) for retry in range(1, attempts))
    if retry_after:
        backoff += (attempts - 1) * RETRY_AFTER_EXTRA_SECONDS
    return float(attempts * (config.connect_timeout + config.read_timeout) + backoff)


def function_timeout_seconds() -> int:
    template, matches = decode(str(TEMPLATE_PATH))
    assert not matches, [str(match) for match in matches]
    return int(template["Resources"]["StopDeploymentFunction"]["Properties"]["Timeout"])


def attempts(operation: str, **params: str) -> int:
    """How many requests of this operation (with these parameters) reached the local CodeDeploy."""
    return sum(
        1
        for call in fake_codedeploy.calls()
        if call.operation == operation and all(call.params.get(k) == v for k, v in params.items())
    )


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def stop_result(event_file: str, lambda_context: Any) -> Any:
    """The stop result, whether the way in returns it (direct) or answers 200 with it (HTTP)."""
    response = lambda_handler(load_event(event_file), lambda_context)
    if "statusCode" in response:
        assert response["statusCode"] == 200, response["body"]
        return body_of(response)
    return response


def failed_calls(output: str) -> list[dict[str, Any]]:
    return [line for line in log_lines(output) if line["message"] == "CodeDeploy call failed"]


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The sleeps standard mode chose before each retry, recorded but not slept: after throttling
    they reach 1 s, then 2 s, which would make these tests slow."""
    chosen: list[float] = []
    delay_amount = ExponentialBackoff.delay_amount

    def record(self: ExponentialBackoff, context: Any) -> float:
        chosen.append(delay_amount(self, context))
        return 0.0

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", record)
    return chosen


@pytest.fixture
def two_teams(deployments: Any, configure: Any) -> Any:
    """The alarm guards checkout/prod (d-LGUMS25CC InProgress, d-CHK0UT002 Queued, d-C0MPLETED done)
    and payments/prod (d-PAYM3NTS1 InProgress)."""
    configure(ALARM_TARGETS=BOTH_TEAMS)
    return deployments


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The local CodeDeploy as a real HTTP server, and the function pointed at it with FAST timeouts.

    Yields a client of the server with the default configuration, to seed and to check.
    """
    server, url = fake_codedeploy.start_server()

    def reset_moto() -> None:  # outside mock_aws() nothing else resets moto's process-wide state
        request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=5).close()

    reset_moto()
    fake_codedeploy.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL_CODEDEPLOY", url)
    monkeypatch.setattr(codedeploy, "CONFIG", FAST)  # read when the function's client is created
    codedeploy.client.cache_clear()
    try:
        yield boto3.client("codedeploy", endpoint_url=url, region_name="us-east-1")
    finally:
        reset_moto()
        server.stop()
        fake_codedeploy.reset()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# --- throttling ---------------------------------------------------------------------------------


@pytest.mark.parametrize("event_file", ["direct-stop.json", "http-api-stop.json"])
@pytest.mark.parametrize("burst", [1, 2])
def test_a_throttling_burst_shorter_than_the_retries_still_stops_the_deployment(
    seeded: Any, lambda_context: Any, backoffs: list[float], event_file: str, burst: int
) -> None:
    fake_codedeploy.inject_error("StopDeployment", "ThrottlingException", times=burst)

    result = stop_result(event_file, lambda_context)

    assert (result["deploymentId"], result["outcome"], result["status"]) == (
        IN_FLIGHT_ID,
        "stop_requested",
        "Pending",
    )
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert attempts("StopDeployment") == burst + 1
    # Before each retry standard mode backed off, at most 1 s and then 2 s after throttling.
    assert len(backoffs) == burst
    assert all(0 <= delay <= THROTTLING_SCALE_SECONDS * 2**n for n, delay in enumerate(backoffs))


def test_throttling_that_outlasts_the_retries_is_throttled_with_retry_after_and_nothing_stopped(
    seeded: Any, lambda_context: Any, backoffs: list[float]
) -> None:
    fake_codedeploy.inject_error("StopDeployment", "ThrottlingException", times=-1)

    with pytest.raises(errors.Throttled, match="after retries"):
        lambda_handler(load_event("direct-stop.json"), lambda_context)
    response = lambda_handler(load_event("http-api-stop.json"), lambda_context)

    assert response["statusCode"] == 429
    assert body_of(response)["error"] == "Throttled"
    assert int(response["headers"]["Retry-After"]) > 0
    assert attempts("StopDeployment") == 2 * clients.MAX_ATTEMPTS  # both ways in, every attempt
    assert len(backoffs) == 2 * (clients.MAX_ATTEMPTS - 1)
    assert status_of(IN_FLIGHT_ID) == "InProgress"


# --- 5xx ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "http_status"), [("InternalFailure", 500), ("ServiceUnavailable", 503)])
def test_one_server_error_is_retried_and_the_stop_goes_through(
    seeded: Any, lambda_context: Any, code: str, http_status: int
) -> None:
    fake_codedeploy.inject_error("StopDeployment", code, http_status=http_status, times=1)

    result = stop_result("http-api-stop.json", lambda_context)

    assert result["outcome"] == "stop_requested"
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert attempts("StopDeployment") == 2


@pytest.mark.parametrize(("code", "http_status"), [("InternalFailure", 500), ("ServiceUnavailable", 503)])
def test_server_errors_that_persist_are_a_502_after_every_attempt_and_the_deployment_keeps_running(
    seeded: Any, lambda_context: Any, code: str, http_status: int
) -> None:
    fake_codedeploy.inject_error("StopDeployment", code, http_status=http_status, times=-1)

    response = lambda_handler(load_event("http-api-stop.json"), lambda_context)

    assert response["statusCode"] == 502
    assert body_of(response)["error"] == "CodeDeployUnavailable"
    assert "nothing was confirmed" in body_of(response)["message"]
    assert attempts("StopDeployment") == clients.MAX_ATTEMPTS
    assert status_of(IN_FLIGHT_ID) == "InProgress"


# --- a slow CodeDeploy, no CodeDeploy -----------------------------------------------------------


def test_a_codedeploy_that_does_not_answer_in_time_is_a_504_within_the_computed_bound(
    server: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_codedeploy.create_deployment(server, "checkout", "prod", deployment_id=IN_FLIGHT_ID)
    fake_codedeploy.clear_calls()
    fake_codedeploy.set_latency(SLOW_ANSWER_SECONDS, "StopDeployment")

    started = time.perf_counter()
    response = lambda_handler(load_event("http-api-stop.json"), lambda_context)
    elapsed = time.perf_counter() - started

    assert response["statusCode"] == 504
    assert body_of(response)["error"] == "CodeDeployTimeout"
    assert "nothing was confirmed" in body_of(response)["message"]
    assert attempts("StopDeployment") == clients.MAX_ATTEMPTS
    # Each attempt waited out the read timeout, and the whole took no longer than the bound that
    # test_the_longest_chain_of_each_way_in_fits_the_function_timeout applies to the real settings.
    assert elapsed >= clients.MAX_ATTEMPTS * FAST_TIMEOUT_SECONDS
    assert elapsed <= worst_case_call_seconds(FAST, throttled=False) + OVERHEAD_SECONDS
    (failure,) = failed_calls(capsys.readouterr().out)
    assert (failure["operation"], failure["awsErrorCode"]) == ("StopDeployment", "ReadTimeoutError")
    # CodeDeploy got the requests and carries them out after the function stopped waiting: a 504
    # says that nothing was confirmed, not that nothing happened. (Waiting also lets the server's
    # delayed answers finish before it is stopped.)
    time.sleep(SLOW_ANSWER_SECONDS)
    assert status_of(IN_FLIGHT_ID) == "Stopped"


def test_a_refused_connection_is_a_502_after_every_attempt(
    lambda_context: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Refused is not a connect timeout: botocore raises EndpointConnectionError (retried by standard
    # mode like any connection error) at once, so the answer is 502 CodeDeployUnavailable, not 504.
    monkeypatch.setenv("AWS_ENDPOINT_URL_CODEDEPLOY", f"http://127.0.0.1:{closed_port()}")
    codedeploy.client.cache_clear()
    sent: list[str] = []
    codedeploy.client().meta.events.register(
        "before-send.codedeploy.StopDeployment", lambda request, **_: sent.append(request.url)
    )

    response = lambda_handler(load_event("http-api-stop.json"), lambda_context)

    assert response["statusCode"] == 502
    assert body_of(response)["error"] == "CodeDeployUnavailable"
    assert len(sent) == clients.MAX_ATTEMPTS
    (failure,) = failed_calls(capsys.readouterr().out)
    assert failure["awsErrorCode"] == "EndpointConnectionError"


# --- denied -------------------------------------------------------------------------------------


def test_access_denied_is_a_403_without_aws_text_which_the_log_keeps_under_the_request_id(
    seeded: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # The local CodeDeploy answers with AWS's wording, which names the role: "User:
    # arn:aws:sts::…:assumed-role/local-kill-switch/local is not authorized to perform: …".
    fake_codedeploy.inject_error("StopDeployment", "AccessDeniedException")

    response = lambda_handler(load_event("http-api-stop.json"), lambda_context)

    assert response["statusCode"] == 403
    body = body_of(response)
    assert body["error"] == "AccessDenied"
    assert "see the function's logs" in body["message"]
    for aws_text in ("assumed-role", "local-kill-switch", "not authorized", "identity-based policy"):
        assert aws_text not in response["body"]
    (failure,) = failed_calls(capsys.readouterr().out)
    assert "assumed-role/local-kill-switch/local is not authorized" in failure["awsErrorMessage"]
    assert "codedeploy:StopDeployment" in failure["awsErrorMessage"]
    assert failure["correlation_id"] == body["requestId"]
    assert attempts("StopDeployment") == 1  # a denial is not retried
    assert status_of(IN_FLIGHT_ID) == "InProgress"


# --- an alarm's fan-out -------------------------------------------------------------------------


def test_under_faults_an_alarm_stops_every_healthy_target_then_raises_naming_what_failed(
    two_teams: Any, lambda_context: Any, backoffs: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    fake_codedeploy.inject_error(
        "StopDeployment", "ThrottlingException", times=-1, match={"deploymentId": QUEUED_ID}
    )
    fake_codedeploy.inject_error(
        "ListDeployments",
        "ServiceUnavailable",
        http_status=503,
        times=-1,
        match={"applicationName": "payments"},
    )
    event = load_event("alarm-eventbridge.json")

    with pytest.raises(errors.StopsIncomplete) as raised:
        lambda_handler(event, lambda_context)

    assert QUEUED_ID in str(raised.value)
    assert "payments/prod" in str(raised.value)
    assert IN_FLIGHT_ID not in str(raised.value)
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    assert status_of(QUEUED_ID) == "Queued"
    assert status_of(OTHER_TEAM_ID) == "InProgress"  # its group could not be listed
    assert attempts("StopDeployment", deploymentId=QUEUED_ID) == clients.MAX_ATTEMPTS
    assert attempts("ListDeployments", applicationName="payments") == clients.MAX_ATTEMPTS
    (handled,) = [line for line in log_lines(capsys.readouterr().out) if line["message"] == "alarm handled"]
    assert handled["counts"] == {"stop_requested": 1, "failed": 1}

    # Lambda retries the failed asynchronous invocation; once CodeDeploy recovers, the retry stops
    # what is still in flight, and leaves alone what the first attempt stopped.
    fake_codedeploy.reset()
    retried = lambda_handler(event, lambda_context)

    assert retried["counts"] == {"stop_requested": 2}
    assert sorted(d["deploymentId"] for d in retried["deployments"]) == sorted([QUEUED_ID, OTHER_TEAM_ID])
    assert status_of(QUEUED_ID) == status_of(OTHER_TEAM_ID) == "Stopped"


def test_a_listing_that_fails_once_is_retried_and_the_alarm_stops_everything(
    two_teams: Any, lambda_context: Any
) -> None:
    fake_codedeploy.inject_error(
        "ListDeployments", "InternalFailure", http_status=500, match={"applicationName": "payments"}
    )

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert summary["counts"] == {"stop_requested": 3}
    assert attempts("ListDeployments", applicationName="payments") == 2
    assert status_of(OTHER_TEAM_ID) == "Stopped"


def test_when_creators_cannot_be_read_the_alarm_still_stops_and_logs_why(
    two_teams: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # BatchGetDeployments only tells rollback deployments apart; not knowing must not delay stops.
    # The price: a rollback deployment in flight at that moment would be stopped too.
    fake_codedeploy.inject_error("BatchGetDeployments", "InternalFailure", http_status=500, times=-1)

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert summary["counts"] == {"stop_requested": 3}
    # One read per group (each group's stops start once its own reads are done), each retried.
    assert attempts("BatchGetDeployments") == clients.MAX_ATTEMPTS * len(summary["targets"]) == 6
    failures = failed_calls(capsys.readouterr().out)
    assert {(f["operation"], f["awsErrorCode"]) for f in failures} == {
        ("BatchGetDeployments", "InternalFailure")
    }
    assert len(failures) == len(summary["targets"])


# --- the time budget ----------------------------------------------------------------------------


def test_one_call_takes_at_most_18_s_or_28_s_if_codedeploy_asks_for_longer_backoff() -> None:
    # From the clients' real configuration: 3 attempts x (2 s connect + 3 s read) + backoff of at
    # most 1 s + 2 s (throttling, the larger scale); x-amz-retry-after may add 5 s to each backoff.
    config: Any = codedeploy.client().meta.config
    tags_config: Any = cloudwatch.client().meta.config  # an alarm's tag lookup is on its chain too

    assert worst_case_call_seconds(config) == 18
    assert worst_case_call_seconds(config, retry_after=True) == 28
    assert worst_case_call_seconds(tags_config) == worst_case_call_seconds(config)


# The longest chain of sequential calls of each way in, each call at its worst (every attempt times
# out, the longest backoff, x-amz-retry-after). Calls in parallel (the fan-out's listings, creator
# look-ups and stops, 20 at a time) count once per wave. Every client on these chains (CodeDeploy,
# CloudWatch, and Slack's SSM or Secrets Manager) is built with clients.CONFIG.
#   direct, HTTP, Stop Deployment Request: GetDeployment (allowlist or dry run), StopDeployment.
#   Slack `stop d-…`: the signing secret (when not cached), GetDeployment (allowlist),
#   StopDeployment, GetDeployment (the reply's status); `stop app/group` is bounded like an alarm.
#   Alarms: the alarm's tags (when the event does not carry them), every page of ListDeployments,
#   BatchGetDeployments, then the stops in waves of 20.
# Assumed for alarms: at most 2 pages in flight per target (a page holds up to 100 ids) and at most
# 80 deployments in flight (4 waves). Discovery, when on and not cached, adds ListApplications, then
# ListDeploymentGroups and BatchGetDeploymentGroups for up to 20 applications in parallel (one page
# of groups each): it is bounded only without x-amz-retry-after (the last case). Beyond these, an alarm can
# time out; Lambda retries it, and what was stopped stays stopped. Not counted: the HTTP API's own
# 30 s limit.
@pytest.mark.parametrize(
    ("calls", "retry_after"),
    [
        pytest.param(2, True, id="direct, HTTP or Stop Deployment Request"),
        pytest.param(4, True, id="Slack stop of one deployment, reading the secret"),
        pytest.param(1 + 2 + 1 + 4, True, id="alarm: tags looked up, 2 pages, 80 in flight"),
        pytest.param(1 + 2 + 1 + 4 + 1 + 2, False, id="the same with discovery, up to 20 applications"),
    ],
)
def test_the_longest_chain_of_each_way_in_fits_the_function_timeout(calls: int, retry_after: bool) -> None:
    config: Any = codedeploy.client().meta.config

    assert calls * worst_case_call_seconds(config, retry_after=retry_after) < function_timeout_seconds()
