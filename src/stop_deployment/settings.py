"""Every environment variable the function reads, parsed and validated in one place."""

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from .errors import ConfigurationError
from .target import ACCOUNT_PATTERN, REGION_PATTERN, Place, Target

T = TypeVar("T")
MAX_FREEZE_MINUTES = 7 * 24 * 60  # a freeze always ends
MAX_SLACK_CONFIRM_MINUTES = 30  # Slack's response_url lasts 30 minutes

# Every variable this module reads (the template and the README list the same).
VARIABLES = (
    "DEFAULT_AUTO_ROLLBACK",
    "ALLOWED_DEPLOYMENT_GROUPS",
    "DRY_RUN",
    "ENABLE_TRACING",
    "ALARM_TARGETS",
    "ALARM_TARGETS_TAG_KEY",
    "DISCOVER_ALARM_TARGETS",
    "ALARM_AUTO_ROLLBACK",
    "SLACK_SIGNING_SECRET_PARAM",
    "SLACK_ALLOWED_USERS",
    "SLACK_ALLOWED_CHANNELS",
    "SLACK_ALLOWED_TEAMS",
    "STOPS_TABLE",
    "NOTIFY_TOPIC_ARN",
    "CONFIRM_AFTER_SECONDS",
    "ALARM_NAME_PREFIX",
    "FREEZE_CALENDARS",
    "FREEZE_AUTO_ROLLBACK",
    "FREEZE_EXEMPT_MARKER",
    "FREEZE_ON_ERROR",
    "ALARM_FREEZE_MINUTES",
    "SLACK_CONFIRM",
    "SLACK_CONFIRM_MINUTES",
    "SLACK_EXTRA_RESPONSE_HOSTS",
    "AWS_LAMBDA_FUNCTION_NAME",
    "ALLOWED_ACCOUNTS",
    "ALLOWED_REGIONS",
    "MEMBER_ROLE_NAME",
    "AWS_REGION",
)

_BOOLEANS = {"true": True, "false": False}
# The rollback default when a request omits autoRollbackEnabled; None omits the flag from the call.
_ROLLBACK_DEFAULTS: dict[str, bool | None] = {**_BOOLEANS, "deployment-group": None}
# The rollback flag of the stops a way in decides itself (alarms, freezes): GROUP_DECIDES omits the
# flag, so the group's configuration decides (None would mean "not said": DEFAULT_AUTO_ROLLBACK).
GROUP_DECIDES: Literal["deployment-group"] = "deployment-group"
RollbackChoice = bool | Literal["deployment-group"]
_ROLLBACK_CHOICES: dict[str, RollbackChoice] = {**_BOOLEANS, "deployment-group": GROUP_DECIDES}


@dataclass(frozen=True)
class Settings:
    default_auto_rollback: bool | None = True
    allowed_deployment_groups: tuple[str, ...] = ("*",)
    dry_run: bool = False
    tracing: bool = False
    # Alarm name or glob -> the deployment groups it guards.
    alarm_targets: tuple[tuple[str, tuple[Target, ...]], ...] = ()
    alarm_targets_tag_key: str = "stop-deployment:targets"
    discover_alarm_targets: bool = False
    alarm_auto_rollback: RollbackChoice = True
    # Where the Slack signing secret lives: an SSM parameter name (/...) or a Secrets Manager ARN.
    slack_signing_secret_param: str | None = None
    # Slack IDs allowed to use the slash command; empty: anyone in the workspace that installed it.
    slack_allowed_users: frozenset[str] = frozenset()
    slack_allowed_channels: frozenset[str] = frozenset()
    slack_allowed_teams: frozenset[str] = frozenset()
    # The stop ledger (DynamoDB table name) and the notification topic; None: that part is off.
    stops_table: str | None = None
    notify_topic_arn: str | None = None
    # The sweep checks a stop that no event confirmed once it is this old (0: every unconfirmed stop).
    confirm_after_seconds: int = 300
    # Freezes (freeze.py): alarms in ALARM whose name starts with this prefix (None: not a source);
    # target glob -> Change Calendars that freeze it when CLOSED.
    alarm_name_prefix: str | None = None
    freeze_calendars: tuple[tuple[str, tuple[str, ...]], ...] = ()
    freeze_auto_rollback: RollbackChoice = True
    freeze_exempt_marker: str = "[freeze-exempt]"
    freeze_on_error: str = "allow"  # allow or stop: what a freeze check that cannot complete means
    # After an alarm stopped deployments, freeze the groups it guards this long (0: off).
    alarm_freeze_minutes: int = 0
    # Slack: which stops ask for a click first (group, always, never), for how long a prompt holds,
    # and the host:port values besides Slack's own that replies may be posted to (tests, demos).
    slack_confirm: str = "group"
    slack_confirm_minutes: int = 5
    slack_extra_response_hosts: frozenset[str] = frozenset()
    # Set by Lambda: the function defers slow Slack work to an asynchronous invocation of itself.
    # Unset (tests, make serve): the work runs in the request.
    function_name: str | None = None
    # Organisation-wide (accounts.py): where besides its own account and region the function may act,
    # and the role it assumes there.
    allowed_accounts: frozenset[str] = frozenset()
    allowed_regions: frozenset[str] = frozenset()
    member_role_name: str = "StopDeploymentMember"
    home_region: str = "us-east-1"  # set by Lambda (AWS_REGION)

    @property
    def freezes_configured(self) -> bool:
        """Whether anything can freeze a group: alarms, calendars, or freezes kept in the ledger."""
        return (
            self.alarm_name_prefix is not None or bool(self.freeze_calendars) or self.stops_table is not None
        )

    @property
    def allows_every_group(self) -> bool:
        return self.allowed_deployment_groups == ("*",)

    def allows(self, target: Target) -> bool:
        """Whether ALLOWED_DEPLOYMENT_GROUPS admits the group: `*` admits any; `application/group` globs
        admit the function's own account and region's groups; ARN globs admit groups by their ARN
        (`target` is located: HOME stands for the function's own account and region)."""
        return self.allows_every_group or any(
            covers(pattern, target) for pattern in self.allowed_deployment_groups
        )


def covers(pattern: str, target: Target) -> bool:
    """Whether a glob of ALLOWED_DEPLOYMENT_GROUPS, FREEZE_CALENDARS or a freeze covers the group
    (Target.matches); the function's own account is looked up only for an ARN glob and a short name."""

    def home() -> Place:
        from . import accounts  # not at import: accounts reads these settings

        return accounts.home()

    return target.matches(pattern, home)


def load(environ: Mapping[str, str]) -> Settings:
    """Build the settings from an environment, naming the variable in any error."""
    return Settings(
        default_auto_rollback=_choice(environ, "DEFAULT_AUTO_ROLLBACK", _ROLLBACK_DEFAULTS, "true"),
        allowed_deployment_groups=_group_patterns(environ.get("ALLOWED_DEPLOYMENT_GROUPS", "*")),
        dry_run=_choice(environ, "DRY_RUN", _BOOLEANS, "false"),
        tracing=_choice(environ, "ENABLE_TRACING", _BOOLEANS, "false"),
        alarm_targets=_alarm_targets(environ.get("ALARM_TARGETS", "")),
        alarm_targets_tag_key=environ.get("ALARM_TARGETS_TAG_KEY", "").strip() or "stop-deployment:targets",
        discover_alarm_targets=_choice(environ, "DISCOVER_ALARM_TARGETS", _BOOLEANS, "false"),
        alarm_auto_rollback=_choice(environ, "ALARM_AUTO_ROLLBACK", _ROLLBACK_CHOICES, "true"),
        slack_signing_secret_param=_secret_location(environ.get("SLACK_SIGNING_SECRET_PARAM", "")),
        slack_allowed_users=_slack_ids(environ, "SLACK_ALLOWED_USERS"),
        slack_allowed_channels=_slack_ids(environ, "SLACK_ALLOWED_CHANNELS"),
        slack_allowed_teams=_slack_ids(environ, "SLACK_ALLOWED_TEAMS"),
        stops_table=_matching(
            environ.get("STOPS_TABLE", ""), "STOPS_TABLE", r"[A-Za-z0-9_.-]{3,255}", "a DynamoDB table name"
        ),
        # Standard topics only: a FIFO topic would need a message group id on every publish.
        notify_topic_arn=_matching(
            environ.get("NOTIFY_TOPIC_ARN", ""),
            "NOTIFY_TOPIC_ARN",
            r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}",
            "a standard SNS topic's ARN",
        ),
        confirm_after_seconds=_seconds(environ, "CONFIRM_AFTER_SECONDS", "300"),
        alarm_name_prefix=_matching(
            environ.get("ALARM_NAME_PREFIX", ""),
            "ALARM_NAME_PREFIX",
            r"[^\x00-\x1f]{1,255}",
            "the start of alarm names",
        ),
        freeze_calendars=_freeze_calendars(environ.get("FREEZE_CALENDARS", "")),
        freeze_auto_rollback=_choice(environ, "FREEZE_AUTO_ROLLBACK", _ROLLBACK_CHOICES, "true"),
        freeze_exempt_marker=environ.get("FREEZE_EXEMPT_MARKER", "").strip() or "[freeze-exempt]",
        freeze_on_error=_choice(environ, "FREEZE_ON_ERROR", {"allow": "allow", "stop": "stop"}, "allow"),
        alarm_freeze_minutes=_seconds(environ, "ALARM_FREEZE_MINUTES", "0", MAX_FREEZE_MINUTES),
        slack_confirm=_choice(
            environ, "SLACK_CONFIRM", {"group": "group", "always": "always", "never": "never"}, "group"
        ),
        slack_confirm_minutes=_seconds(
            environ, "SLACK_CONFIRM_MINUTES", "5", MAX_SLACK_CONFIRM_MINUTES, least=1
        ),
        slack_extra_response_hosts=_hosts(environ.get("SLACK_EXTRA_RESPONSE_HOSTS", "")),
        function_name=environ.get("AWS_LAMBDA_FUNCTION_NAME", "").strip() or None,
        allowed_accounts=_listed(environ, "ALLOWED_ACCOUNTS", ACCOUNT_PATTERN, "12-digit account ids"),
        allowed_regions=_listed(environ, "ALLOWED_REGIONS", REGION_PATTERN, "region codes such as eu-west-1"),
        member_role_name=_matching(
            environ.get("MEMBER_ROLE_NAME", ""),
            "MEMBER_ROLE_NAME",
            r"[A-Za-z0-9_+=,.@-]{1,64}",
            "an IAM role name",
        )
        or "StopDeploymentMember",
        home_region=(
            _matching(
                environ.get("AWS_REGION", "") or environ.get("AWS_DEFAULT_REGION", ""),
                "AWS_REGION",
                REGION_PATTERN,
                "a region code",
            )
            or "us-east-1"
        ),
    )


@functools.cache
def get() -> Settings:
    """The settings of this process, read once (tests call `get.cache_clear()`)."""
    return load(os.environ)


def _choice(environ: Mapping[str, str], name: str, choices: Mapping[str, T], default: str) -> T:
    raw = environ.get(name, default).strip().lower() or default
    if raw not in choices:
        allowed = ", ".join(choices)
        raise ConfigurationError(f"{name} must be one of {allowed}; got {raw!r}")
    return choices[raw]


def _group_patterns(raw: str) -> tuple[str, ...]:
    patterns = tuple(p.strip() for p in raw.split(",") if p.strip())
    if not patterns:
        raise ConfigurationError(
            "ALLOWED_DEPLOYMENT_GROUPS must list at least one pattern, e.g. * or app/prod"
        )
    for pattern in patterns:
        # Anything else can never match "application/group" or a group's ARN: surely a mistake.
        arn = pattern.startswith("arn:")
        if pattern != "*" and (":deploymentgroup:" not in pattern if arn else "/" not in pattern):
            raise ConfigurationError(
                "ALLOWED_DEPLOYMENT_GROUPS entries look like application/group or a deployment group's "
                f"ARN (globs allowed); got {pattern!r}"
            )
    return patterns


def _listed(environ: Mapping[str, str], name: str, pattern: str, what: str) -> frozenset[str]:
    """Comma-separated values, each matching `pattern`."""
    values = frozenset(part.strip() for part in environ.get(name, "").split(",") if part.strip())
    if bad := sorted(v for v in values if not re.fullmatch(pattern, v)):
        raise ConfigurationError(f"{name} must list {what}, comma-separated; got {bad[0]!r}")
    return values


def _secret_location(raw: str) -> str | None:
    location = raw.strip()
    if not location:
        return None
    if not (location.startswith("/") or (location.startswith("arn:") and ":secretsmanager:" in location)):
        raise ConfigurationError(
            "SLACK_SIGNING_SECRET_PARAM must be an SSM parameter name starting with / or a Secrets "
            f"Manager secret ARN; got {location!r}"
        )
    return location


def _slack_ids(environ: Mapping[str, str], name: str) -> frozenset[str]:
    ids = frozenset(part.strip() for part in environ.get(name, "").split(",") if part.strip())
    if bad := sorted(i for i in ids if not re.fullmatch(r"[A-Z0-9]+", i)):
        raise ConfigurationError(
            f"{name} must list Slack IDs such as U0123ABCD, comma-separated; got {bad[0]!r}"
        )
    return ids


def _json_object(raw: str, name: str, example: str) -> dict[str, Any]:
    """A variable holding a JSON object (empty: {}), or an error naming the variable."""
    try:
        mapping = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{name} must be a JSON object like {example}: {exc}") from None
    if not isinstance(mapping, dict):
        raise ConfigurationError(f"{name} must be a JSON object like {example}")
    return mapping


def _matching(raw: str, name: str, pattern: str, what: str) -> str | None:
    """The trimmed value if it fully matches `pattern`; None when empty; else an error naming it."""
    value = raw.strip()
    if value and not re.fullmatch(pattern, value):
        raise ConfigurationError(f"{name} must be {what}; got {value!r}")
    return value or None


def _alarm_targets(raw: str) -> tuple[tuple[str, tuple[Target, ...]], ...]:
    example = '{"checkout-*": ["checkout/prod"]}'
    mapping = _json_object(raw, "ALARM_TARGETS", example)
    parsed = []
    for alarm, names in mapping.items():
        read = (
            [Target.parse(n) if isinstance(n, str) else None for n in names]
            if isinstance(names, list)
            else [None]
        )
        targets = tuple(target for target in read if target is not None)
        if len(targets) != len(read):
            raise ConfigurationError(
                f"ALARM_TARGETS[{alarm!r}] must list application/deploymentGroup names or deployment "
                f"group ARNs, e.g. {example}"
            )
        parsed.append((alarm, targets))
    return tuple(parsed)


def _seconds(
    environ: Mapping[str, str], name: str, default: str, most: int | None = None, least: int = 0
) -> int:
    """A whole number of seconds (or minutes, as the name says), `least` or more, at most `most`."""
    raw = environ.get(name, default).strip() or default
    if not raw.isdigit() or int(raw) < least or (most is not None and int(raw) > most):
        limit = f" and at most {most}" if most is not None else ""
        raise ConfigurationError(f"{name} must be a whole number, {least} or more{limit}; got {raw!r}")
    return int(raw)


def _hosts(raw: str) -> frozenset[str]:
    """host:port values, comma-separated."""
    hosts = frozenset(part.strip().lower() for part in raw.split(",") if part.strip())
    for host in hosts:
        if not re.fullmatch(r"[a-z0-9.-]+:\d{1,5}", host) or not 0 < int(host.rsplit(":", 1)[1]) < 65536:
            raise ConfigurationError(
                f"SLACK_EXTRA_RESPONSE_HOSTS takes host:port values, comma-separated; got {host!r}"
            )
    return hosts


def _freeze_calendars(raw: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    example = '{"*/prod": ["holiday-freeze"], "payments/*": ["pci-window"]}'
    mapping = _json_object(raw, "FREEZE_CALENDARS", example)
    parsed = []
    for pattern, names in mapping.items():
        if ":deploymentgroup:" not in pattern if pattern.startswith("arn:") else "/" not in pattern:
            raise ConfigurationError(
                "FREEZE_CALENDARS keys look like application/group or a deployment group's ARN (globs "
                f"allowed); got {pattern!r}"
            )
        valid = (
            isinstance(names, list)
            and names
            and all(isinstance(n, str) and re.fullmatch(r"[A-Za-z0-9_.-]{3,128}", n) for n in names)
        )
        if not valid:
            raise ConfigurationError(
                f"FREEZE_CALENDARS[{pattern!r}] must list Change Calendar names, e.g. {example}"
            )
        parsed.append((pattern, tuple(names)))
    return tuple(parsed)
