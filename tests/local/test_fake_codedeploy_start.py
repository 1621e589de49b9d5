"""The local CodeDeploy when a deployment is created: CreateDeployment starts it with a START event (the
real EventBridge shape), seeding through control.create_deployment stays silent unless it announces,
and the description round-trips."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from local import fake_codedeploy as cd

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

APP, GROUP = "checkout", "prod"
EVENT_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
DETAIL_KEYS = {"region", "application", "deploymentGroup", "deploymentId", "instanceGroupId", "state"}
EXEMPT = "hotfix for INC-42 [freeze-exempt]"


@pytest.fixture
def client(local_cd: CodeDeployClient) -> CodeDeployClient:
    return local_cd


def create_through_the_api(client: CodeDeployClient, **extra: Any) -> str:
    """What a pipeline does: CreateDeployment on an existing group (made silently here)."""
    cd.create_deployment(client, APP, GROUP, status="Succeeded")
    cd.take_events()
    return client.create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision={"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k.zip", "bundleType": "zip"}},
        **extra,
    )["deploymentId"]


def start_events(events: list[dict[str, Any]]) -> list[str]:
    return [e["detail"]["deploymentId"] for e in events if e["detail"]["state"] == "START"]


def test_create_deployment_starts_it_and_emits_start_in_the_eventbridge_shape(
    client: CodeDeployClient,
) -> None:
    deployment_id = create_through_the_api(client)

    [event] = cd.take_events()

    assert set(event) == EVENT_KEYS
    assert set(event["detail"]) == DETAIL_KEYS
    assert (event["source"], event["detail-type"]) == (
        "aws.codedeploy",
        "CodeDeploy Deployment State-change Notification",
    )
    assert event["detail"] | {"instanceGroupId": None} == {
        "region": "us-east-1",
        "application": APP,
        "deploymentGroup": GROUP,
        "deploymentId": deployment_id,
        "instanceGroupId": None,
        "state": "START",
    }
    assert event["resources"] == [
        f"arn:aws:codedeploy:us-east-1:{event['account']}:application:{APP}",
        f"arn:aws:codedeploy:us-east-1:{event['account']}:deploymentgroup:{APP}/{GROUP}",
    ]
    info = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert (info["status"], info["creator"]) == ("InProgress", "user")
    assert "startTime" in info


def test_a_started_deployment_stopped_at_start_ends_with_one_start_and_one_stop(
    client: CodeDeployClient,
) -> None:
    deployment_id = create_through_the_api(client)

    client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)

    assert [(e["detail"]["state"], e["detail"]["deploymentId"]) for e in cd.take_events()] == [
        ("START", deployment_id),
        ("STOP", deployment_id),
    ]


@pytest.mark.parametrize("status", cd.ALL_STATUSES)
def test_seeding_through_control_is_silent_by_default(client: CodeDeployClient, status: str) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP, status=status)

    assert cd.take_events() == []
    assert client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"] == status


def test_seeding_with_announce_emits_one_start_under_the_fixed_id(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP, deployment_id="d-FR0ZEN001", announce=True)

    events = cd.take_events()

    assert start_events(events) == [deployment_id] == ["d-FR0ZEN001"]
    assert set(events[0]) == EVENT_KEYS
    assert events[0]["detail"]["instanceGroupId"]


def test_seeding_leaves_later_api_creates_in_the_same_group_announced(client: CodeDeployClient) -> None:
    cd.create_deployment(client, APP, GROUP)

    deployment_id = create_through_the_api(client)

    assert start_events(cd.take_events()) == [deployment_id]


def test_description_round_trips_through_get_and_batch_get(client: CodeDeployClient) -> None:
    seeded = cd.create_deployment(client, APP, GROUP, description=EXEMPT)
    created = create_through_the_api(client, description="plain release")
    bare = cd.create_deployment(client, APP, GROUP)

    batch = client.batch_get_deployments(deploymentIds=[seeded, created, bare])["deploymentsInfo"]

    assert client.get_deployment(deploymentId=seeded)["deploymentInfo"]["description"] == EXEMPT
    assert {d["deploymentId"]: d.get("description") for d in batch} == {
        seeded: EXEMPT,
        created: "plain release",
        bare: None,
    }


@pytest.fixture
def server_client() -> Iterator[CodeDeployClient]:
    server, url = cd.start_server()
    # Outside mock_aws() nothing resets moto's (process-wide) state between tests.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
    cd.reset()
    try:
        yield boto3.client("codedeploy", endpoint_url=url)
    finally:
        server.stop()
        cd.reset()


def test_through_a_real_server_create_emits_start_and_seeding_does_not(
    server_client: CodeDeployClient,
) -> None:
    seeded = cd.create_deployment(server_client, APP, GROUP, description=EXEMPT)

    created = server_client.create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision={"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k.zip", "bundleType": "zip"}},
        description=EXEMPT,
    )["deploymentId"]

    assert start_events(cd.take_events()) == [created]
    assert server_client.get_deployment(deploymentId=seeded)["deploymentInfo"]["description"] == EXEMPT
    assert server_client.get_deployment(deploymentId=created)["deploymentInfo"]["status"] == "InProgress"
