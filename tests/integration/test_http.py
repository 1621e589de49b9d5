"""The HTTP API through lambda_handler: REST v1, HTTP API v2 and Function URL events, local CodeDeploy."""

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from local import fake_codedeploy
from local.world import COMPLETED_ID, IN_FLIGHT_ID, load_event, status_of
from stop_deployment import clients, codedeploy
from stop_deployment.handler import lambda_handler
from tests.logs import log_lines

STOP_EVENTS = ["rest-stop.json", "http-api-stop.json", "function-url-stop.json"]


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def operations() -> list[str]:
    return [call.operation for call in fake_codedeploy.calls()]


def with_body(event: dict[str, Any], body: str | None) -> dict[str, Any]:
    return dict(event, body=body, isBase64Encoded=False)


@pytest.mark.parametrize("event_file", STOP_EVENTS)
def test_each_event_shape_stops_the_deployment(
    seeded: Any, lambda_context: Any, event_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    event = load_event(event_file)

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 200, response["body"]
    result = body_of(response)
    assert result["deploymentId"] == IN_FLIGHT_ID
    assert result["outcome"] == "stop_requested"
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    (line,) = [line for line in log_lines(capsys.readouterr().out) if line["message"] == "deployment stop"]
    assert line["trigger"] == "http"
    assert line["requester"].startswith("arn:aws:")
    assert line["correlation_id"] == event["requestContext"]["requestId"]


def test_function_url_base64_body_flag_is_sent_as_given(seeded: Any, lambda_context: Any) -> None:
    response = lambda_handler(load_event("function-url-stop.json"), lambda_context)

    assert body_of(response)["autoRollbackEnabled"] is False
    assert fake_codedeploy.calls()[-1].params == {"deploymentId": IN_FLIGHT_ID, "autoRollbackEnabled": False}


def test_stop_by_path_without_body_uses_the_default_rollback(seeded: Any, lambda_context: Any) -> None:
    response = lambda_handler(with_body(load_event("rest-stop.json"), None), lambda_context)

    assert response["statusCode"] == 200
    assert fake_codedeploy.calls()[-1].params == {"deploymentId": IN_FLIGHT_ID, "autoRollbackEnabled": True}


def test_get_status_shows_status_group_creator_and_rollback_after_a_stop(
    seeded: Any, lambda_context: Any
) -> None:
    lambda_handler(load_event("http-api-stop.json"), lambda_context)

    response = lambda_handler(load_event("http-api-status.json"), lambda_context)

    assert response["statusCode"] == 200
    status = body_of(response)
    assert status["deploymentId"] == IN_FLIGHT_ID
    assert status["status"] == "Stopped"
    assert (status["applicationName"], status["deploymentGroupName"]) == ("checkout", "prod")
    assert status["creator"] == "user"
    assert status["rollbackInfo"]["rollbackMessage"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": "yes"}', "autoRollbackEnabled must be true"),
        ('{"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": 1}', "autoRollbackEnabled must be true"),
        (
            '{"deploymentId": "d-LGUMS25CC", "autoRollbackEnabled": "true"}',
            "autoRollbackEnabled must be true",
        ),
        ('{"deploymentId": "LGUMS25CC"}', "deploymentId must be d- followed by 9"),
        ('{"deploymentId": "d-LGUMS25C"}', "deploymentId must be d- followed by 9"),
        ('{"autoRollbackEnabled": true}', "deploymentId is required"),
        ('{"deploymentId": "d-LGUMS25CC", "reason": "bad deploy"}', "unknown field 'reason'"),
        ("deploymentId=d-LGUMS25CC", "not valid JSON"),
        ('["d-LGUMS25CC"]', "must be a JSON object"),
        (None, "must be a JSON object"),
    ],
)
def test_invalid_stop_body_is_400_naming_the_field_and_calls_nothing(
    seeded: Any, lambda_context: Any, body: str | None, message: str
) -> None:
    response = lambda_handler(with_body(load_event("http-api-stop.json"), body), lambda_context)

    assert response["statusCode"] == 400
    assert body_of(response)["error"] == "InvalidRequest"
    assert message in body_of(response)["message"]
    assert operations() == []


def test_the_invalid_event_file_is_refused(seeded: Any, lambda_context: Any) -> None:
    response = lambda_handler(load_event("http-api-invalid.json"), lambda_context)

    assert response["statusCode"] == 400
    assert operations() == []


def test_path_and_body_ids_that_disagree_are_refused(seeded: Any, lambda_context: Any) -> None:
    event = with_body(load_event("rest-stop.json"), json.dumps({"deploymentId": COMPLETED_ID}))

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 400
    assert "does not match the path" in body_of(response)["message"]
    assert operations() == []


def test_invalid_id_in_the_path_is_400(seeded: Any, lambda_context: Any) -> None:
    event = load_event("rest-stop.json")
    event["path"] = "/deployments/not-an-id/stop"

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 400
    assert "deploymentId must be" in body_of(response)["message"]
    assert operations() == []


@pytest.mark.parametrize("base64_encoded", [False, True])
def test_body_over_16_kib_is_413(seeded: Any, lambda_context: Any, base64_encoded: bool) -> None:
    body = json.dumps({"deploymentId": IN_FLIGHT_ID, "padding": "x" * 17_000})
    event = load_event("function-url-stop.json")
    event["body"] = base64.b64encode(body.encode()).decode() if base64_encoded else body
    event["isBase64Encoded"] = base64_encoded

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 413
    assert body_of(response)["error"] == "PayloadTooLarge"
    assert operations() == []


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nowhere"), ("GET", "/stop"), ("DELETE", "/deployments/d-LGUMS25CC")]
)
def test_unknown_routes_and_methods_are_404_with_our_error_body(
    seeded: Any, lambda_context: Any, method: str, path: str
) -> None:
    event = load_event("http-api-status.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 404
    assert body_of(response)["error"] == "RouteNotFound"
    assert operations() == []


def test_already_completed_deployment_is_409_saying_so(seeded: Any, lambda_context: Any) -> None:
    event = with_body(load_event("http-api-stop.json"), json.dumps({"deploymentId": COMPLETED_ID}))

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 409
    assert body_of(response)["error"] == "DeploymentAlreadyCompleted"
    assert "had already completed" in body_of(response)["message"]


def test_unknown_deployment_is_404(local_cd: Any, lambda_context: Any) -> None:
    response = lambda_handler(load_event("http-api-stop.json"), lambda_context)

    assert response["statusCode"] == 404
    assert body_of(response)["error"] == "DeploymentNotFound"


def test_group_outside_the_allowlist_is_403_and_not_stopped(
    seeded: Any, lambda_context: Any, configure: Any
) -> None:
    configure(ALLOWED_DEPLOYMENT_GROUPS="payments/prod")

    response = lambda_handler(load_event("rest-stop.json"), lambda_context)

    assert response["statusCode"] == 403
    assert body_of(response)["error"] == "DeploymentGroupNotAllowed"
    assert "StopDeployment" not in operations()


def test_dry_run_over_http_does_not_stop(seeded: Any, lambda_context: Any, configure: Any) -> None:
    configure(DRY_RUN="true")

    response = lambda_handler(load_event("http-api-stop.json"), lambda_context)

    assert response["statusCode"] == 200
    assert body_of(response)["outcome"] == "dry_run"
    assert "StopDeployment" not in operations()


@pytest.mark.parametrize(
    ("code", "http_status", "expected_status", "error"),
    [
        ("ThrottlingException", 400, 429, "Throttled"),
        ("AccessDeniedException", 400, 403, "AccessDenied"),
        ("UnsupportedActionForDeploymentTypeException", 400, 422, "UnsupportedDeploymentType"),
        ("InvalidDeploymentIdException", 400, 400, "InvalidRequest"),
        ("DeploymentIdRequiredException", 400, 400, "InvalidRequest"),
        ("DeploymentDoesNotExistException", 400, 404, "DeploymentNotFound"),
        ("DeploymentGroupDoesNotExistException", 400, 404, "DeploymentNotFound"),
        ("DeploymentAlreadyCompletedException", 400, 409, "DeploymentAlreadyCompleted"),
        ("InternalFailure", 500, 502, "CodeDeployUnavailable"),
        ("ServiceUnavailable", 503, 502, "CodeDeployUnavailable"),
        ("SomethingNewException", 400, 502, "CodeDeployUnavailable"),
    ],
)
def test_error_table_maps_each_codedeploy_error(
    seeded: Any,
    lambda_context: Any,
    code: str,
    http_status: int,
    expected_status: int,
    error: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_codedeploy.inject_error(
        "StopDeployment",
        code,
        http_status=http_status,
        message="User: arn:aws:sts::111122223333:assumed-role/x is not authorized",
        times=-1,
    )
    event = load_event("http-api-stop.json")

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == expected_status
    body = body_of(response)
    assert body["error"] == error
    assert body["requestId"] == event["requestContext"]["requestId"]
    assert "arn:" not in response["body"]
    assert "Traceback" not in response["body"]
    if expected_status == 429:
        assert int(response["headers"]["Retry-After"]) > 0
    # AWS's own message reaches the log (for the operator), never the response.
    failures = [
        line for line in log_lines(capsys.readouterr().out) if line["message"] == "CodeDeploy call failed"
    ]
    assert failures[0]["awsErrorCode"] == code


@pytest.mark.parametrize(
    ("fault", "expected_status", "error"),
    [
        (ReadTimeoutError(endpoint_url="http://codedeploy"), 504, "CodeDeployTimeout"),
        (ConnectTimeoutError(endpoint_url="http://codedeploy"), 504, "CodeDeployTimeout"),
    ],
)
def test_timeouts_are_504_after_retries(
    seeded: Any, lambda_context: Any, fault: Exception, expected_status: int, error: str
) -> None:
    # The local CodeDeploy answers instantly, so the timeout is raised where botocore would raise it.
    attempts = []

    def time_out(**_: Any) -> None:
        attempts.append(1)
        raise fault

    codedeploy.client().meta.events.register("before-send.codedeploy.StopDeployment", time_out)

    response = lambda_handler(load_event("http-api-stop.json"), lambda_context)

    assert response["statusCode"] == expected_status
    assert body_of(response)["error"] == error
    assert len(attempts) == clients.MAX_ATTEMPTS


def test_a_form_encoded_body_is_refused_as_not_json(seeded: Any, lambda_context: Any) -> None:
    # curl -d sends application/x-www-form-urlencoded unless told otherwise.
    event = load_event("rest-stop.json")
    event["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
    event["multiValueHeaders"]["Content-Type"] = ["application/x-www-form-urlencoded"]

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 400
    assert "must be JSON" in body_of(response)["message"]
    assert operations() == []


@pytest.mark.parametrize("body", ["//79/w==", "not base64!"])
def test_a_body_that_is_not_utf8_or_not_base64_is_400(seeded: Any, lambda_context: Any, body: str) -> None:
    event = load_event("function-url-stop.json")
    event["body"] = body  # flagged base64: b"\xff\xfe\xfd\xff", then not base64 at all

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 400
    assert body_of(response)["error"] == "InvalidRequest"
    assert operations() == []


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=x", "text/plain", "application/x-www-form-urlencoded"]
)
def test_a_body_not_sent_as_json_is_refused_rather_than_misread(
    seeded: Any, lambda_context: Any, content_type: str
) -> None:
    # Read as multipart, this body was once an empty form: the stop went ahead WITH rollback.
    event = with_body(load_event("rest-stop.json"), '{"autoRollbackEnabled": false}')
    event["headers"] = {**event["headers"], "Content-Type": content_type}
    event["multiValueHeaders"] = {**event["multiValueHeaders"], "Content-Type": [content_type]}

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 400
    assert "must be JSON" in body_of(response)["message"]
    assert operations() == []


def test_json_content_type_in_any_case_is_json(seeded: Any, lambda_context: Any) -> None:
    event = with_body(load_event("rest-stop.json"), '{"autoRollbackEnabled": false}')
    event["headers"] = {**event["headers"], "Content-Type": "Application/JSON; charset=utf-8"}
    event["multiValueHeaders"] = {
        **event["multiValueHeaders"],
        "Content-Type": ["Application/JSON; charset=utf-8"],
    }

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 200
    assert fake_codedeploy.calls()[-1].params["autoRollbackEnabled"] is False


@pytest.mark.parametrize(
    ("stage", "raw_path"),
    [("prod", f"/prod/deployments/{IN_FLIGHT_ID}/stop"), ("prod", f"/deployments/{IN_FLIGHT_ID}/stop")],
)
def test_an_http_api_stage_in_the_path_is_not_part_of_the_route(
    seeded: Any, lambda_context: Any, stage: str, raw_path: str
) -> None:
    # A named stage prefixes rawPath on the execute-api URL, not behind a custom domain.
    event = load_event("http-api-stop.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = raw_path
    event["requestContext"]["stage"] = stage
    event["body"] = None

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 200
    assert status_of(IN_FLIGHT_ID) == "Stopped"


def test_a_rest_path_with_a_trailing_slash_finds_its_route(seeded: Any, lambda_context: Any) -> None:
    event = load_event("rest-stop.json")
    event["path"] += "/"

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 200
    assert status_of(IN_FLIGHT_ID) == "Stopped"
