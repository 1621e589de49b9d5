"""Who may use the slash command: the Slack allowlists (the group allowlist applies afterwards, in
the service, as for every way in)."""

from dataclasses import dataclass

from ... import settings


@dataclass(frozen=True)
class Sender:
    """Who sent a slash command, as Slack's signed form says."""

    team_id: str
    channel_id: str
    user_id: str
    user_name: str


def refusal(sender: Sender) -> str | None:
    """Why this sender may not use the command, or None when they may."""
    config = settings.get()
    for allowed, value, what in (
        (config.slack_allowed_teams, sender.team_id, "This Slack workspace"),
        (config.slack_allowed_channels, sender.channel_id, "This channel"),
        (config.slack_allowed_users, sender.user_id, f"<@{sender.user_id}>"),
    ):
        if allowed and value not in allowed:
            return f"{what} is not allowed to use this command"
    return None
