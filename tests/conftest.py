"""Shared fixtures: the local CodeDeploy in-process (moto + the operations it lacks), events, context."""

import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import settings as hypothesis_settings
from moto import mock_aws

from local import codedeploy as local_codedeploy
from stop_deployment import cloudwatch, codedeploy, settings, targets
from stop_deployment.observability import logger
from stop_deployment.triggers import slack

EVENTS = Path(__file__).resolve().parent.parent / "events"

# CI replays the same examples every run (no surprise failures on a clean clone); locally, hypothesis
# keeps exploring and remembers what failed in .hypothesis/.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The deployments the events/ files name, and where the tests and the demo put them.
IN_FLIGHT_ID = "d-LGUMS25CC"
COMPLETED_ID = "d-C0MPLETED"


@dataclass
class FakeLambdaContext:
    function_name: str = "stop-deployment"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:stop-deployment"
    aws_request_id: str = "0b6a8f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    function_version: str = "$LATEST"


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials, one region, no endpoint override (mock_aws only intercepts without one)."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CODEDEPLOY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in settings.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    _forget_process_state()
    yield
    _forget_process_state()


def _forget_process_state() -> None:
    """What a warm Lambda keeps between invocations: settings, clients, the discovery cache."""
    settings.get.cache_clear()
    codedeploy.client.cache_clear()
    cloudwatch.client.cache_clear()
    targets.forget_discovered()
    slack.forget_secret()


class _CurrentStdout:
    """Writes to whatever sys.stdout is now: pytest swaps it per test phase, while Powertools'
    handler keeps the stream it was created with."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


logger.registered_handler.stream = _CurrentStdout()  # type: ignore[attr-defined]


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """configure(DRY_RUN="true", ...) sets the function's environment for this test."""

    def apply(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        settings.get.cache_clear()

    return apply


@pytest.fixture
def local_cd() -> Iterator[Any]:
    """The local CodeDeploy, empty, with no faults and no recorded calls; yields a boto3 client."""
    with mock_aws():
        local_codedeploy.reset()
        yield boto3.client("codedeploy", region_name="us-east-1")
        local_codedeploy.reset()


@pytest.fixture
def seeded(local_cd: Any) -> Any:
    """checkout/prod has d-LGUMS25CC in flight; checkout/prod also has d-C0MPLETED, already Succeeded.

    The recorded calls are cleared, so a test sees only the calls the function made.
    """
    local_codedeploy.create_deployment(
        local_cd, "checkout", "prod", status="InProgress", deployment_id=IN_FLIGHT_ID
    )
    local_codedeploy.create_deployment(
        local_cd, "checkout", "prod", status="Succeeded", deployment_id=COMPLETED_ID
    )
    local_codedeploy.clear_calls()
    return local_cd


def log_lines(output: str) -> list[dict[str, Any]]:
    """The structured JSON log lines (not the EMF metric blobs) a test captured from stdout."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" not in line]


def metric_blobs(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]
