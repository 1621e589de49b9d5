"""The local STS's injected latency (local/fake_aws/sts.py ``set_latency``): every AssumeRole answers that
many seconds after it arrived, refused ones too, calls arriving together answer together (the sleep holds
no lock), and reset() takes it away."""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local import fake_aws, world
from local.fake_aws import sts as fake_sts

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
LATENCY = 0.3
ROLE_B = world.member_role_arn(world.ACCOUNT_B)
ROLE_C = world.member_role_arn(world.ACCOUNT_C)
ROLE_NO_ROLE = world.member_role_arn(world.ACCOUNT_NO_ROLE)


@pytest.fixture
def sts(local_cd: Any) -> Any:
    """An STS client of the home account on the in-process local AWS, no retries; the member roles."""
    world.seed_member_accounts()
    return boto3.client("sts", config=NO_RETRIES)


def timed_assume(sts: Any, role_arn: str) -> tuple[float, float]:
    """(when the request left, when the answer came back), by time.time(), as calls() records `at`."""
    sent = time.time()
    with contextlib.suppress(ClientError):  # a refusal is answered late too
        sts.assume_role(RoleArn=role_arn, RoleSessionName="alice")
    return sent, time.time()


def test_each_assume_role_answers_the_latency_after_it_arrived(sts: Any) -> None:
    fake_sts.set_latency(LATENCY)

    sent, answered = timed_assume(sts, ROLE_B)

    [call] = fake_sts.calls()
    assert sent <= call.at <= sent + LATENCY  # recorded on arrival, before the sleep
    assert answered - call.at >= LATENCY


def test_a_refused_or_failed_assume_role_is_late_too(sts: Any) -> None:
    fake_sts.set_latency(LATENCY)
    fake_sts.inject_error("Throttling", role_arn=ROLE_C)

    for role_arn in (ROLE_NO_ROLE, ROLE_C):
        with pytest.raises(ClientError):
            sts.assume_role(RoleArn=role_arn, RoleSessionName="alice")
        assert time.time() - fake_sts.calls()[-1].at >= LATENCY, role_arn


def test_reset_and_zero_answer_at_once_and_a_negative_latency_is_refused(sts: Any) -> None:
    fake_sts.set_latency(LATENCY)
    fake_aws.reset()
    sent, answered = timed_assume(sts, ROLE_B)
    fake_sts.set_latency(LATENCY)
    fake_sts.set_latency(0)
    sent_again, answered_again = timed_assume(sts, ROLE_B)

    assert answered - sent < LATENCY
    assert answered_again - sent_again < LATENCY
    with pytest.raises(ValueError, match="negative"):
        fake_sts.set_latency(-0.1)


def test_through_the_threaded_server_calls_arriving_together_answer_together(local_server: str) -> None:
    world.seed_member_accounts()
    roles = [ROLE_B, ROLE_C, ROLE_B, ROLE_C]
    clients = [boto3.client("sts", config=NO_RETRIES) for _ in roles]
    fake_sts.set_latency(LATENCY)

    started = time.time()
    with ThreadPoolExecutor(len(roles)) as pool:
        spans = list(pool.map(timed_assume, clients, roles))
    elapsed = time.time() - started

    assert all(answered - sent >= LATENCY for sent, answered in spans)
    assert elapsed < 2 * LATENCY  # one after another would take 4 x LATENCY
    assert sorted(c.role_arn for c in fake_sts.calls()) == sorted(roles)
