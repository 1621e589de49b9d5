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
