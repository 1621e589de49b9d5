"""The command grammar: the text after the slash command, parsed into a typed command."""

from dataclasses import dataclass

from ...target import Target
from ...validation import is_deployment_id, normalize_deployment_id

_ROLLBACK_FLAGS = {"--rollback": True, "--no-rollback": False}


@dataclass(frozen=True)
class StopDeployment:
    deployment_id: str  # normalised
    auto_rollback: bool | None = None  # None: as configured


@dataclass(frozen=True)
class StopGroup:
    target: Target
    auto_rollback: bool | None = None


@dataclass(frozen=True)
class Status:
    deployment_id: str


@dataclass(frozen=True)
class Help:
    problem: str | None = None  # why the text was not understood, shown with the usage


Command = StopDeployment | StopGroup | Status | Help


def parse(text: str) -> Command:
    words = text.split()
    flags = [word for word in words if word.startswith("--")]
    words = [word for word in words if not word.startswith("--")]
    if not words or words[0].lower() == "help":
        return Help()
    verb, subjects = words[0].lower(), words[1:]
    if verb not in ("stop", "status") or len(subjects) != 1:
        return Help(f"I did not understand `{escape(text.strip())}`.")
    if unknown := [flag for flag in flags if flag not in _ROLLBACK_FLAGS or verb == "status"]:
        return Help(f"Unknown option `{escape(unknown[0])}`.")
    subject, auto_rollback = subjects[0], _ROLLBACK_FLAGS[flags[-1]] if flags else None
    if is_deployment_id(subject):
        deployment_id = normalize_deployment_id(subject)
        return StopDeployment(deployment_id, auto_rollback) if verb == "stop" else Status(deployment_id)
    if verb == "stop" and (target := Target.parse(subject)):
        return StopGroup(target, auto_rollback)
    expected = "a deployment id (d-XXXXXXXXX) or application/group" if verb == "stop" else "a deployment id"
    return Help(f"`{escape(subject)}` is not {expected}.")


def escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
