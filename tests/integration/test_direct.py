"""Direct invocation (Step Functions, scripts): lambda_handler with events/ on the local CodeDeploy."""

from typing import Any

import pytest

from local import fake_codedeploy
from local.world import COMPLETED_ID, IN_FLIGHT_ID, load_event, status_of
from stop_deployment import errors
from stop_deployment.handler import lambda_handler
from tests.logs import log_lines, metric_blobs


def stop_calls() -> list[dict[str, Any]]:
    return [call.params for call in fake_codedeploy.calls() if call.operation == "StopDeployment"]


def test_stop_in_flight_deployment_stops_it_with_rollback_by_default(
    seeded: Any, lambda_context: Any
) -> None:
    result = lambda_handler(load_event("direct-stop.json"), lambda_context)

    assert result == {
        "deploymentId": IN_FLIGHT_ID,
        "status": "Pending",
        "statusMessage": result["statusMessage"],
        "autoRollbackEnabled": True,
        "outcome": "stop_requested",
    }
    assert stop_calls() == [{"deploymentId": IN_FLIGHT_ID, "autoRollbackEnabled": True}]
    assert status_of(IN_FLIGHT_ID) == "Stopped"


def test_stop_sends_explicit_false_rollback_flag(seeded: Any, lambda_context: Any) -> None:
    result = lambda_handler(load_event("direct-stop-no-rollback.json"), lambda_context)

    assert result["autoRollbackEnabled"] is False
    assert stop_calls() == [{"deploymentId": IN_FLIGHT_ID, "autoRollbackEnabled": False}]


@pytest.mark.parametrize(
    ("default", "sent"),
    [
        ("true", {"autoRollbackEnabled": True}),
        ("false", {"autoRollbackEnabled": False}),
        ("deployment-group", {}),
    ],
)
def test_omitted_rollback_flag_follows_default_auto_rollback(
    seeded: Any, lambda_context: Any, configure: Any, default: str, sent: dict[str, bool]
) -> None:
    configure(DEFAULT_AUTO_ROLLBACK=default)

    result = lambda_handler(load_event("direct-stop.json"), lambda_context)

    assert stop_calls() == [{"deploymentId": IN_FLIGHT_ID, **sent}]
    assert result["autoRollbackEnabled"] == sent.get("autoRollbackEnabled")


def test_lower_case_id_with_spaces_is_normalised_before_the_call(seeded: Any, lambda_context: Any) -> None:
    result = lambda_handler({"deploymentId": "  d-lgums25cc\n"}, lambda_context)

    assert result["deploymentId"] == IN_FLIGHT_ID
    assert stop_calls() == [{"deploymentId": IN_FLIGHT_ID, "autoRollbackEnabled": True}]


def test_already_completed_deployment_raises_deployment_already_completed(
    seeded: Any, lambda_context: Any
) -> None:
    with pytest.raises(errors.DeploymentAlreadyCompleted, match="had already completed"):
        lambda_handler(load_event("direct-stop-already-completed.json"), lambda_context)

    assert status_of(COMPLETED_ID) == "Succeeded"


def test_invalid_request_raises_invalid_request_and_calls_nothing(seeded: Any, lambda_context: Any) -> None:
    with pytest.raises(errors.InvalidRequest, match="deploymentId must be d- followed by 9"):
        lambda_handler(load_event("direct-invalid.json"), lambda_context)

    assert fake_codedeploy.calls() == []


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"deploymentId": IN_FLIGHT_ID, "autoRollbackEnabled": "true"},
            "autoRollbackEnabled must be true or false",
        ),
        (
            {"deploymentId": IN_FLIGHT_ID, "autoRollbackEnabled": 1},
            "autoRollbackEnabled must be true or false",
        ),
        ({"autoRollbackEnabled": True}, "deploymentId is required"),
        ({"deploymentId": IN_FLIGHT_ID, "force": True}, "unknown field 'force'"),
        ({"deploymentId": "D-LGUMS25CC"}, "deploymentId must be"),
        ({"deploymentId": 12345}, "deploymentId must be"),
        ([IN_FLIGHT_ID], "must be a JSON object"),
        (None, "must be a JSON object"),
    ],
)
def test_each_validation_rule_names_the_field(
    seeded: Any, lambda_context: Any, payload: Any, message: str
) -> None:
    with pytest.raises(errors.InvalidRequest, match=message):
        lambda_handler(payload, lambda_context)

    assert fake_codedeploy.calls() == []


def test_allowlist_refuses_a_group_outside_it_without_stopping(
    seeded: Any, lambda_context: Any, configure: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(ALLOWED_DEPLOYMENT_GROUPS="payments/*, checkout/canary")

    with pytest.raises(errors.DeploymentGroupNotAllowed, match="checkout/prod"):
        lambda_handler(load_event("direct-stop.json"), lambda_context)

    assert [call.operation for call in fake_codedeploy.calls()] == ["GetDeployment"]
    assert status_of(IN_FLIGHT_ID) == "InProgress"
    (line,) = [line for line in log_lines(capsys.readouterr().out) if line["message"] == "deployment stop"]
    assert line["outcome"] == "refused"
    assert line["error"] == "DeploymentGroupNotAllowed"


def test_allowlist_match_looks_up_then_stops_and_reports_the_group(
    seeded: Any, lambda_context: Any, configure: Any
) -> None:
    configure(ALLOWED_DEPLOYMENT_GROUPS="checkout/*")

    result = lambda_handler(load_event("direct-stop.json"), lambda_context)

    assert [call.operation for call in fake_codedeploy.calls()] == ["GetDeployment", "StopDeployment"]
    assert (result["applicationName"], result["deploymentGroupName"]) == ("checkout", "prod")
    assert status_of(IN_FLIGHT_ID) == "Stopped"


def test_dry_run_reports_what_would_stop_without_calling_stop_deployment(
    seeded: Any, lambda_context: Any, configure: Any
) -> None:
    configure(DRY_RUN="true")

    result = lambda_handler(load_event("direct-stop.json"), lambda_context)

    assert result["outcome"] == "dry_run"
    assert result["status"] is None
    assert "InProgress" in result["statusMessage"]
    assert stop_calls() == []
    assert status_of(IN_FLIGHT_ID) == "InProgress"


def test_one_structured_log_line_and_metric_per_stop(
    seeded: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_handler(load_event("direct-stop.json"), lambda_context)

    output = capsys.readouterr().out
    (line,) = [line for line in log_lines(output) if line["message"] == "deployment stop"]
    assert line["deploymentId"] == IN_FLIGHT_ID
    assert line["outcome"] == "stop_requested"
    assert line["status"] == "Pending"
    assert line["autoRollbackEnabled"] is True
    assert line["trigger"] == "direct"
    assert line["correlation_id"] == lambda_context.aws_request_id
    assert line["codedeployMs"] >= 0
    (blob,) = metric_blobs(output)
    assert blob["StopsRequested"] == [1.0] or blob["StopsRequested"] == 1.0
    assert blob["trigger"] == "direct"


@pytest.mark.parametrize(
    ("code", "http_status", "error", "attempts"),
    [
        ("ThrottlingException", 400, errors.Throttled, 3),
        ("AccessDeniedException", 400, errors.AccessDenied, 1),
        ("UnsupportedActionForDeploymentTypeException", 400, errors.UnsupportedDeploymentType, 1),
        ("InvalidDeploymentIdException", 400, errors.InvalidRequest, 1),
        ("DeploymentIdRequiredException", 400, errors.InvalidRequest, 1),
        ("DeploymentGroupDoesNotExistException", 400, errors.DeploymentNotFound, 1),
        ("InternalFailure", 500, errors.CodeDeployUnavailable, 3),
    ],
)
def test_codedeploy_errors_raise_the_domain_error_named_for_them(
    seeded: Any,
    lambda_context: Any,
    code: str,
    http_status: int,
    error: type[Exception],
    attempts: int,
) -> None:
    fake_codedeploy.inject_error("StopDeployment", code, http_status=http_status, times=-1)

    with pytest.raises(error) as raised:
        lambda_handler(load_event("direct-stop.json"), lambda_context)

    assert type(raised.value) is error
    assert "arn:" not in str(raised.value)
    assert len(stop_calls()) == attempts


def test_unknown_deployment_raises_deployment_not_found(local_cd: Any, lambda_context: Any) -> None:
    with pytest.raises(errors.DeploymentNotFound, match=IN_FLIGHT_ID):
        lambda_handler(load_event("direct-stop.json"), lambda_context)


def test_lookup_denied_by_iam_under_an_allowlist_is_a_refusal_not_an_outage(
    seeded: Any, lambda_context: Any, configure: Any
) -> None:
    # The template scopes GetDeployment to the allowed groups, so IAM denies the lookup of others.
    configure(ALLOWED_DEPLOYMENT_GROUPS="payments/*")
    fake_codedeploy.inject_error("GetDeployment", "AccessDeniedException", times=-1)

    with pytest.raises(errors.DeploymentGroupNotAllowed):
        lambda_handler(load_event("direct-stop.json"), lambda_context)

    assert stop_calls() == []
