"""Alarms (EventBridge, alarm Lambda action, SNS) and Stop Deployment Request events, via lambda_handler."""

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from local import fake_codedeploy
from local.world import (
    ALARM,
    COMPLETED_ID,
    IN_FLIGHT_ID,
    OTHER_TEAM_ID,
    QUEUED_ID,
    load_event,
    seed_alarm,
    status_of,
)
from stop_deployment import cloudwatch, errors
from stop_deployment.handler import lambda_handler
from tests.logs import log_lines

CONFIG_TARGETS = json.dumps({"kill-switch-checkout-*": ["checkout/prod"]})


def stopped_ids() -> list[str]:
    return sorted(
        c.params["deploymentId"] for c in fake_codedeploy.calls() if c.operation == "StopDeployment"
    )


@pytest.mark.parametrize(
    "event_file", ["alarm-eventbridge.json", "alarm-lambda-action.json", "alarm-sns.json"]
)
def test_alarm_stops_every_deployment_in_flight_in_its_group_and_nothing_else(
    deployments: Any, lambda_context: Any, configure: Any, event_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(ALARM_TARGETS=CONFIG_TARGETS)

    summary = lambda_handler(load_event(event_file), lambda_context)

    assert summary["outcome"] == "stops_attempted"
    assert summary["alarm"]["name"] == ALARM
    assert summary["counts"] == {"stop_requested": 2}
    assert stopped_ids() == sorted([IN_FLIGHT_ID, QUEUED_ID])
    assert status_of(IN_FLIGHT_ID) == status_of(QUEUED_ID) == "Stopped"
    assert status_of(OTHER_TEAM_ID) == "InProgress"
    assert summary["targets"] == [
        {"target": "checkout/prod", "sources": ["config"], "inFlight": summary["targets"][0]["inFlight"]}
    ]
    lines = log_lines(capsys.readouterr().out)
    stops = [line for line in lines if line["message"] == "deployment stop"]
    assert sorted(line["deploymentId"] for line in stops) == sorted([IN_FLIGHT_ID, QUEUED_ID])
    assert {(line["trigger"], line["alarmName"], line["autoRollbackEnabled"]) for line in stops} == {
        ("alarm", ALARM, True)
    }
    (handled,) = [line for line in lines if line["message"] == "alarm handled"]
    assert handled["counts"] == {"stop_requested": 2}


def test_alarm_back_to_ok_is_ignored_without_calling_codedeploy(
    deployments: Any, lambda_context: Any, configure: Any
) -> None:
    configure(ALARM_TARGETS=CONFIG_TARGETS)

    summary = lambda_handler(load_event("alarm-eventbridge-ok.json"), lambda_context)

    assert summary["outcome"] == "ignored"
    assert fake_codedeploy.calls() == []


def test_composite_alarm_uses_the_tags_its_event_carries(deployments: Any, lambda_context: Any) -> None:
    summary = lambda_handler(load_event("alarm-eventbridge-composite.json"), lambda_context)

    assert summary["targets"][0]["sources"] == ["tags"]
    assert stopped_ids() == sorted([IN_FLIGHT_ID, QUEUED_ID])


def test_alarm_tags_are_looked_up_when_the_event_has_none(deployments: Any, lambda_context: Any) -> None:
    seed_alarm("checkout/prod payments/prod")

    summary = lambda_handler(load_event("alarm-lambda-action.json"), lambda_context)

    assert [t["target"] for t in summary["targets"]] == ["checkout/prod", "payments/prod"]
    assert stopped_ids() == sorted([IN_FLIGHT_ID, QUEUED_ID, OTHER_TEAM_ID])


def test_a_failed_tag_lookup_is_logged_and_configuration_still_applies(
    deployments: Any, lambda_context: Any, configure: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(ALARM_TARGETS=CONFIG_TARGETS)
    with Stubber(cloudwatch.client()) as stubber:
        stubber.add_client_error("list_tags_for_resource", "AccessDenied", http_status_code=403)

        summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert summary["counts"] == {"stop_requested": 2}
    warnings = [
        line for line in log_lines(capsys.readouterr().out) if line["message"].startswith("Could not read")
    ]
    assert warnings[0]["awsErrorCode"] == "AccessDenied"


def test_discovery_finds_groups_that_list_the_alarm_across_pages(
    deployments: Any, lambda_context: Any, configure: Any
) -> None:
    for application in ("a1", "a2", "a3"):
        deployments.create_application(applicationName=application)
        for group in ("g1", "g2", "g3"):
            deployments.create_deployment_group(
                applicationName=application,
                deploymentGroupName=group,
                serviceRoleArn=fake_codedeploy.DUMMY_SERVICE_ROLE_ARN,
                alarmConfiguration={
                    "enabled": True,
                    "alarms": [{"name": ALARM if group == "g2" else "other"}],
                },
            )
    deployed = fake_codedeploy.create_deployment(deployments, "a3", "g2")
    fake_codedeploy.set_list_page_size(2)  # applications, groups and deployments all take several pages
    configure(DISCOVER_ALARM_TARGETS="true")

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert [(t["target"], t["sources"]) for t in summary["targets"]] == [
        ("a1/g2", ["discovery"]),
        ("a2/g2", ["discovery"]),
        ("a3/g2", ["discovery"]),
    ]
    assert stopped_ids() == [deployed]


def test_sources_are_united_without_duplicates(deployments: Any, lambda_context: Any, configure: Any) -> None:
    configure(ALARM_TARGETS=json.dumps({ALARM: ["checkout/prod"], "kill-switch-*": ["checkout/prod"]}))
    seed_alarm("checkout/prod")

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert [(t["target"], t["sources"]) for t in summary["targets"]] == [
        ("checkout/prod", ["config", "tags"])
    ]
    assert stopped_ids() == sorted([IN_FLIGHT_ID, QUEUED_ID])


def test_a_deployment_in_two_targets_is_stopped_once(
    deployments: Any, lambda_context: Any, configure: Any
) -> None:
    # Two alarm-target globs naming the same group, and every page of a one-item page size.
    configure(ALARM_TARGETS=json.dumps({"kill-switch-*": ["checkout/prod", "checkout/prod"]}))
    fake_codedeploy.set_list_page_size(1)

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert summary["counts"] == {"stop_requested": 2}
    assert stopped_ids() == sorted([IN_FLIGHT_ID, QUEUED_ID])


@pytest.mark.parametrize("active", fake_codedeploy.ACTIVE_STATUSES)
def test_every_in_flight_status_is_stopped(
    seeded: Any, lambda_context: Any, configure: Any, active: str
) -> None:
    fake_codedeploy.set_status(IN_FLIGHT_ID, active)
    configure(ALARM_TARGETS=CONFIG_TARGETS)

    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert stopped_ids() == [IN_FLIGHT_ID]


@pytest.mark.parametrize("terminal", fake_codedeploy.TERMINAL_STATUSES)
def test_finished_deployments_are_not_touched(
    seeded: Any, lambda_context: Any, configure: Any, terminal: str
) -> None:
    fake_codedeploy.set_status(IN_FLIGHT_ID, terminal)
    configure(ALARM_TARGETS=CONFIG_TARGETS)

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert summary["outcome"] == "nothing_in_flight"
    assert stopped_ids() == []
    assert status_of(COMPLETED_ID) == "Succeeded"


def test_no_targets_is_a_warning_and_a_success(
    deployments: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert summary["outcome"] == "no_targets"
    assert stopped_ids() == []
    assert any(line["message"] == "No targets for this alarm" for line in log_lines(capsys.readouterr().out))


def test_a_target_outside_the_allowlist_is_refused_and_never_listed(
    deployments: Any, lambda_context: Any, configure: Any
) -> None:
    configure(
        ALARM_TARGETS=json.dumps({"kill-switch-*": ["checkout/prod", "payments/prod"]}),
        ALLOWED_DEPLOYMENT_GROUPS="payments/*",
    )

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    refused = {t["target"]: t.get("error") for t in summary["targets"]}
    assert refused == {"checkout/prod": "DeploymentGroupNotAllowed", "payments/prod": None}
    assert stopped_ids() == [OTHER_TEAM_ID]
    listed = [
        c.params["deploymentGroupName"] for c in fake_codedeploy.calls() if c.operation == "ListDeployments"
    ]
    assert listed == ["prod"]  # payments/prod only
    assert status_of(IN_FLIGHT_ID) == "InProgress"


def test_dry_run_lists_but_stops_nothing(deployments: Any, lambda_context: Any, configure: Any) -> None:
    configure(ALARM_TARGETS=CONFIG_TARGETS, DRY_RUN="true")

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert summary["counts"] == {"dry_run": 2}
    assert stopped_ids() == []
    assert status_of(IN_FLIGHT_ID) == "InProgress"


@pytest.mark.parametrize(
    ("setting", "sent_flags"), [("false", [False]), ("true", [True]), ("deployment-group", ["omitted"])]
)
def test_alarm_rollback_flag_follows_alarm_auto_rollback(
    deployments: Any, lambda_context: Any, configure: Any, setting: str, sent_flags: list[object]
) -> None:
    # DEFAULT_AUTO_ROLLBACK (for requests that do not say) must not leak into the alarm's own choice.
    default = "false" if setting == "true" else "true"
    configure(ALARM_TARGETS=CONFIG_TARGETS, ALARM_AUTO_ROLLBACK=setting, DEFAULT_AUTO_ROLLBACK=default)

    lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    sent = {
        c.params.get("autoRollbackEnabled", "omitted")
        for c in fake_codedeploy.calls()
        if c.operation == "StopDeployment"
    }
    assert sorted(sent, key=str) == sent_flags


def test_partial_failure_stops_the_others_then_raises_naming_the_throttled_one(
    deployments: Any, lambda_context: Any, configure: Any
) -> None:
    configure(ALARM_TARGETS=json.dumps({"kill-switch-*": ["checkout/prod", "payments/prod"]}))
    fake_codedeploy.inject_error(
        "StopDeployment", "ThrottlingException", times=-1, match={"deploymentId": QUEUED_ID}
    )

    with pytest.raises(errors.StopsIncomplete, match=QUEUED_ID) as raised:
        lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert IN_FLIGHT_ID not in str(raised.value)
    assert status_of(IN_FLIGHT_ID) == status_of(OTHER_TEAM_ID) == "Stopped"
    assert status_of(QUEUED_ID) == "Queued"
    attempts = [
        c
        for c in fake_codedeploy.calls()
        if c.operation == "StopDeployment" and c.params.get("deploymentId") == QUEUED_ID
    ]
    assert len(attempts) == 3  # the client's retries were exhausted first


def test_a_target_whose_listing_is_throttled_does_not_block_the_others(
    deployments: Any, lambda_context: Any, configure: Any
) -> None:
    configure(ALARM_TARGETS=json.dumps({"kill-switch-*": ["checkout/prod", "payments/prod"]}))
    fake_codedeploy.inject_error(
        "ListDeployments", "ThrottlingException", times=-1, match={"applicationName": "checkout"}
    )

    with pytest.raises(errors.StopsIncomplete, match="checkout/prod"):
        lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert stopped_ids() == [OTHER_TEAM_ID]


def test_a_non_retryable_failure_is_reported_not_raised(
    deployments: Any, lambda_context: Any, configure: Any
) -> None:
    configure(ALARM_TARGETS=CONFIG_TARGETS)
    fake_codedeploy.inject_error(
        "StopDeployment", "UnsupportedActionForDeploymentTypeException", match={"deploymentId": QUEUED_ID}
    )

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert summary["counts"] == {"stop_requested": 1, "failed": 1}
    (failed,) = [d for d in summary["deployments"] if d["outcome"] == "failed"]
    assert (failed["deploymentId"], failed["error"], failed["retryable"]) == (
        QUEUED_ID,
        "UnsupportedDeploymentType",
        False,
    )


def test_a_deployment_that_completes_meanwhile_is_a_success(
    deployments: Any, lambda_context: Any, configure: Any
) -> None:
    configure(ALARM_TARGETS=CONFIG_TARGETS)
    fake_codedeploy.inject_error(
        "StopDeployment", "DeploymentAlreadyCompletedException", match={"deploymentId": QUEUED_ID}
    )

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert summary["counts"] == {"stop_requested": 1, "already_completed": 1}


def test_rollback_deployments_are_left_running(deployments: Any, lambda_context: Any, configure: Any) -> None:
    # CodeDeploy started QUEUED_ID to roll back an earlier stop; stopping it would make things worse.
    fake_codedeploy.backend().deployments[QUEUED_ID].creator = "codeDeployRollback"
    configure(ALARM_TARGETS=CONFIG_TARGETS)

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    assert summary["counts"] == {"stop_requested": 1, "skipped_rollback": 1}
    assert stopped_ids() == [IN_FLIGHT_ID]
    assert status_of(QUEUED_ID) == "Queued"


def test_a_duplicate_delivery_is_harmless(deployments: Any, lambda_context: Any, configure: Any) -> None:
    configure(ALARM_TARGETS=CONFIG_TARGETS)
    event = load_event("alarm-eventbridge.json")

    first = lambda_handler(event, lambda_context)
    second = lambda_handler(event, lambda_context)

    assert first["counts"] == {"stop_requested": 2}
    assert (second["outcome"], second["counts"]) == ("nothing_in_flight", {})


@pytest.mark.parametrize(
    ("event_file", "breaks", "message"),
    [
        ("alarm-eventbridge.json", lambda e: e["detail"].pop("alarmName"), "alarmName"),
        ("alarm-eventbridge.json", lambda e: e["detail"]["state"].update(value="RED"), "detail.state.value"),
        ("alarm-lambda-action.json", lambda e: e.update(alarmArn=12), "alarmArn"),
        ("alarm-sns.json", lambda e: e["Records"][0]["Sns"].update(Message="not json"), "not JSON"),
        ("alarm-sns.json", lambda e: e["Records"].append(e["Records"][0]), "Records"),
        ("alarm-sns.json", lambda e: e["Records"][0]["Sns"].update(Message="{}"), "AlarmName"),
    ],
)
def test_malformed_alarm_events_are_refused_without_calls(
    deployments: Any, lambda_context: Any, configure: Any, event_file: str, breaks: Any, message: str
) -> None:
    configure(ALARM_TARGETS=CONFIG_TARGETS)
    event = load_event(event_file)
    breaks(event)

    with pytest.raises(errors.InvalidRequest, match=message):
        lambda_handler(event, lambda_context)

    assert fake_codedeploy.calls() == []


def test_stop_deployment_request_event_stops_that_deployment(
    deployments: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = lambda_handler(load_event("eventbridge-stop-request.json"), lambda_context)

    assert (result["deploymentId"], result["outcome"]) == (IN_FLIGHT_ID, "stop_requested")
    assert stopped_ids() == [IN_FLIGHT_ID]
    (line,) = [line for line in log_lines(capsys.readouterr().out) if line["message"] == "deployment stop"]
    assert (line["trigger"], line["requester"]) == (
        "eventbridge",
        "com.example.chatops in account 123456789012",
    )


def test_stop_deployment_request_for_a_finished_deployment_is_a_success(
    deployments: Any, lambda_context: Any
) -> None:
    event = load_event("eventbridge-stop-request.json")
    event["detail"]["deploymentId"] = COMPLETED_ID

    result = lambda_handler(event, lambda_context)

    assert result["outcome"] == "already_completed"


@pytest.mark.parametrize(
    "detail",
    [{"deploymentId": "nope"}, {"deploymentId": IN_FLIGHT_ID, "autoRollbackEnabled": "true"}, None, []],
)
def test_stop_deployment_request_is_validated_like_a_direct_invocation(
    deployments: Any, lambda_context: Any, detail: Any
) -> None:
    event = load_event("eventbridge-stop-request.json")
    event["detail"] = detail

    with pytest.raises(errors.InvalidRequest):
        lambda_handler(event, lambda_context)

    assert fake_codedeploy.calls() == []


def test_other_eventbridge_events_are_refused(deployments: Any, lambda_context: Any) -> None:
    event = load_event("eventbridge-stop-request.json")
    event["detail-type"] = "EC2 Instance State-change Notification"

    with pytest.raises(errors.InvalidRequest, match="unsupported EventBridge event"):
        lambda_handler(event, lambda_context)


def test_a_target_naming_a_missing_application_is_reported_not_retried(
    deployments: Any, lambda_context: Any, configure: Any
) -> None:
    # Real CodeDeploy answers ListDeployments so; moto would list nothing, hence the injection.
    configure(ALARM_TARGETS=json.dumps({"kill-switch-*": ["checkout/prod", "gone/prod"]}))
    fake_codedeploy.inject_error(
        "ListDeployments", "ApplicationDoesNotExistException", match={"applicationName": "gone"}
    )

    summary = lambda_handler(load_event("alarm-eventbridge.json"), lambda_context)

    (gone,) = [t for t in summary["targets"] if t["target"] == "gone/prod"]
    assert (gone["error"], gone["retryable"]) == ("DeploymentNotFound", False)
    assert summary["counts"] == {"stop_requested": 2}
