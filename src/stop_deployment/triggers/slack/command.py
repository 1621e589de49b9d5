"""The command grammar: the text after the slash command, parsed into a typed command."""

import re
from dataclasses import dataclass

from ...errors import InvalidRequest
from ...settings import MAX_FREEZE_MINUTES
from ...target import HOME, Place, Target
from ...validation import is_deployment_id, normalize_deployment_id, parse_place

_ROLLBACK_FLAGS = {"--rollback": True, "--no-rollback": False}
# Options that take a value (`--account 111122223333` or `--account=111122223333`): where to act.
_PLACE_OPTIONS = {"--account": "accountId", "--region": "region"}
_DURATION = re.compile(r"(?:(\d{1,5})d)?(?:(\d{1,6})h)?(?:(\d{1,7})m)?", re.IGNORECASE)
_FREEZE_USAGE = "`freeze application/group 2h reason` (* allowed, e.g. `*/prod`; 30m, 2h, 1d, up to 7d)"


@dataclass(frozen=True)
class StopDeployment:
    deployment_id: str  # normalised
    auto_rollback: bool | None = None  # None: as configured
    place: Place = HOME  # --account, --region


@dataclass(frozen=True)
class StopGroup:
    target: Target  # in the place --account and --region say, or its ARN's
    auto_rollback: bool | None = None


@dataclass(frozen=True)
class Status:
    deployment_id: str
    place: Place = HOME


@dataclass(frozen=True)
class FreezeGroup:
    pattern: str  # application/group, * allowed
    minutes: int
    reason: str


@dataclass(frozen=True)
class Unfreeze:
    pattern: str


@dataclass(frozen=True)
class ListFreezes:
    pass


@dataclass(frozen=True)
class Help:
    problem: str | None = None  # why the text was not understood, shown with the usage


Command = StopDeployment | StopGroup | Status | FreezeGroup | Unfreeze | ListFreezes | Help


def parse(text: str) -> Command:
    # Slack sends &, < and > escaped; undone so that a reason reads as typed (and is escaped once).
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    verb = text.split(maxsplit=1)[0].lower() if text.strip() else ""
    if verb in ("freeze", "unfreeze", "freezes"):
        return _freeze_command(verb, text.split(maxsplit=3)[1:])
    words, flags, where = _options(text.split())
    if not words or words[0].lower() == "help":
        return Help()
    verb, subjects = words[0].lower(), words[1:]
    if verb not in ("stop", "status") or len(subjects) != 1:
        return Help(f"I did not understand `{escape(text.strip())}`.")
    if unknown := [flag for flag in flags if flag not in _ROLLBACK_FLAGS or verb == "status"]:
        return Help(f"Unknown option `{escape(unknown[0])}`.")
    try:
        place = parse_place(where)
    except InvalidRequest as exc:
        return Help(f"{exc}.")
    subject, auto_rollback = subjects[0], _ROLLBACK_FLAGS[flags[-1]] if flags else None
    if is_deployment_id(subject):
        deployment_id = normalize_deployment_id(subject)
        if verb == "stop":
            return StopDeployment(deployment_id, auto_rollback, place)
        return Status(deployment_id, place)
    if verb == "stop" and (target := Target.parse(subject)):
        if target.place != HOME and place != HOME:
            return Help(
                "An ARN says its account and region: give --account and --region only with app/group."
            )
        return StopGroup(target.at(place), auto_rollback)
    expected = "a deployment id (d-XXXXXXXXX) or application/group" if verb == "stop" else "a deployment id"
    return Help(f"`{escape(subject)}` is not {expected}.")


def _options(tokens: list[str]) -> tuple[list[str], list[str], dict[str, str]]:
    """(words, flags, accountId/region) of a command's tokens; an option missing its value is kept as a
    flag, so that it is reported as unknown."""
    words: list[str] = []
    flags: list[str] = []
    where: dict[str, str] = {}
    tokens = list(tokens)
    while tokens:
        token = tokens.pop(0)
        name, equals, value = token.partition("=")
        if name.lower() in _PLACE_OPTIONS and (equals or (tokens and not tokens[0].startswith("--"))):
            where[_PLACE_OPTIONS[name.lower()]] = value if equals else tokens.pop(0)
        elif token.startswith("--"):
            flags.append(token)
        else:
            words.append(token)
    return words, flags, where


def _freeze_command(verb: str, words: list[str]) -> Command:
    """`freeze app/group 2h reason…`, `unfreeze app/group`, `freezes`; the reason is kept as typed."""
    if verb == "freezes":
        return ListFreezes() if not words else Help("`freezes` takes nothing after it.")
    if not words:
        return Help(f"Say which group: {_FREEZE_USAGE}." if verb == "freeze" else "Say which group.")
    glob = Target.parse(words[0], globs=True)
    if glob is None:
        return Help(
            f"`{escape(words[0])}` is not application/group (letters, digits, +=,.@_- or *) or a "
            "deployment group's ARN."
        )
    pattern = str(glob)
    if verb == "unfreeze":
        return Unfreeze(pattern) if len(words) == 1 else Help("`unfreeze` takes only application/group.")
    if len(words) < 3:
        return Help(f"Say for how long and why: {_FREEZE_USAGE}.")
    found = _DURATION.fullmatch(words[1])
    minutes = (
        int(found[1] or 0) * 1440 + int(found[2] or 0) * 60 + int(found[3] or 0) if found and words[1] else 0
    )
    if not 0 < minutes <= MAX_FREEZE_MINUTES:
        return Help(f"`{escape(words[1])}` is not a duration from 1m to 7d: {_FREEZE_USAGE}.")
    reason = words[2].strip()
    if len(reason) > 200:
        return Help("The reason is over 200 characters; say it in fewer words.")
    return FreezeGroup(pattern, minutes, reason)


def escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
