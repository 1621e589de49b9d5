"""Shared fixtures: the local CodeDeploy in-process (moto + the operations it lacks), the world of
local/world.py on it, the Lambda context, the function's environment."""

import gc
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from hypothesis import settings as hypothesis_settings
from moto import mock_aws

from local import fake_aws, fake_codedeploy, world
from local.context import LambdaContext
from stop_deployment import (
    accounts,
    alarm_targets,
    cloudwatch,
    codedeploy,
    freeze,
    ledger,
    notify,
    service,
    settings,
)
from stop_deployment.observability import logger
from stop_deployment.triggers.slack import deferral, signature

# CI replays the same examples every run (no surprise failures on a clean clone); locally, hypothesis
# keeps exploring and remembers what failed in .hypothesis/.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


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
    gc.unfreeze()  # clients.long_lived froze what the last test's clients held: let it be collected
    codedeploy.client.cache_clear()
    accounts.forget()
    cloudwatch.client.cache_clear()
    ledger.client.cache_clear()
    notify.client.cache_clear()
    freeze.ssm.cache_clear()
    service.take_touched()  # what a test that called the service directly left for after_invocation
    alarm_targets.forget_discovered()
    signature.forget_secret()
    deferral._lambda.cache_clear()


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
    fake_codedeploy.install()
    fake_aws.install()  # SSM's GetCalendarState and CloudWatch's filters, for freezes
    with mock_aws():
        fake_codedeploy.reset()
        fake_aws.reset()
        yield boto3.client("codedeploy", region_name="us-east-1")
        fake_codedeploy.reset()
        fake_aws.reset()


@pytest.fixture
def seeded(local_cd: Any) -> Any:
    """checkout/prod only: d-LGUMS25CC in flight and d-C0MPLETED already Succeeded (world.seed_checkout).

    The recorded calls are cleared, so a test sees only the calls the function made.
    """
    world.seed_checkout(local_cd)
    fake_codedeploy.clear_calls()
    return local_cd


@pytest.fixture
def deployments(local_cd: Any) -> Any:
    """Every deployment of the world: checkout/prod has d-LGUMS25CC InProgress, d-CHK0UT002 Queued and
    d-C0MPLETED Succeeded; payments/prod has d-PAYM3NTS1 InProgress (world.seed_deployments).

    No alarm and no Slack secret: the tests that need them add them. Recorded calls are cleared.
    """
    world.seed_deployments(local_cd)
    fake_codedeploy.clear_calls()
    return local_cd


@pytest.fixture
def loop(local_cd: Any, configure: Callable[..., None]) -> str:
    """The stop ledger and the notification topic on the local AWS, the function configured to use
    them and to sweep every unconfirmed stop (CONFIRM_AFTER_SECONDS=0); returns the URL of the queue
    subscribed to the topic (read it with world.received_notifications)."""
    table = world.seed_stops_table()
    topic, queue = world.seed_notify_topic()
    configure(STOPS_TABLE=table, NOTIFY_TOPIC_ARN=topic, CONFIRM_AFTER_SECONDS="0")
    return queue
