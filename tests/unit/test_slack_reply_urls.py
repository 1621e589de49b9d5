"""Where Slack replies may be posted (notify.slack_url_allowed): Slack's hooks host over HTTPS, and the
host:port values of SLACK_EXTRA_RESPONSE_HOSTS (HTTPS; plain HTTP only on the loopback); and how the
Slack settings are read. The response_url comes from the request: whoever can get a request signed
chooses it, so nothing that merely looks like Slack's may pass."""

from collections.abc import Callable
from typing import Any

import pytest

from stop_deployment import notify
from stop_deployment.errors import ConfigurationError
from stop_deployment.settings import load

SLACK = "https://hooks.slack.com/commands/T0123ABCD/1234567890/abcdefABCDEF0123"


@pytest.mark.parametrize(
    "url",
    [
        SLACK,
        "https://hooks.slack.com/actions/T0123ABCD/1234567890/abcdef",
        "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdef",
        "https://hooks.slack.com/commands/x?@evil.example",  # evil.example is in the query
        "https://hooks.slack.com/commands/x#@evil.example",  # and here in the fragment
        "HTTPS://hooks.slack.com/commands/x",  # schemes are case-insensitive
    ],
)
def test_slacks_own_response_urls_are_allowed(url: str) -> None:
    assert notify.slack_url_allowed(url)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("", id="empty"),
        pytest.param("http://hooks.slack.com/commands/x", id="plain HTTP"),
        pytest.param("ftp://hooks.slack.com/commands/x", id="another scheme"),
        pytest.param("hooks.slack.com/commands/x", id="no scheme"),
        pytest.param("//hooks.slack.com/commands/x", id="scheme-relative"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("https://hooks.slack.com.evil.example/x", id="a longer host"),
        pytest.param("https://evilhooks.slack.com/x", id="a sibling host"),
        pytest.param("https://slack.com/x", id="Slack's other host"),
        pytest.param("https://api.slack.com/x", id="Slack's API host"),
        pytest.param("https://evil.example/hooks.slack.com/x", id="in the path"),
        pytest.param("https://user@hooks.slack.com/x", id="user@host"),
        pytest.param("https://:@hooks.slack.com/x", id="empty user and password"),
        pytest.param("https://hooks.slack.com@evil.example/x", id="host@other"),
        pytest.param("https://hooks.slack.com:pw@evil.example/x", id="host:pw@other"),
        pytest.param("https://hooks.slack.com\\@evil.example/x", id="backslash"),
        pytest.param("https://hooks.slack.com%2F@evil.example/x", id="encoded slash"),
        pytest.param("https://hooks.slack.com:8443/x", id="another port"),
        pytest.param("https://hooks.slack.com:443/x", id="an explicit port"),
        pytest.param("https://hooks.slack.com:0443/x", id="a padded port"),
        pytest.param("https://hooks.slack.com:+443/x", id="a signed port"),
        pytest.param("https://hooks.slack.com:/x", id="an empty port"),
        pytest.param("https://hooks.slack.com:99999/x", id="a port out of range"),
        pytest.param("https://hooks.slack.com:abc/x", id="a port that is no number"),
        pytest.param("https://hooks.slack.com./x", id="a trailing dot"),
        pytest.param("https://HOOKS.SLACK.COM/x", id="upper case"),
        pytest.param("https://[::1]/x", id="IPv6 loopback"),
        pytest.param("https://[::ffff:127.0.0.1]:8080/x", id="IPv4-mapped IPv6"),
        pytest.param("https://[hooks.slack.com]/x", id="a name in brackets"),
        pytest.param("https://[::1/x", id="a broken IPv6 address"),
        pytest.param("https://hooks.sl\u0430ck.com/x", id="a Cyrillic a"),
        pytest.param("https://hooks.slack.com\uff0fx", id="a full-width slash"),
        pytest.param("https://xn--hooks-slck.com/x", id="punycode"),
        pytest.param("https://hooks.slack.com/x\n", id="a trailing newline"),
        pytest.param("https://hooks.slack.com/x\tinjected", id="a tab"),
        pytest.param("https://hooks.slack.com\r\nHost: evil.example/x", id="header injection"),
        pytest.param("https://hooks.slack.com/x\u2028", id="a line separator"),
        pytest.param("https://hooks.slack.com:443 /x", id="a space in the authority"),
        pytest.param("https://hooks.slack.com/x\x00", id="a NUL"),
    ],
)
def test_look_alikes_are_refused(url: str) -> None:
    assert not notify.slack_url_allowed(url)


@pytest.mark.parametrize("url", [f" {SLACK}", f"{SLACK} ", SLACK.replace("/1234567890/", "/1234 567890/")])
def test_a_url_with_a_space_is_refused(url: str) -> None:
    # urllib would strip or reject it, and its error message would carry the URL into the logs.
    assert not notify.slack_url_allowed(url)


@pytest.fixture
def extra(configure: Callable[..., None]) -> None:
    configure(
        SLACK_EXTRA_RESPONSE_HOSTS="127.0.0.1:8080, Localhost:9000,slack-proxy.example.com:443,10.0.0.5:8443"
    )


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8080/commands/1", True),
        ("https://127.0.0.1:8080/commands/1", True),
        ("http://localhost:9000/commands/1", True),
        ("http://LOCALHOST:9000/commands/1", True),  # host names are case-insensitive
        ("https://slack-proxy.example.com/commands/1", True),  # 443 is HTTPS's port
        ("https://slack-proxy.example.com:443/commands/1", True),
        ("https://10.0.0.5:8443/commands/1", True),
        (SLACK, True),  # Slack's own stays allowed
        ("http://slack-proxy.example.com:443/commands/1", False),  # plain HTTP off the loopback
        ("http://slack-proxy.example.com/commands/1", False),
        ("http://10.0.0.5:8443/commands/1", False),
        ("http://127.0.0.1:8081/commands/1", False),  # another port
        ("http://127.0.0.1/commands/1", False),  # port 80 is not listed
        ("http://localhost:8080/commands/1", False),  # the name and the address are listed apart
        ("http://localhost.:9000/commands/1", False),
        ("http://127.1:8080/commands/1", False),
        ("http://0x7f.0.0.1:8080/commands/1", False),
        ("http://[::1]:8080/commands/1", False),
        ("http://user@127.0.0.1:8080/commands/1", False),
        ("http://127.0.0.1:8080@evil.example/commands/1", False),
        ("https://slack-proxy.example.com.evil.example/commands/1", False),
    ],
)
def test_extra_hosts_are_allowed_by_host_and_port_with_http_only_on_the_loopback(
    extra: None, url: str, allowed: bool
) -> None:
    assert notify.slack_url_allowed(url) is allowed


def test_without_extra_hosts_the_loopback_is_refused_too() -> None:
    assert not notify.slack_url_allowed("http://127.0.0.1:8080/commands/1")
    assert not notify.slack_url_allowed("http://localhost:9000/commands/1")


def test_a_refused_url_is_not_posted_to_and_not_logged(capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://hooks.slack.com.evil.example/commands/secret-token"

    assert notify.post_to_slack(url, {"text": "hello"}) is False

    output = capsys.readouterr()
    assert "secret-token" not in output.out + output.err
    assert "Not posting to a response_url" in output.out


# --- the settings ---------------------------------------------------------------------------------------


def test_the_slack_defaults_ask_for_groups_for_five_minutes_and_post_only_to_slack() -> None:
    config = load({})

    assert config.slack_confirm == "group"
    assert config.slack_confirm_minutes == 5
    assert config.slack_extra_response_hosts == frozenset()
    assert config.function_name is None


@pytest.mark.parametrize(
    ("raw", "hosts"),
    [
        ("", frozenset()),
        (" , ", frozenset()),
        ("127.0.0.1:8080", {"127.0.0.1:8080"}),
        (" Localhost:9000 ,127.0.0.1:8080,", {"localhost:9000", "127.0.0.1:8080"}),
        ("slack-proxy.example.com:443", {"slack-proxy.example.com:443"}),
    ],
)
def test_extra_response_hosts_are_read_as_lower_case_host_port_values(raw: str, hosts: set[str]) -> None:
    assert load({"SLACK_EXTRA_RESPONSE_HOSTS": raw}).slack_extra_response_hosts == hosts


@pytest.mark.parametrize(
    "raw",
    [
        "127.0.0.1",
        "http://127.0.0.1:8080",
        "127.0.0.1:8080/commands",
        "[::1]:8080",
        "::1:8080",
        "user@127.0.0.1:8080",
        "127.0.0.1:port",
        "127.0.0.1:",
        ":8080",
        "hooks.slack.com:443:1",
        "127.0.0.1:8080;evil.example:443",
        "hooks.sl\u0430ck.com:443",  # a Cyrillic a
        "127.0.0.1:123456",
    ],
)
def test_extra_response_hosts_that_are_not_host_port_fail_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="SLACK_EXTRA_RESPONSE_HOSTS"):
        load({"SLACK_EXTRA_RESPONSE_HOSTS": raw})


@pytest.mark.parametrize("raw", ["127.0.0.1:80800", "127.0.0.1:0"])
def test_an_extra_host_with_a_port_out_of_range_fails_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="SLACK_EXTRA_RESPONSE_HOSTS"):
        load({"SLACK_EXTRA_RESPONSE_HOSTS": raw})


@pytest.mark.parametrize(
    ("raw", "mode"),
    [("", "group"), ("group", "group"), ("always", "always"), (" Never ", "never"), ("ALWAYS", "always")],
)
def test_slack_confirm_values(raw: str, mode: str) -> None:
    assert load({"SLACK_CONFIRM": raw}).slack_confirm == mode


@pytest.mark.parametrize("raw", ["yes", "true", "groups", "sometimes", "0"])
def test_an_unknown_slack_confirm_fails_naming_the_variable_and_the_choices(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="SLACK_CONFIRM must be one of group, always, never"):
        load({"SLACK_CONFIRM": raw})


@pytest.mark.parametrize(("raw", "minutes"), [("", 5), ("1", 1), (" 10 ", 10), ("30", 30)])
def test_slack_confirm_minutes_values(raw: str, minutes: int) -> None:
    assert load({"SLACK_CONFIRM_MINUTES": raw}).slack_confirm_minutes == minutes


@pytest.mark.parametrize("raw", ["31", "600", "-1", "1.5", "five", "5m", "1e1"])
def test_slack_confirm_minutes_outside_1_to_30_fail_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="SLACK_CONFIRM_MINUTES must be a whole number"):
        load({"SLACK_CONFIRM_MINUTES": raw})


def test_zero_confirm_minutes_fails_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="SLACK_CONFIRM_MINUTES"):
        load({"SLACK_CONFIRM_MINUTES": "0"})


def test_zero_confirm_minutes_never_means_a_prompt_that_cannot_be_confirmed() -> None:
    # Whatever 0 ends up meaning (refused, or today 1), it is never a prompt that expires at once.
    try:
        minutes = load({"SLACK_CONFIRM_MINUTES": "0"}).slack_confirm_minutes
    except ConfigurationError:
        return
    assert minutes >= 1


@pytest.mark.parametrize(
    ("raw", "name"), [("", None), ("  ", None), (" stop-deployment ", "stop-deployment")]
)
def test_the_function_name_lambda_sets_turns_deferral_on(raw: str, name: Any) -> None:
    assert load({"AWS_LAMBDA_FUNCTION_NAME": raw}).function_name == name
