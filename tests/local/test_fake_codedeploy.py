"""The local CodeDeploy (local/fake_codedeploy/), exercised through real boto3 clients."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from local import fake_codedeploy as cd

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_codedeploy.type_defs import AlarmConfigurationTypeDef

RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 3})
APP, GROUP = "checkout", "prod"


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CODEDEPLOY", "AWS_PROFILE", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    cd.reset()
    yield
    cd.reset()


@pytest.fixture
def client() -> Iterator[CodeDeployClient]:
    cd.install()
    with mock_aws():
        yield boto3.client("codedeploy", config=RETRIES)


@pytest.fixture
def server_client() -> Iterator[CodeDeployClient]:
    server, url = cd.start_server()
    # Outside mock_aws() nothing resets moto's (process-wide) state between tests.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
    try:
        yield boto3.client("codedeploy", endpoint_url=url, config=RETRIES)
    finally:
        server.stop()


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def ops(name: str) -> list[cd.Call]:
    return [c for c in cd.calls() if c.operation == name]


def test_deployment_ids_look_real_and_every_lookup_uses_them(client: CodeDeployClient) -> None:
    ids = [cd.create_deployment(client, APP, GROUP) for _ in range(3)]

    assert all(re.fullmatch(r"d-[A-Z0-9]{9}", i) for i in ids)
    assert len(set(ids)) == 3
    assert client.get_deployment(deploymentId=ids[0])["deploymentInfo"]["deploymentId"] == ids[0]
    batch = client.batch_get_deployments(deploymentIds=ids)["deploymentsInfo"]
    assert sorted(d["deploymentId"] for d in batch) == sorted(ids)
    assert sorted(
        client.list_deployments(applicationName=APP, deploymentGroupName=GROUP)["deployments"]
    ) == sorted(ids)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Created", "Succeeded"),
        ("Queued", "Succeeded"),
        ("InProgress", "Pending"),
        ("Baking", "Pending"),
        ("Ready", "Succeeded"),
    ],
)
def test_stop_active_deployment(client: CodeDeployClient, status: str, expected: str) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP, status=status)

    response = client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)

    assert response["status"] == expected
    assert response["statusMessage"]
    info = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "Stopped"
    assert info["errorInformation"]["code"] == "MANUAL_STOP"
    assert "completeTime" in info
    assert (info["applicationName"], info["deploymentGroupName"], info["creator"]) == (APP, GROUP, "user")


@pytest.mark.parametrize("status", cd.TERMINAL_STATUSES)
def test_stop_completed_deployment_fails_without_change(client: CodeDeployClient, status: str) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP, status=status)

    with pytest.raises(client.exceptions.DeploymentAlreadyCompletedException):
        client.stop_deployment(deploymentId=deployment_id)

    info = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == status
    assert "errorInformation" not in info


@pytest.mark.parametrize(
    ("deployment_id", "exception"),
    [
        ("d-ABCDE1234", "DeploymentDoesNotExistException"),
        ("", "DeploymentIdRequiredException"),
        ("not-an-id", "InvalidDeploymentIdException"),
        ("d-abcde1234", "InvalidDeploymentIdException"),
        ("d-ABCDE12345", "InvalidDeploymentIdException"),
        ("7cff6eb1-45dc-4147-9ded-bbbd6509f1fc", "InvalidDeploymentIdException"),
    ],
)
def test_stop_bad_ids(client: CodeDeployClient, deployment_id: str, exception: str) -> None:
    cd.create_deployment(client, APP, GROUP)

    with pytest.raises(getattr(client.exceptions, exception)):
        client.stop_deployment(deploymentId=deployment_id)


@pytest.mark.parametrize("rollback", [True, False, None])
def test_rollback_flag_is_recorded(client: CodeDeployClient, rollback: bool | None) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP)
    kwargs: dict[str, Any] = {} if rollback is None else {"autoRollbackEnabled": rollback}

    client.stop_deployment(deploymentId=deployment_id, **kwargs)

    deployment: Any = cd.backend().deployments[deployment_id]
    assert deployment.local_auto_rollback_enabled is rollback
    assert cd.calls()[-1] == cd.Call("StopDeployment", {"deploymentId": deployment_id, **kwargs})
    info = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    if rollback:
        assert "rollback" in info["rollbackInfo"]["rollbackMessage"].lower()
    else:
        assert "rollbackInfo" not in info


def test_throttling_is_retried_by_standard_mode(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP)
    cd.inject_error("StopDeployment", "ThrottlingException", times=2)

    response = client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)

    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(ops("StopDeployment")) == 3
    assert response["status"] == "Pending"  # the failed attempts changed nothing


def test_persistent_throttling_exhausts_retries_without_state_change(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP)
    cd.inject_error("StopDeployment", "ThrottlingException", times=-1)

    with pytest.raises(client.exceptions.ThrottlingException):
        client.stop_deployment(deploymentId=deployment_id)

    assert len(ops("StopDeployment")) == 3
    assert client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"] == "InProgress"


@pytest.mark.parametrize(("code", "http_status"), [("InternalFailure", 500), ("ServiceUnavailable", 503)])
def test_server_errors_are_retried(client: CodeDeployClient, code: str, http_status: int) -> None:
    cd.inject_error("ListDeployments", code, http_status=http_status, times=-1)

    with pytest.raises(ClientError) as exc:
        client.list_deployments()

    assert error_code(exc) == code
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == http_status
    assert len(ops("ListDeployments")) == 3


def test_access_denied_is_not_retried(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP)
    cd.inject_error("StopDeployment", "AccessDeniedException")

    with pytest.raises(ClientError) as exc:
        client.stop_deployment(deploymentId=deployment_id)

    assert error_code(exc) == "AccessDeniedException"
    assert "arn:aws:sts::123456789012:assumed-role/" in exc.value.response["Error"]["Message"]
    assert "codedeploy:StopDeployment" in exc.value.response["Error"]["Message"]
    assert len(ops("StopDeployment")) == 1
    assert client.stop_deployment(deploymentId=deployment_id)["status"] == "Pending"  # times=1 is used up


def test_list_deployments_paginates_and_filters_on_set_statuses(client: CodeDeployClient) -> None:
    ids = [cd.create_deployment(client, APP, GROUP) for _ in range(5)]
    cd.set_status(ids[4], "Succeeded")
    cd.set_list_page_size(2)

    first = client.list_deployments()
    pages = list(client.get_paginator("list_deployments").paginate())
    active = client.get_paginator("list_deployments").paginate(includeOnlyStatuses=list(cd.ACTIVE_STATUSES))

    assert len(first["deployments"]) == 2
    assert "nextToken" in first
    assert [len(p["deployments"]) for p in pages] == [2, 2, 1]
    assert [d for p in pages for d in p["deployments"]] == ids
    assert sorted(active.build_full_result()["deployments"]) == sorted(ids[:4])
    with pytest.raises(client.exceptions.InvalidNextTokenException):
        client.list_deployments(nextToken="bogus")
    with pytest.raises(client.exceptions.InvalidDeploymentStatusException):
        client.list_deployments(includeOnlyStatuses=["In Progress"])  # type: ignore[list-item]


def test_list_applications_and_groups_paginate(client: CodeDeployClient) -> None:
    for app in ("a1", "a2", "a3"):
        cd.create_deployment(client, app, GROUP)
    for group in ("g2", "g3"):
        cd.create_deployment(client, "a1", group)
    cd.set_list_page_size(2)

    apps = client.get_paginator("list_applications").paginate().build_full_result()
    groups = list(client.get_paginator("list_deployment_groups").paginate(applicationName="a1"))

    assert sorted(apps["applications"]) == ["a1", "a2", "a3"]
    assert [g for p in groups for g in p["deploymentGroups"]] == [GROUP, "g2", "g3"]
    assert len(groups) == 2


def test_batch_get_deployment_groups_returns_alarms_and_reports_missing(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP)
    alarms: AlarmConfigurationTypeDef = {
        "enabled": True,
        "ignorePollAlarmFailure": True,
        "alarms": [{"name": "5xx"}, {"name": "p99"}],
    }
    client.create_deployment_group(
        applicationName=APP,
        deploymentGroupName="canary",
        serviceRoleArn=cd.DUMMY_SERVICE_ROLE_ARN,
        alarmConfiguration=alarms,
    )

    found = client.batch_get_deployment_groups(applicationName=APP, deploymentGroupNames=["canary", GROUP])
    partial = client.batch_get_deployment_groups(applicationName=APP, deploymentGroupNames=["canary", "gone"])

    assert found["errorMessage"] == ""
    by_name = {g["deploymentGroupName"]: g for g in found["deploymentGroupsInfo"]}
    assert by_name["canary"]["alarmConfiguration"] == alarms
    assert by_name[GROUP]["alarmConfiguration"] == {
        "enabled": False,
        "ignorePollAlarmFailure": False,
        "alarms": [],
    }
    assert by_name[GROUP]["lastAttemptedDeployment"]["deploymentId"] == deployment_id
    assert [g["deploymentGroupName"] for g in partial["deploymentGroupsInfo"]] == ["canary"]
    assert "gone" in partial["errorMessage"]
    single = client.get_deployment_group(applicationName=APP, deploymentGroupName="canary")
    assert single["deploymentGroupInfo"]["alarmConfiguration"] == alarms
    with pytest.raises(client.exceptions.BatchLimitExceededException):
        client.batch_get_deployment_groups(
            applicationName=APP, deploymentGroupNames=[f"g{i}" for i in range(101)]
        )


def test_latency(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP)
    cd.set_latency(0.3, "GetDeployment")

    started = time.perf_counter()
    client.get_deployment(deploymentId=deployment_id)
    slow = time.perf_counter() - started
    started = time.perf_counter()
    client.list_deployments()
    fast = time.perf_counter() - started

    assert slow >= 0.3
    assert fast < 0.3


def test_install_is_idempotent(client: CodeDeployClient) -> None:
    cd.install()
    cd.install()

    client.list_applications()

    assert cd.calls() == [cd.Call("ListApplications", {})]


def test_importing_the_package_patches_nothing_until_install() -> None:
    # A fresh interpreter: this one was patched by the first fixture that needed the fake.
    probe = (
        "from moto.codedeploy.responses import CodeDeployResponse\n"
        "from local import fake_codedeploy\n"
        "print(hasattr(CodeDeployResponse, 'stop_deployment'))\n"
        "fake_codedeploy.install()\n"
        "print(hasattr(CodeDeployResponse, 'stop_deployment'))\n"
    )
    root = Path(__file__).resolve().parents[2]

    output = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    ).stdout

    assert output.split() == ["False", "True"]


def test_set_status_rejects_unknown_status(client: CodeDeployClient) -> None:
    deployment_id = cd.create_deployment(client, APP, GROUP)

    with pytest.raises(ValueError, match="unknown deployment status"):
        cd.set_status(deployment_id, "In Progress")


def test_through_a_real_server(server_client: CodeDeployClient) -> None:
    sent: list[tuple[str, str]] = []

    def capture(request: Any, **_: Any) -> None:
        sent.append((request.headers["Content-Type"].decode(), request.headers["X-Amz-Target"].decode()))

    server_client.meta.events.register("before-send.codedeploy.StopDeployment", capture)
    deployment_id = cd.create_deployment(server_client, APP, GROUP, status="Ready")
    cd.inject_error("StopDeployment", "ThrottlingException")

    response = server_client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)

    assert response["status"] == "Succeeded"
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    info = server_client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "Stopped"
    assert "rollbackMessage" in info["rollbackInfo"]
    with pytest.raises(server_client.exceptions.DeploymentAlreadyCompletedException):
        server_client.stop_deployment(deploymentId=deployment_id)
    assert len(ops("StopDeployment")) == 3
    # botocore prefers awsJson1_1 over the model's smithy-rpc-v2-cbor, which moto could not parse anyway.
    assert sent[0] == ("application/x-amz-json-1.1", "CodeDeploy_20141006.StopDeployment")


def test_server_pagination_and_batch_groups(server_client: CodeDeployClient) -> None:
    ids = [cd.create_deployment(server_client, "server-app", GROUP) for _ in range(5)]
    cd.set_list_page_size(2)

    pages = list(server_client.get_paginator("list_deployments").paginate())
    groups = server_client.batch_get_deployment_groups(
        applicationName="server-app", deploymentGroupNames=[GROUP]
    )

    assert [d for p in pages for d in p["deployments"]] == ids
    assert groups["deploymentGroupsInfo"][0]["deploymentGroupName"] == GROUP


def test_create_deployment_with_a_fixed_id(client: CodeDeployClient) -> None:
    fixed = cd.create_deployment(client, APP, GROUP, status="Baking", deployment_id="d-LGUMS25CC")

    assert fixed == "d-LGUMS25CC"
    assert client.get_deployment(deploymentId=fixed)["deploymentInfo"]["status"] == "Baking"
    assert client.list_deployments()["deployments"] == [fixed]
    with pytest.raises(ValueError, match="already exists"):
        cd.create_deployment(client, APP, GROUP, deployment_id=fixed)
    assert len(client.list_deployments()["deployments"]) == 1
    with pytest.raises(ValueError, match="does not look like"):
        cd.create_deployment(client, APP, GROUP, deployment_id="d-lower1234")


def test_clear_calls_keeps_faults(client: CodeDeployClient) -> None:
    client.list_applications()
    cd.inject_error("ListApplications", "ThrottlingException", times=-1)

    cd.clear_calls()

    assert cd.calls() == []
    with pytest.raises(client.exceptions.ThrottlingException):
        client.list_applications()
