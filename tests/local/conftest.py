"""The whole local AWS as a server (moto's ThreadedMotoServer, with the local CodeDeploy and fake_aws), for
the tests that check the stand-ins answer over HTTP as they do in-process."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from local import aws, fake_aws, fake_codedeploy


@pytest.fixture
def local_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """start_server(), moto and the fakes reset, boto3 pointed at it as demo and serve point the
    function (local.aws.environment); yields the URL."""
    server, url = fake_codedeploy.start_server()
    # Outside mock_aws() nothing resets moto's (process-wide) state, nor ours, between tests.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
    fake_codedeploy.reset()
    fake_aws.reset()
    for name, value in aws.environment(url).items():
        monkeypatch.setenv(name, value)
    try:
        yield url
    finally:
        server.stop()
        fake_codedeploy.reset()
        fake_aws.reset()
