"""Fixtures shared by integration modules: the Slack tests that run the function as in Lambda
(AWS_LAMBDA_FUNCTION_NAME set, so it hands slow work over to itself: test_slack_deferred_*.py and
test_slack_confirm_*.py; a module that defines a fixture of the same name keeps its own, as
test_slack.py's and test_slack_freezes.py's chatops answer in the request), and the organisation's
member accounts (test_organisation*.py)."""

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from local import fake_codedeploy
from local.fake_aws import sts
from local.slack import ResponseUrl, response_url
from local.world import (
    ACCOUNT_B,
    ACCOUNT_C,
    ACCOUNT_NO_ROLE,
    EU_REGION,
    SLACK_SECRET_PARAM,
    seed_member_accounts,
    seed_slack_secret,
)
from tests.slack_world import FUNCTION, Slack


@pytest.fixture
def command_url(configure: Any) -> Iterator[ResponseUrl]:
    """A local response_url on 127.0.0.1, allowed by SLACK_EXTRA_RESPONSE_HOSTS."""
    with response_url() as stand_in:
        configure(SLACK_EXTRA_RESPONSE_HOSTS=stand_in.host)
        yield stand_in


@pytest.fixture
def chatops(deployments: Any, configure: Any, command_url: ResponseUrl) -> ResponseUrl:
    """Every deployment of the world, the signing secret, and the function running as in Lambda (so it
    hands slow work over); returns the response_url the commands carry."""
    seed_slack_secret()
    configure(SLACK_SIGNING_SECRET_PARAM=SLACK_SECRET_PARAM, AWS_LAMBDA_FUNCTION_NAME=FUNCTION)
    return command_url


@pytest.fixture
def slack_urls(configure: Any) -> Iterator[Slack]:
    """Two local response_urls, the command's and the clicks', both allowed."""
    with ExitStack() as stack:
        command, clicks = stack.enter_context(response_url()), stack.enter_context(response_url())
        configure(SLACK_EXTRA_RESPONSE_HOSTS=f"{command.host},{clicks.host}")
        yield Slack(command, clicks)


@pytest.fixture
def confirm_chatops(deployments: Any, configure: Any, slack_urls: Slack) -> Slack:
    """Every deployment of the world, the signing secret, the function running as in Lambda."""
    seed_slack_secret()
    configure(SLACK_SIGNING_SECRET_PARAM=SLACK_SECRET_PARAM, AWS_LAMBDA_FUNCTION_NAME=FUNCTION)
    return slack_urls


@pytest.fixture
def confirming(confirm_chatops: Slack, loop: str) -> Slack:
    """ChatOps with the ledger (where prompts are kept) and the notification topic."""
    return confirm_chatops


@pytest.fixture
def organisation(deployments: Any, configure: Any) -> None:
    """The home world and the member accounts; the function may act in all three, in both regions.
    No STS or CodeDeploy call recorded yet."""
    seed_member_accounts()
    configure(ALLOWED_ACCOUNTS=f"{ACCOUNT_B},{ACCOUNT_C},{ACCOUNT_NO_ROLE}", ALLOWED_REGIONS=EU_REGION)
    sts.clear_calls()
    fake_codedeploy.clear_calls()
