"""The local Lambda's asynchronous Invoke (local/fake_aws/lambda_.py) through real boto3 clients, in-process
under mock_aws() and through the threaded server, and world.deliver_invocations playing Lambda's delivery.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local import fake_aws, world
from local.context import LambdaContext
from local.fake_aws import lambda_ as fake_lambda
from local.fake_aws.lambda_ import Invocation
from stop_deployment.errors import InvalidRequest

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
NAME = "stop-deployment-local"
ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{NAME}"


@pytest.fixture
def client(local_cd: Any) -> LambdaClient:
    """A Lambda client on the in-process local AWS (local_cd installs fake_aws and resets it)."""
    return boto3.client("lambda", config=NO_RETRIES)


def invoke_async(client: LambdaClient, payload: Any, function_name: str = NAME) -> Any:
    """What the function does to defer work to itself."""
    return client.invoke(
        FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode()
    )


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# --- asynchronous invokes are queued ---------------------------------------------------------------------


def test_an_async_invoke_is_answered_202_and_queued_with_its_payload(client: LambdaClient) -> None:
    payload = {"deferred": "slack", "response_url": "https://hooks.slack.com/x", "ids": ["d-LGUMS25CC"]}

    answer = invoke_async(client, payload)

    assert answer["StatusCode"] == 202
    assert answer["Payload"].read() == b""
    assert answer["ResponseMetadata"]["RequestId"]
    assert fake_lambda.take_invocations() == [Invocation(NAME, payload)]


def test_the_function_is_named_as_sent_by_name_arn_or_qualified_arn(client: LambdaClient) -> None:
    # Given no function was ever created in moto
    # When the function invokes itself by name, by ARN and by an alias's ARN
    for name in (NAME, ARN, f"{ARN}:live"):
        invoke_async(client, {}, function_name=name)

    # Then each is queued as sent, URL-decoded
    assert [i.function_name for i in fake_lambda.take_invocations()] == [NAME, ARN, f"{ARN}:live"]


def test_take_invocations_returns_them_in_order_and_empties_the_queue(client: LambdaClient) -> None:
    for n in range(3):
        invoke_async(client, {"n": n})

    taken = fake_lambda.take_invocations()

    assert [i.payload for i in taken] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert fake_lambda.take_invocations() == []


def test_a_payload_is_any_json_and_none_is_an_empty_object(client: LambdaClient) -> None:
    invoke_async(client, [1, "two", None])
    client.invoke(FunctionName=NAME, InvocationType="Event")

    assert [i.payload for i in fake_lambda.take_invocations()] == [[1, "two", None], {}]


def test_a_payload_that_is_not_json_is_refused_and_not_queued(client: LambdaClient) -> None:
    with pytest.raises(ClientError) as exc:
        client.invoke(FunctionName=NAME, InvocationType="Event", Payload=b"{not json")

    assert error_of(exc) == ("InvalidRequestContentException", 400)
    assert fake_lambda.take_invocations() == []


def test_reset_forgets_the_queue_and_the_faults(client: LambdaClient) -> None:
    invoke_async(client, {"n": 1})
    fake_lambda.inject_error("Invoke", "TooManyRequestsException", http_status=429, times=-1)

    fake_aws.reset()

    assert fake_lambda.take_invocations() == []
    assert invoke_async(client, {"n": 2})["StatusCode"] == 202


def test_install_is_idempotent(client: LambdaClient) -> None:
    fake_aws.install()

    invoke_async(client, {"n": 1})

    assert len(fake_lambda.take_invocations()) == 1  # queued once: invoke was not wrapped twice


# --- other invocation types are moto's -------------------------------------------------------------------


@pytest.mark.parametrize("invocation_type", ["RequestResponse", "DryRun"])
def test_a_synchronous_invoke_of_an_unknown_function_is_still_a_404(
    client: LambdaClient, invocation_type: Any
) -> None:
    with pytest.raises(ClientError) as exc:
        client.invoke(FunctionName=NAME, InvocationType=invocation_type, Payload=b"{}")

    assert error_of(exc)[1] == 404
    assert fake_lambda.take_invocations() == []


# --- faults ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("TooManyRequestsException", 429),
        ("AccessDeniedException", 403),
        ("ResourceNotFoundException", 404),
        ("ServiceException", 500),
    ],
)
def test_an_injected_fault_raises_its_code_and_status_then_clears(
    client: LambdaClient, code: str, status: int
) -> None:
    fake_lambda.inject_error("Invoke", code, http_status=status)

    with pytest.raises(ClientError) as exc:
        invoke_async(client, {"n": 1})
    answer = invoke_async(client, {"n": 2})

    assert error_of(exc) == (code, status)
    assert exc.value.response["Error"]["Message"]
    assert answer["StatusCode"] == 202
    assert fake_lambda.take_invocations() == [Invocation(NAME, {"n": 2})]  # the failed one is not queued


def test_the_modeled_error_shape_reaches_botocore(client: LambdaClient) -> None:
    fake_lambda.inject_error("Invoke", "TooManyRequestsException", http_status=429)

    with pytest.raises(client.exceptions.TooManyRequestsException) as exc:
        invoke_async(client, {})

    assert exc.value.response["Error"]["Message"] == "Rate Exceeded."
    assert exc.value.response.get("Type") == "User"


def test_access_denied_names_the_action_and_the_function(client: LambdaClient) -> None:
    fake_lambda.inject_error("Invoke", "AccessDeniedException", http_status=403)

    with pytest.raises(ClientError) as exc:
        invoke_async(client, {})

    message = exc.value.response["Error"]["Message"]
    assert "lambda:InvokeFunction" in message
    assert ARN in message


def test_a_fault_consumes_its_times_and_a_given_message_is_kept(client: LambdaClient) -> None:
    fake_lambda.inject_error("Invoke", "TooManyRequestsException", http_status=429, message="slow", times=2)

    failures = []
    for n in range(2):
        with pytest.raises(ClientError) as exc:
            invoke_async(client, {"n": n})
        failures.append((*error_of(exc), exc.value.response["Error"]["Message"]))

    assert failures == [("TooManyRequestsException", 429, "slow")] * 2
    assert invoke_async(client, {"n": 2})["StatusCode"] == 202


def test_faults_apply_in_the_order_injected(client: LambdaClient) -> None:
    fake_lambda.inject_error("Invoke", "TooManyRequestsException", http_status=429)
    fake_lambda.inject_error("Invoke", "AccessDeniedException", http_status=403)

    codes = []
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            invoke_async(client, {})
        codes.append(error_of(exc)[0])

    assert codes == ["TooManyRequestsException", "AccessDeniedException"]


def test_a_fault_does_not_touch_synchronous_invokes(client: LambdaClient) -> None:
    fake_lambda.inject_error("Invoke", "AccessDeniedException", http_status=403)

    with pytest.raises(ClientError) as exc:
        client.invoke(FunctionName=NAME, Payload=b"{}")

    assert error_of(exc)[1] == 404  # moto's answer: the fault waits for the next async invoke
    with pytest.raises(ClientError):
        invoke_async(client, {})


def test_faults_are_checked() -> None:
    with pytest.raises(ValueError, match="Invoke"):
        fake_lambda.inject_error("InvokeAsync", "TooManyRequestsException")
    with pytest.raises(ValueError, match="times"):
        fake_lambda.inject_error("Invoke", "TooManyRequestsException", times=0)


# --- world.deliver_invocations ---------------------------------------------------------------------------


def test_deliver_invocations_runs_each_payload_in_order_with_a_fresh_context(client: LambdaClient) -> None:
    seen: list[tuple[Any, LambdaContext]] = []

    def handler(event: Any, context: LambdaContext) -> Any:
        seen.append((event, context))
        return {"done": event["n"]}

    for n in range(3):
        invoke_async(client, {"n": n})

    results = world.deliver_invocations(handler)

    assert results == [{"done": 0}, {"done": 1}, {"done": 2}]
    assert [event for event, _ in seen] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all(isinstance(context, LambdaContext) for _, context in seen)
    assert len({context.aws_request_id for _, context in seen}) == 3
    assert fake_lambda.take_invocations() == []


def test_deliver_invocations_delivers_what_a_delivery_queues_after_what_was_waiting(
    client: LambdaClient,
) -> None:
    def handler(event: Any, context: LambdaContext) -> Any:
        if event["step"] == "first":  # defers more work to itself, as the function will
            invoke_async(client, {"step": "deferred"})
        return event["step"]

    invoke_async(client, {"step": "first"})
    invoke_async(client, {"step": "second"})

    assert world.deliver_invocations(handler) == ["first", "second", "deferred"]
    assert world.deliver_invocations(handler) == []


def test_deliver_invocations_returns_an_exception_as_that_invocations_result(client: LambdaClient) -> None:
    failure = RuntimeError("Slack is down")

    def handler(event: Any, context: LambdaContext) -> Any:
        if event["n"] == 1:
            raise failure
        return event["n"]

    for n in range(3):
        invoke_async(client, {"n": n})

    assert world.deliver_invocations(handler) == [0, failure, 2]


def test_deliver_invocations_runs_the_function_by_default(client: LambdaClient) -> None:
    # Given a direct request with no deployment id, queued for the function
    invoke_async(client, {})

    # When it is delivered to lambda_handler
    [result] = world.deliver_invocations()

    # Then the function refused it as it refuses it when invoked directly: raised, recorded as the result
    assert isinstance(result, InvalidRequest)


# --- through the threaded server -------------------------------------------------------------------------


def test_through_a_real_server_invokes_are_queued_faults_raised_and_delivered(local_server: str) -> None:
    # A client with no endpoint_url: AWS_ENDPOINT_URL_LAMBDA (local.aws) points it at the server.
    client: LambdaClient = boto3.client("lambda", config=NO_RETRIES)
    fake_lambda.inject_error("Invoke", "TooManyRequestsException", http_status=429)

    with pytest.raises(ClientError) as exc:
        invoke_async(client, {"n": 0})
    by_name = invoke_async(client, {"n": 1})
    by_arn = invoke_async(client, {"n": 2}, function_name=ARN)
    with pytest.raises(ClientError) as unknown:
        client.invoke(FunctionName=NAME, Payload=b"{}")

    assert error_of(exc) == ("TooManyRequestsException", 429)
    assert (by_name["StatusCode"], by_arn["StatusCode"]) == (202, 202)
    assert error_of(unknown)[1] == 404
    assert world.deliver_invocations(lambda event, context: event["n"]) == [1, 2]

    invoke_async(client, {"n": 3}, function_name=ARN)
    assert fake_lambda.take_invocations() == [Invocation(ARN, {"n": 3})]
