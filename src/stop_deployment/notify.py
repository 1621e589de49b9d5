"""Tell people: publish a notification to NOTIFY_TOPIC_ARN, and post follow-ups to a Slack response_url.

The SNS message body is an Amazon Q Developer in chat applications (formerly AWS Chatbot) custom
notification, so a topic mapped to a Slack, Teams or Chime channel shows it as a card; the subject
line is for e-mail subscribers, and the message attributes let subscribers filter.

Neither ever raises: a notification that cannot be sent is logged and counted (NotificationsFailed,
SlackRepliesFailed), never allowed to undo or hide a stop that happened.
"""

import functools
import http.client
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.error import URLError

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from . import settings
from .clients import (
    AFTERWARDS_CONFIG,
    AFTERWARDS_CONNECT_TIMEOUT_SECONDS,
    AFTERWARDS_READ_TIMEOUT_SECONDS,
    error_code,
    long_lived,
)
from .observability import count, logger

if TYPE_CHECKING:
    import urllib.request

    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef

_SUBJECT_LIMIT = 100  # SNS: ASCII, no line breaks, at most 100 characters
_SLACK_TIMEOUT_SECONDS = AFTERWARDS_CONNECT_TIMEOUT_SECONDS + AFTERWARDS_READ_TIMEOUT_SECONDS
_LOOPBACK = ("127.0.0.1", "localhost")
_URL_CHARACTERS = re.compile(r"[!-~]+")  # printable ASCII, no space: nothing urllib would reinterpret


@functools.cache
def _opener() -> "urllib.request.OpenerDirector":
    """An opener that refuses redirects: a redirect would take the reply to a host nobody checked, so
    it is a failed post instead. Imported and built on the first post: the Slack routes import this
    module on their way in, and urllib.request costs a few milliseconds."""
    import urllib.request

    class RefuseRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_: Any) -> None:
            return None

    return urllib.request.build_opener(RefuseRedirects)


@dataclass(frozen=True)
class Notification:
    subject: str  # plain text, for e-mail
    title: str  # Slack-flavoured markdown from here on, rendered by the chat integration
    description: str
    event_type: str  # e.g. StopsRequested, RollbackFailed
    thread_id: str  # follow-ups share their stop's thread
    outcomes: tuple[str, ...]
    trigger: str
    applications: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    deployments: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    context: dict[str, str] = field(default_factory=dict)


@functools.cache
def client() -> "SNSClient":
    return long_lived(boto3.client("sns", config=AFTERWARDS_CONFIG))


def chat_message(notification: Notification) -> dict[str, Any]:
    """The custom-notification schema of Amazon Q Developer in chat applications (version 1.0)."""
    return {
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": notification.title,
            "description": notification.description,
            "nextSteps": list(notification.next_steps),
            "keywords": [*sorted(set(notification.groups)), notification.trigger],
        },
        "metadata": {
            "threadId": notification.thread_id,
            "summary": notification.subject,
            "eventType": notification.event_type,
            "relatedResources": list(notification.deployments),
            "additionalContext": notification.context,
        },
    }


def attributes(notification: Notification) -> dict[str, "MessageAttributeValueTypeDef"]:
    """What a subscription's filter policy can match: outcome, way in, application, deployment group."""
    found: dict[str, MessageAttributeValueTypeDef] = {
        "trigger": {"DataType": "String", "StringValue": notification.trigger}
    }
    for name, values in (
        ("outcome", notification.outcomes),
        ("application", notification.applications),
        ("deploymentGroup", notification.groups),
    ):
        if values:  # SNS refuses empty attribute values
            found[name] = {"DataType": "String.Array", "StringValue": json.dumps(sorted(set(values)))}
    return found


def publish(notification: Notification) -> bool:
    """Send it to NOTIFY_TOPIC_ARN (no topic: nothing to do); False when it could not be sent."""
    topic = settings.get().notify_topic_arn
    if topic is None:
        return False
    try:
        client().publish(
            TopicArn=topic,
            Subject=_subject(notification.subject),
            Message=json.dumps(chat_message(notification)),
            MessageAttributes=attributes(notification),
        )
    except (ClientError, BotoCoreError) as exc:
        _failed("NotificationsFailed", "Could not publish the notification", exc, notification)
        return False
    logger.info(
        "notification sent",
        extra={"eventType": notification.event_type, "deployments": list(notification.deployments)},
    )
    return True


def reply_in_slack(response_url: str, text: str, notification: Notification) -> bool:
    """Post a follow-up to the conversation a Slack command came from; False when it could not be."""
    message = {"response_type": "in_channel", "replace_original": False, "text": text}
    if post_to_slack(response_url, message):
        return True
    _failed("SlackRepliesFailed", "Could not post the follow-up to Slack", None, notification)
    return False


def slack_url_allowed(url: str) -> bool:
    """Whether replies may be posted to `url`: Slack's hooks host over HTTPS, or a host:port listed in
    SLACK_EXTRA_RESPONSE_HOSTS (HTTPS; plain HTTP only on the loopback: tests and demos)."""
    try:
        found = urllib.parse.urlsplit(url) if _URL_CHARACTERS.fullmatch(url) else None
        port = found.port if found else None
    except ValueError:  # a port that is no number, a broken IPv6 address
        return False
    if found is None or found.username or found.password or not found.hostname:
        return False
    if found.scheme == "https" and found.netloc == "hooks.slack.com":
        return True
    address = f"{found.hostname}:{port or (443 if found.scheme == 'https' else 80)}"
    extra = address in settings.get().slack_extra_response_hosts
    return extra and (found.scheme == "https" or (found.scheme == "http" and found.hostname in _LOOPBACK))


def post_to_slack(url: str, message: dict[str, Any], attempts: int = 2) -> bool:
    """Post `message` to a Slack response_url, retrying once; False when it could not be posted (or the
    URL is not one replies may go to). The URL is a credential of sorts: it is never logged."""
    if not slack_url_allowed(url):
        logger.warning("Not posting to a response_url outside Slack and SLACK_EXTRA_RESPONSE_HOSTS")
        return False
    import urllib.request  # here, not at import: see _opener

    body = json.dumps(message).encode()
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with _opener().open(request, timeout=_SLACK_TIMEOUT_SECONDS) as answer:
                answer.read()
            return True
        # URLError covers HTTP errors (a redirect too); ValueError: a bad URL; HTTPException: a broken answer
        except (URLError, OSError, ValueError, http.client.HTTPException) as exc:
            logger.warning("Could not post to Slack", extra={"attempt": attempt, "error": type(exc).__name__})
    return False


def _subject(text: str) -> str:
    plain = " ".join(text.encode("ascii", "replace").decode().split())
    return plain if len(plain) <= _SUBJECT_LIMIT else plain[: _SUBJECT_LIMIT - 3] + "..."


def _failed(metric: str, message: str, exc: Exception | None, notification: Notification) -> None:
    code = error_code(exc) if exc is not None else None
    logger.error(
        message,
        extra={
            "eventType": notification.event_type,
            "deployments": list(notification.deployments),
            "errorCode": code,
        },
    )
    count(metric)
