"""Configuration is read once, validated, and every error names the variable."""

import pytest

from stop_deployment.errors import ConfigurationError
from stop_deployment.settings import Settings, load
from stop_deployment.target import Target


def test_defaults_stop_with_rollback_in_any_group_for_real() -> None:
    assert load({}) == Settings(
        default_auto_rollback=True, allowed_deployment_groups=("*",), dry_run=False, tracing=False
    )


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("FALSE", False), ("deployment-group", None)])
def test_default_auto_rollback_values(raw: str, value: bool | None) -> None:
    assert load({"DEFAULT_AUTO_ROLLBACK": raw}).default_auto_rollback is value


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("DEFAULT_AUTO_ROLLBACK", "yes"),
        ("DRY_RUN", "1"),
        ("ENABLE_TRACING", "on"),
        ("ALLOWED_DEPLOYMENT_GROUPS", "checkout"),
        ("ALLOWED_DEPLOYMENT_GROUPS", " , "),
    ],
)
def test_invalid_values_fail_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load({name: raw})


@pytest.mark.parametrize(
    ("patterns", "target", "allowed"),
    [
        ("*", ("checkout", "prod"), True),
        ("checkout/*", ("checkout", "prod"), True),
        ("checkout/*", ("payments", "prod"), False),
        ("*/prod, payments/canary", ("payments", "canary"), True),
        ("*/prod", ("checkout", "prod-eu"), False),
        ("checkout/prod", ("Checkout", "prod"), False),
        ("checkout/prod-?", ("checkout", "prod-1"), True),
    ],
)
def test_allowlist_globs_match_application_slash_group(
    patterns: str, target: tuple[str, str], allowed: bool
) -> None:
    assert load({"ALLOWED_DEPLOYMENT_GROUPS": patterns}).allows(Target(*target)) is allowed


def test_only_a_lone_star_skips_the_lookup() -> None:
    assert load({}).allows_every_group
    assert not load({"ALLOWED_DEPLOYMENT_GROUPS": "*/*"}).allows_every_group


def test_the_loop_is_off_until_its_table_and_topic_are_named() -> None:
    config = load({})
    assert (config.stops_table, config.notify_topic_arn, config.confirm_after_seconds) == (None, None, 300)


def test_the_loop_settings_are_read() -> None:
    topic = "arn:aws:sns:eu-west-1:111122223333:kill-switch"
    config = load({"STOPS_TABLE": "stops", "NOTIFY_TOPIC_ARN": topic, "CONFIRM_AFTER_SECONDS": "0"})
    assert (config.stops_table, config.notify_topic_arn, config.confirm_after_seconds) == ("stops", topic, 0)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("STOPS_TABLE", "a table"),
        ("NOTIFY_TOPIC_ARN", "kill-switch"),
        ("NOTIFY_TOPIC_ARN", "arn:aws:sqs:eu-west-1:111122223333:kill-switch"),
        ("NOTIFY_TOPIC_ARN", "arn:aws:sns:eu-west-1:111122223333:kill-switch.fifo"),
        ("CONFIRM_AFTER_SECONDS", "-1"),
        ("CONFIRM_AFTER_SECONDS", "5m"),
    ],
)
def test_invalid_loop_settings_fail_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load({name: raw})


def test_freezes_are_off_until_a_source_is_named() -> None:
    config = load({})
    assert not config.freezes_configured
    assert (config.freeze_auto_rollback, config.freeze_exempt_marker, config.freeze_on_error) == (
        True,
        "[freeze-exempt]",
        "allow",
    )


def test_freeze_calendars_are_read_in_order() -> None:
    raw = '{"*/prod": ["holiday-freeze"], "payments/*": ["pci-window", "q4-freeze"]}'
    config = load({"FREEZE_CALENDARS": raw})
    assert config.freeze_calendars == (
        ("*/prod", ("holiday-freeze",)),
        ("payments/*", ("pci-window", "q4-freeze")),
    )
    assert config.freezes_configured


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("FREEZE_CALENDARS", "[]"),
        ("FREEZE_CALENDARS", "{not json"),
        ("FREEZE_CALENDARS", '{"prod": ["holiday-freeze"]}'),
        ("FREEZE_CALENDARS", '{"*/prod": []}'),
        ("FREEZE_CALENDARS", '{"*/prod": ["a b"]}'),
        ("FREEZE_CALENDARS", '{"*/prod": "holiday-freeze"}'),
        ("FREEZE_AUTO_ROLLBACK", "maybe"),
        ("FREEZE_ON_ERROR", "ignore"),
    ],
)
def test_invalid_freeze_settings_fail_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load({name: raw})
