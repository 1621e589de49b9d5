"""Every environment variable the function reads, parsed and validated in one place."""

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TypeVar

from .errors import ConfigurationError

T = TypeVar("T")

_BOOLEANS = {"true": True, "false": False}
# The rollback default when a request omits autoRollbackEnabled; None omits the flag from the call.
_ROLLBACK_DEFAULTS: dict[str, bool | None] = {**_BOOLEANS, "deployment-group": None}


@dataclass(frozen=True)
class Settings:
    default_auto_rollback: bool | None = True
    allowed_deployment_groups: tuple[str, ...] = ("*",)
    dry_run: bool = False
    tracing: bool = False

    @property
    def allows_every_group(self) -> bool:
        return self.allowed_deployment_groups == ("*",)

    def allows(self, application: str, deployment_group: str) -> bool:
        target = f"{application}/{deployment_group}"
        return any(fnmatchcase(target, pattern) for pattern in self.allowed_deployment_groups)


def load(environ: Mapping[str, str]) -> Settings:
    """Build the settings from an environment, naming the variable in any error."""
    return Settings(
        default_auto_rollback=_choice(environ, "DEFAULT_AUTO_ROLLBACK", _ROLLBACK_DEFAULTS, "true"),
        allowed_deployment_groups=_group_patterns(environ.get("ALLOWED_DEPLOYMENT_GROUPS", "*")),
        dry_run=_choice(environ, "DRY_RUN", _BOOLEANS, "false"),
        tracing=_choice(environ, "ENABLE_TRACING", _BOOLEANS, "false"),
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
        # A pattern without "/" can never match "application/group"; it is surely a mistake.
        if pattern != "*" and "/" not in pattern:
            raise ConfigurationError(
                "ALLOWED_DEPLOYMENT_GROUPS entries look like application/group (globs allowed); "
                f"got {pattern!r}"
            )
    return patterns
