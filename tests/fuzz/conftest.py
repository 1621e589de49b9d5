"""Fixtures of the fuzz tests; the world itself (`deployments`, `configure`, `lambda_context`) comes
from tests/conftest.py."""

from collections.abc import Callable
from typing import Any

import pytest

from local import world


@pytest.fixture
def chatops(deployments: Any, configure: Callable[..., None]) -> Any:
    """The Slack signing secret in the local SSM and ChatOps configured (the Slack route answers 401,
    not 503, to an unsigned request)."""
    world.seed_slack_secret()
    configure(SLACK_SIGNING_SECRET_PARAM=world.SLACK_SECRET_PARAM)
    return deployments
