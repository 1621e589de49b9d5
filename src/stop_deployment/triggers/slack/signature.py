"""Slack's request signature, and the signing secret it is checked with.

Slack's signature is the authentication, so nothing is read from a request before it is checked.
The check is written here rather than taken from slack_sdk's SignatureVerifier: the Powertools
layer does not ship slack_sdk (so the function would need packaging), and importing it loads
Slack's whole web client, about 80 ms of cold start on the path an on-call engineer waits on. The
tests check this implementation against SignatureVerifier on the same requests.
"""

import functools
import hashlib
import hmac
from typing import TYPE_CHECKING

import boto3

from ... import settings
from ...clients import CONFIG, long_lived
from ...errors import ChatOpsNotConfigured
from ...observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

MAX_REQUEST_AGE_SECONDS = 300  # Slack's replay window
SECRET_CACHE_SECONDS = 300


def signature_problem(
    secret: str, body: str, timestamp: str | None, signature: str | None, now: float
) -> str | None:
    """Why a request is not Slack's, or None when it is: v0 HMAC-SHA256 over v0:{timestamp}:{body}."""
    if not timestamp or not signature:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
    try:
        age = now - int(timestamp)
    except ValueError:
        return "X-Slack-Request-Timestamp is not a number"
    if abs(age) > MAX_REQUEST_AGE_SECONDS:
        return (
            f"timestamp is {int(age)} s away from now (over {MAX_REQUEST_AGE_SECONDS} s: stale or replayed)"
        )
    expected = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    # Bytes: compare_digest refuses str with non-ASCII characters, which anyone can send.
    if not hmac.compare_digest(f"v0={expected}".encode(), signature.encode(errors="replace")):
        return "signature does not match"
    return None


def signing_secret() -> str:
    """The Slack app's signing secret; ChatOpsNotConfigured when it is not set or cannot be read."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    location = settings.get().slack_signing_secret_param
    if location is None:
        raise ChatOpsNotConfigured("ChatOps is not configured: SLACK_SIGNING_SECRET_PARAM is not set")
    try:
        if location.startswith("arn:"):
            secret = _secrets_provider().get(location, max_age=SECRET_CACHE_SECONDS)
        else:
            secret = _parameter_provider().get(location, decrypt=True, max_age=SECRET_CACHE_SECONDS)
        # A secret pasted with a trailing newline would fail every signature; Slack's are hex.
        return str(secret).strip()
    except GetParameterError as exc:
        logger.warning(
            "Could not read the Slack signing secret", extra={"location": location, "detail": str(exc)}
        )
        raise ChatOpsNotConfigured(
            "ChatOps is not available: the Slack signing secret could not be read"
        ) from None


# Powertools Parameters providers (each caches the values it read) on clients of the default
# session with the shared client settings: the convenience functions would build a second boto3
# session, about 10 ms more of cold start.
@functools.cache
def _parameter_provider() -> "SSMProvider":
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=long_lived(boto3.client("ssm", config=CONFIG)))


@functools.cache
def _secrets_provider() -> "SecretsProvider":
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=long_lived(boto3.client("secretsmanager", config=CONFIG)))


def forget_secret() -> None:
    """Drop the cached providers and the secret they hold (tests; a rotated secret waits 5 minutes)."""
    _parameter_provider.cache_clear()
    _secrets_provider.cache_clear()
