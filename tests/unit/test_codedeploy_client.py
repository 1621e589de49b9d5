"""The CodeDeploy client: created once, bounded retries and timeouts, identified in the user agent."""

from typing import Any

import pytest

from stop_deployment import __version__, clients, codedeploy


def test_client_is_created_once_and_reused() -> None:
    assert codedeploy.client() is codedeploy.client()


def test_client_retries_in_standard_mode_with_bounded_attempts_and_timeouts() -> None:
    config: Any = codedeploy.client().meta.config

    assert config.retries == {"mode": "standard", "total_max_attempts": clients.MAX_ATTEMPTS}
    assert (config.connect_timeout, config.read_timeout) == (2, 3)
    assert f"stop-deployment/{__version__}" in config.user_agent_extra


def test_client_endpoint_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CODEDEPLOY", "http://127.0.0.1:5999")
    codedeploy.client.cache_clear()

    client: Any = codedeploy.client()

    assert client.meta.endpoint_url == "http://127.0.0.1:5999"
