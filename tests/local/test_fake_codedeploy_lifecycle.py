"""The local CodeDeploy after a stop, through boto3: the stop lands (at once or later), a rollback
deployment starts and ends, and each change is an EventBridge state-change event in the outbox."""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from local import fake_codedeploy as cd

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_codedeploy.type_defs import AutoRollbackConfigurationTypeDef

APP, GROUP = "checkout", "prod"
DELAY = 0.3  # long enough for the few calls a test makes before a change is due
ON_REQUEST: AutoRollbackConfigurationTypeDef = {"enabled": True, "events": ["DEPLOYMENT_STOP_ON_REQUEST"]}
EVENT_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
DETAIL_KEYS = {"region", "application", "deploymentGroup", "deploymentId", "instanceGroupId", "state"}


@pytest.fixture
def client(local_cd: CodeDeployClient) -> CodeDeployClient:
    return local_cd


def info(client: CodeDeployClient, deployment_id: str) -> Any:
    return client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]


def states(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["detail"]["state"], e["detail"]["deploymentId"]) for e in events]


def with_last_good(client: CodeDeployClient) -> tuple[str, str]:
    """A Succeeded deployment (the group's last good revision) and an InProgress one; their ids."""
    good = cd.create_deployment(client, APP, GROUP, status="Succeeded")
    return good, cd.create_deployment(client, APP, GROUP)


def rollback_of(client: CodeDeployClient, deployment_id: str) -> str:
    return str(info(client, deployment_id)["rollbackInfo"]["rollbackDeploymentId"])


def wait_and_advance() -> None:
    time.sleep(DELAY + 0.05)
    cd.advance()


def test_a_delayed_stop_answers_pending_until_it_lands(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP)
    cd.set_stop_delay(DELAY)

    first = client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)
    again = client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)

    assert (first["status"], again["status"]) == ("Pending", "Pending")
    assert info(client, deployment_id)["status"] == "InProgress"
    assert "errorInformation" not in info(client, deployment_id)
    assert cd.take_events() == []
    wait_and_advance()
    landed = info(client, deployment_id)
    assert landed["status"] == "Stopped"
    assert landed["errorInformation"]["code"] == "MANUAL_STOP"
    assert states(cd.take_events()) == [("STOP", deployment_id)]  # one stop, not one per request


def test_a_delayed_stop_of_a_queued_deployment_says_succeeded_then_pending(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP, status="Queued")
    cd.set_stop_delay(DELAY)

    assert client.stop_deployment(deploymentId=deployment_id)["status"] == "Succeeded"
    assert client.stop_deployment(deploymentId=deployment_id)["status"] == "Pending"
    assert info(client, deployment_id)["status"] == "Queued"


def test_a_due_stop_lands_at_the_next_request_without_advance(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP)
    cd.set_stop_delay(DELAY)
    client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)

    time.sleep(DELAY + 0.05)

    assert info(client, deployment_id)["status"] == "Stopped"
    with pytest.raises(client.exceptions.DeploymentAlreadyCompletedException):
        client.stop_deployment(deploymentId=deployment_id)


def test_a_stop_with_rollback_starts_a_rollback_deployment_linked_both_ways(client: CodeDeployClient) -> None:
    good, stopped = with_last_good(client)

    client.stop_deployment(deploymentId=stopped, autoRollbackEnabled=True)

    rollback_id = rollback_of(client, stopped)
    assert re.fullmatch(r"d-[A-Z0-9]{9}", rollback_id)
    assert info(client, stopped)["rollbackInfo"]["rollbackMessage"]
    rollback = info(client, rollback_id)
    assert (rollback["applicationName"], rollback["deploymentGroupName"]) == (APP, GROUP)
    assert rollback["creator"] == "codeDeployRollback"
    assert rollback["revision"] == info(client, good)["revision"]
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == stopped
    assert rollback["rollbackInfo"]["rollbackMessage"]
    assert rollback["status"] == "Succeeded"  # by default a rollback ends at once, well
    (batch,) = client.batch_get_deployments(deploymentIds=[rollback_id])["deploymentsInfo"]
    assert batch["creator"] == "codeDeployRollback"
    group = client.get_deployment_group(applicationName=APP, deploymentGroupName=GROUP)["deploymentGroupInfo"]
    assert group["lastSuccessfulDeployment"]["deploymentId"] == rollback_id


def test_a_rollback_runs_until_its_result_is_due(client: CodeDeployClient) -> None:
    _, stopped = with_last_good(client)
    cd.set_rollback_result("Succeeded", after=DELAY)

    client.stop_deployment(deploymentId=stopped, autoRollbackEnabled=True)

    rollback_id = rollback_of(client, stopped)
    assert info(client, rollback_id)["status"] == "InProgress"
    active = client.list_deployments(
        applicationName=APP, deploymentGroupName=GROUP, includeOnlyStatuses=list(cd.ACTIVE_STATUSES)
    )
    assert active["deployments"] == [rollback_id]
    wait_and_advance()
    assert info(client, rollback_id)["status"] == "Succeeded"


def test_a_failed_rollback_carries_error_information(client: CodeDeployClient) -> None:
    _, stopped = with_last_good(client)
    cd.set_rollback_result("Failed")

    client.stop_deployment(deploymentId=stopped, autoRollbackEnabled=True)

    rollback = info(client, rollback_of(client, stopped))
    assert rollback["status"] == "Failed"
    assert rollback["errorInformation"]["code"]
    assert [s for s, _ in states(cd.take_events())] == ["STOP", "START", "FAILURE"]


def test_no_rollback_deployment_without_a_last_successful_one(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP)

    client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)

    rollback_info = info(client, deployment_id)["rollbackInfo"]
    assert "rollbackDeploymentId" not in rollback_info
    assert "no last successful revision" in rollback_info["rollbackMessage"]
    assert client.list_deployments()["deployments"] == [deployment_id]
    assert states(cd.take_events()) == [("STOP", deployment_id)]


@pytest.mark.parametrize(
    ("group_config", "sent", "rolls_back"),
    [
        (ON_REQUEST, {}, True),
        ({"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}, {}, False),
        ({"enabled": False, "events": ["DEPLOYMENT_STOP_ON_REQUEST"]}, {}, False),
        (None, {}, False),
        (ON_REQUEST, {"autoRollbackEnabled": False}, False),  # an explicit flag wins
        (None, {"autoRollbackEnabled": True}, True),
    ],
)
def test_the_group_configuration_decides_when_the_flag_is_omitted(
    client: CodeDeployClient,
    group_config: AutoRollbackConfigurationTypeDef | None,
    sent: dict[str, bool],
    rolls_back: bool,
) -> None:
    client.create_application(applicationName=APP, computePlatform="Server")
    client.create_deployment_group(
        applicationName=APP,
        deploymentGroupName=GROUP,
        serviceRoleArn=cd.DUMMY_SERVICE_ROLE_ARN,
        **({"autoRollbackConfiguration": group_config} if group_config else {}),  # type: ignore[arg-type]
    )
    _, stopped = with_last_good(client)

    client.stop_deployment(deploymentId=stopped, **sent)

    stopped_info = info(client, stopped)
    assert stopped_info["status"] == "Stopped"
    assert ("rollbackDeploymentId" in stopped_info.get("rollbackInfo", {})) is rolls_back
    if not rolls_back:
        assert "rollbackInfo" not in stopped_info


def test_events_come_in_order_in_the_eventbridge_shape(client: CodeDeployClient) -> None:
    _, stopped = with_last_good(client)
    cd.set_stop_delay(DELAY)
    client.stop_deployment(deploymentId=stopped, autoRollbackEnabled=True)

    wait_and_advance()
    events = cd.take_events()

    rollback_id = rollback_of(client, stopped)
    assert states(events) == [("STOP", stopped), ("START", rollback_id), ("SUCCESS", rollback_id)]
    for event in events:
        assert set(event) == EVENT_KEYS
        assert set(event["detail"]) == DETAIL_KEYS
        assert (event["version"], event["source"]) == ("0", "aws.codedeploy")
        assert event["detail-type"] == "CodeDeploy Deployment State-change Notification"
        assert (event["account"], event["region"], event["detail"]["region"]) == (
            "123456789012",
            "us-east-1",
            "us-east-1",
        )
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
        assert event["resources"] == [
            "arn:aws:codedeploy:us-east-1:123456789012:application:checkout",
            "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:checkout/prod",
        ]
        assert (event["detail"]["application"], event["detail"]["deploymentGroup"]) == (APP, GROUP)
        uuid.UUID(event["id"])
        uuid.UUID(event["detail"]["instanceGroupId"])
    assert len({e["id"] for e in events}) == 3
    instance_groups = [e["detail"]["instanceGroupId"] for e in events]
    assert instance_groups[1] == instance_groups[2] != instance_groups[0]  # one per deployment
    assert cd.take_events() == []


@pytest.mark.parametrize(
    ("status", "state", "error"),
    [("Succeeded", "SUCCESS", False), ("Failed", "FAILURE", True), ("Stopped", "STOP", True)],
)
def test_complete_ends_a_deployment_first_and_a_pending_stop_never_lands(
    client: CodeDeployClient, status: str, state: str, error: bool
) -> None:
    _, deployment_id = with_last_good(client)
    cd.set_stop_delay(DELAY)
    client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)

    cd.complete(deployment_id, status)
    wait_and_advance()

    assert states(cd.take_events()) == [(state, deployment_id)]
    ended = info(client, deployment_id)
    assert ended["status"] == status
    assert ("errorInformation" in ended) is error
    assert "rollbackInfo" not in ended
    with pytest.raises(ValueError, match="already"):
        cd.complete(deployment_id, "Failed")


def test_complete_takes_only_terminal_statuses(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP)

    with pytest.raises(ValueError, match="completes as one of"):
        cd.complete(deployment_id, "Ready")


def test_set_status_seeds_silently(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP, status="Succeeded")
    for status in cd.ALL_STATUSES:
        cd.set_status(deployment_id, status)

    assert cd.take_events() == []


def test_reset_forgets_events_pending_stops_and_settings(client: CodeDeployClient) -> None:
    _, deployment_id = with_last_good(client)
    cd.create_deployment(client, APP, GROUP, status="Queued")
    cd.set_rollback_result("Failed", after=DELAY)
    client.stop_deployment(deploymentId=cd.create_deployment(client, APP, GROUP), autoRollbackEnabled=True)
    cd.set_stop_delay(DELAY)
    client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)

    cd.reset()
    wait_and_advance()

    assert cd.take_events() == []
    assert info(client, deployment_id)["status"] == "InProgress"  # its stop was forgotten
    client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)  # lands at once again
    assert info(client, deployment_id)["status"] == "Stopped"
    assert info(client, rollback_of(client, deployment_id))["status"] == "Succeeded"


@pytest.mark.parametrize(
    "bad",
    [
        lambda: cd.set_stop_delay(-1),
        lambda: cd.set_rollback_result("Stopped"),
        lambda: cd.set_rollback_result("Succeeded", after=-0.1),
    ],
)
def test_settings_are_checked(bad: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (each message is specific; the call is the point)
        bad()
