"""Where the function may act, and how it acts in another account: it assumes the member role there
(MEMBER_ROLE_NAME) with STS, and keeps the credentials and clients until shortly before they expire.

The function's own account and region (HOME) use the function's own role and clients, as always: none
of this runs for them. Everything else is checked against ALLOWED_ACCOUNTS and ALLOWED_REGIONS before
any STS call, here, the one place that makes clients for other accounts.
"""

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from . import settings
from .clients import CONFIG, error_code, long_lived
from .errors import AccountNotAllowed, AccountUnreachable, Throttled
from .observability import logger
from .target import ACCOUNT_PATTERN, HOME, Place, partition

# Assumed credentials are renewed this long before they expire, so no call starts with stale ones.
RENEW_BEFORE = timedelta(minutes=5)
# A Lambda role assuming a role is role chaining: AWS caps the session at one hour.
SESSION_SECONDS = 3600
_SESSION_NAME_LIMIT = 64

_home_account: str | None = None
_sts_client: Any = None
_lock = threading.Lock()
_account_locks: dict[tuple[str, str], threading.Lock] = {}
# (account, session name) -> (expiration, credentials); (service, account, region, session) -> (the
# expiration of the credentials it was made with, client).
_credentials: dict[tuple[str, str], tuple[datetime, dict[str, Any]]] = {}
_clients: dict[tuple[str, str, str, str], tuple[datetime, Any]] = {}


def learn_home(function_arn: str) -> None:
    """Note the function's own account from its ARN (the handler passes the context's), sparing STS."""
    global _home_account
    parts = function_arn.split(":")
    if len(parts) > 4 and re.fullmatch(ACCOUNT_PATTERN, parts[4]):
        _home_account = parts[4]


def home() -> Place:
    """The function's own account and region, spelled out."""
    global _home_account
    if _home_account is None:  # outside Lambda (tests, scripts): ask STS once
        _home_account = str(_sts().get_caller_identity()["Account"])
    return Place(_home_account, settings.get().home_region)


def located(place: Place) -> Place:
    """HOME for the function's own account and region however spelled, else `place` spelled out (a
    request may give only its account or only its region: the other is the function's). Only HOME
    and places spelled out leave here: a Target or a message never holds half a place."""
    if place == HOME:
        return HOME
    spelled = Place(place.account or home().account, place.region or settings.get().home_region)
    return HOME if spelled == home() else spelled


def check_allowed(place: Place) -> Place:
    """`place`, located, if the function may act there; AccountNotAllowed (before any call) if not."""
    place = located(place)
    config = settings.get()
    if place != HOME:
        if place.account != home().account and place.account not in config.allowed_accounts:
            raise AccountNotAllowed(f"Account {place.account} is not in ALLOWED_ACCOUNTS")
        if place.region != config.home_region and place.region not in config.allowed_regions:
            raise AccountNotAllowed(f"Region {place.region} is not in ALLOWED_REGIONS")
    return place


def session_name(requester: str | None) -> str:
    """The requester as an STS session name, so the member account's CloudTrail shows who pulled the
    brake: an ARN's resource part, runs of characters STS refuses as one "-", at most 64 characters."""
    text = (requester or "").split(":", 5)[-1] if (requester or "").startswith("arn:") else requester or ""
    name = re.sub(r"[^A-Za-z0-9_+=,.@-]+", "-", text).strip("-")[:_SESSION_NAME_LIMIT]
    return name if len(name) >= 2 else "stop-deployment"


def client(service: str, place: Place, requester: str | None) -> Any:
    """A boto3 client acting in `place` (not HOME) as the member role, for this requester's session.

    Raises AccountNotAllowed, or AccountUnreachable / Throttled when the role cannot be assumed.
    """
    place = check_allowed(place)
    session = session_name(requester)
    key = (service, place.account, place.region, session)
    with _lock_for(place.account, session):
        cached = _clients.get(key)
        if cached and _fresh(cached[0]):
            return cached[1]
        expiration, credentials = _assumed(place.account, session)
        with _lock:  # boto3's default session is not safe to build clients from in parallel
            made = long_lived(
                boto3.client(
                    service,  # type: ignore[call-overload]
                    region_name=place.region,
                    aws_access_key_id=credentials["AccessKeyId"],
                    aws_secret_access_key=credentials["SecretAccessKey"],
                    aws_session_token=credentials["SessionToken"],
                    config=CONFIG,
                )
            )
        _clients[key] = (expiration, made)
        return made


def forget() -> None:
    """Drop every assumed session and client (tests; a cold start)."""
    global _home_account, _sts_client
    with _lock:
        _home_account = _sts_client = None
        _credentials.clear()
        _clients.clear()
        _account_locks.clear()


def _lock_for(account: str, session: str) -> threading.Lock:
    """One lock per account and session: the fan-out's threads assume each role once, in parallel."""
    with _lock:
        return _account_locks.setdefault((account, session), threading.Lock())


def _fresh(expiration: datetime) -> bool:
    return expiration - RENEW_BEFORE > datetime.now(UTC)


def _assumed(account: str, session: str) -> tuple[datetime, dict[str, Any]]:
    cached = _credentials.get((account, session))
    if cached and _fresh(cached[0]):
        return cached
    role = settings.get().member_role_name
    region = settings.get().home_region
    role_arn = f"arn:{partition(region)}:iam::{account}:role/{role}"
    try:
        credentials = _sts().assume_role(
            RoleArn=role_arn, RoleSessionName=session, DurationSeconds=SESSION_SECONDS
        )["Credentials"]
    except (ClientError, BotoCoreError) as exc:
        code = error_code(exc)
        logger.warning(
            "Could not assume the member role",
            extra={"roleArn": role_arn, "sessionName": session, "awsErrorCode": code, "detail": str(exc)},
        )
        if "Throttl" in code:
            raise Throttled(f"STS throttled assuming {role} in account {account}; try again shortly") from exc
        raise AccountUnreachable(
            f"Could not assume the role {role} in account {account} ({code}): is the member role "
            "deployed there, trusting this function's role?"
        ) from exc
    found = (credentials["Expiration"], dict(credentials))
    _credentials[(account, session)] = found
    return found


def _sts() -> Any:
    """The function's own STS client, made once: the fan-out's threads ask for it at the same time."""
    global _sts_client
    with _lock:
        if _sts_client is None:
            _sts_client = long_lived(
                boto3.client("sts", region_name=settings.get().home_region, config=CONFIG)
            )
        return _sts_client
