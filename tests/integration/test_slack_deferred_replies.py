"""The handed-over work's reply: a response_url that fails is tried twice and the stop still happens
once, work delivered twice posts once, and a redirect is never followed. Through lambda_handler on the
local CodeDeploy, with the local Lambda queueing the invocations and world.deliver_invocations
delivering them.
"""

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local.context import LambdaContext
from local.slack import ResponseUrl
from local.world import IN_FLIGHT_ID, deliver_invocations, status_of
from stop_deployment import notify
from stop_deployment.handler import lambda_handler
from tests.logs import log_lines
from tests.slack_world import operations, say, work

# --- a response_url that fails ----------------------------------------------------------------------------


class _Failing(http.server.BaseHTTPRequestHandler):
    posts = 0

    def do_POST(self) -> None:
        type(self).posts += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(500)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def failing_url(configure: Any) -> Iterator[tuple[str, type[_Failing]]]:
    """A response_url on 127.0.0.1 that answers every post with a 500; allowed."""

    class Failing(_Failing):
        posts = 0

    server = http.server.HTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    configure(SLACK_EXTRA_RESPONSE_HOSTS=f"127.0.0.1:{server.server_port}")
    try:
        yield f"http://127.0.0.1:{server.server_port}/commands/T0123ABCD/1/secret", Failing
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_url(configure: Any) -> str:
    """A response_url on a 127.0.0.1 port nothing listens on; allowed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    configure(SLACK_EXTRA_RESPONSE_HOSTS=f"127.0.0.1:{port}")
    return f"http://127.0.0.1:{port}/commands/T0123ABCD/1/secret"


def _assert_stopped_once_and_the_failed_post_logged(url: str, answers: list[Any], output: str) -> None:
    assert answers == [{"outcome": "done", "kind": "command", "posted": False}]
    assert operations().count("StopDeployment") == 1
    assert status_of(IN_FLIGHT_ID) == "Stopped"
    lines = log_lines(output)
    assert [line["attempt"] for line in lines if line["message"] == "Could not post to Slack"] == [1, 2]
    assert [line["message"] for line in lines if line["message"] == "Could not post the Slack work's result"]
    assert url not in output


def test_a_response_url_that_answers_500_is_tried_twice_and_the_stop_happens_once(
    chatops: ResponseUrl,
    failing_url: tuple[str, type[_Failing]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, server = failing_url
    say(f"stop {IN_FLIGHT_ID}", url)

    answers = deliver_invocations()

    assert server.posts == 2
    _assert_stopped_once_and_the_failed_post_logged(url, answers, capsys.readouterr().out)


def test_a_response_url_nobody_listens_on_is_tried_twice_and_the_stop_happens_once(
    chatops: ResponseUrl, closed_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    say(f"stop {IN_FLIGHT_ID}", closed_url)

    answers = deliver_invocations()

    _assert_stopped_once_and_the_failed_post_logged(closed_url, answers, capsys.readouterr().out)


def test_work_delivered_twice_stops_and_posts_once(chatops: ResponseUrl, loop: str) -> None:
    handed = work(f"stop {IN_FLIGHT_ID}", chatops.url)

    answers = [lambda_handler(handed, LambdaContext()) for _ in range(2)]  # Lambda delivers at least once

    assert [a["outcome"] for a in answers] == ["done", "repeated"]
    assert operations().count("StopDeployment") == 1
    assert len(chatops.received) == 1


class _Redirect(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.1:9/elsewhere")  # a host nobody allowed
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def test_a_response_url_that_redirects_is_a_failed_post_not_followed(configure: Any) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    configure(SLACK_EXTRA_RESPONSE_HOSTS=f"127.0.0.1:{server.server_port}")
    try:
        posted = notify.post_to_slack(f"http://127.0.0.1:{server.server_port}/hooks/1", {"text": "x"})
    finally:
        server.shutdown()
        server.server_close()

    assert posted is False
