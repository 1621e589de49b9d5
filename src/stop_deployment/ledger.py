"""The stop ledger: one DynamoDB item per deployment the function asked CodeDeploy to stop, and one per
rollback CodeDeploy started for such a stop, so that each can be followed to its end (followup.py);
small counters (Slack posts per command), the freezes (freeze.py) and Slack's confirmation prompts
(triggers/slack/confirm.py); those are keyed apart from deployment ids and never swept.

Every write is conditional, so that a repeated delivery (an alarm's SNS message twice, an event and the
sweep at once) neither records a stop twice nor reports one state twice. Items expire after 14 days.

Items hold plain values only (str, int, bool, lists and maps of them): a few lines of marshalling
here spare the import of boto3's TypeSerializer on the way to the stop.
"""

import functools
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from . import settings
from .clients import AFTERWARDS_CONFIG, long_lived

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EXPIRES_AFTER_SECONDS = 14 * 24 * 3600
# One item holds every freeze, so that a START check reads them all with one GetItem.
FREEZES_KEY = "freezes"
Item = dict[str, Any]


@functools.cache
def client() -> "DynamoDBClient":
    return long_lived(boto3.client("dynamodb", config=AFTERWARDS_CONFIG))


def add(item: Item) -> bool:
    """Record `item` unless its deployment is already in the ledger; True when it was new."""
    try:
        client().put_item(
            TableName=_table(),
            Item=_marshal(item),
            ConditionExpression="attribute_not_exists(deploymentId)",
        )
    except ClientError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


def first_time(key: str, keep_seconds: int) -> bool:
    """Whether this is the first time `key` is seen: a marker item kept `keep_seconds`, so that a
    repeated delivery is acted on once. Without a table, or when DynamoDB cannot say, True: better
    twice than not at all."""
    if settings.get().stops_table is None:
        return True
    try:
        return add({"deploymentId": key, "expiresAt": int(time.time()) + keep_seconds})
    except (ClientError, BotoCoreError):
        return True


def get(deployment_id: str) -> Item | None:
    found = client().get_item(
        TableName=_table(), Key={"deploymentId": {"S": deployment_id}}, ConsistentRead=True
    )
    return _unmarshal(found["Item"]) if "Item" in found else None


def settle(deployment_id: str, fields: Item) -> bool:
    """Record how the deployment ended (`fields` must hold `settled` and `settledAt`), once: True for
    the first caller, False when another invocation settled it already."""
    fields = {key: value for key, value in fields.items() if value is not None}
    names = {f"#{key}": key for key in fields}
    values = {f":{key}": value for key, value in _marshal(fields).items()}
    return (
        _update_if(
            deployment_id,
            "SET " + ", ".join(f"#{key} = :{key}" for key in fields),
            "attribute_exists(deploymentId) AND attribute_not_exists(settledAt)",
            names,
            values,
        )
        is not None
    )


def take_slot(key: str, limit: int, expires_at: int) -> bool:
    """Count one more use of `key` (e.g. a post to a Slack response_url) unless `limit` uses were
    counted already; True when this one may go ahead. The counter item expires at `expires_at`."""
    counted = _update_if(
        key,
        "ADD #uses :one SET #expiresAt = if_not_exists(#expiresAt, :expires)",
        "attribute_not_exists(#uses) OR #uses < :limit",
        {"#uses": "uses", "#expiresAt": "expiresAt"},
        {":one": {"N": "1"}, ":limit": {"N": str(limit)}, ":expires": {"N": str(expires_at)}},
    )
    return counted is not None


def freezes() -> dict[str, Item]:
    """Every freeze set on the table (pattern -> {until, reason, by, ...}), expired ones included."""
    item = get(FREEZES_KEY)
    found: dict[str, Item] = (item or {}).get("freezes", {})
    return found


def set_freeze(pattern: str, freeze: Item, only_if_longer: bool = False) -> bool:
    """Set (or replace) the freeze on `pattern` (application/group, globs allowed); with
    `only_if_longer`, only when no freeze on it lasts as long (an alarm's short freeze must not cut a
    person's long one). False when a longer freeze stood."""
    condition = "attribute_exists(#freezes)"
    names = {"#freezes": "freezes", "#pattern": pattern}
    values = {":freeze": _value(freeze)}
    if only_if_longer:
        condition += " AND (attribute_not_exists(#freezes.#pattern) OR #freezes.#pattern.#until < :until)"
        names["#until"] = "until"
        values[":until"] = _value(freeze["until"])  # ISO 8601 in UTC: compared as text
    if _update_if(FREEZES_KEY, "SET #freezes.#pattern = :freeze", condition, names, values) is not None:
        return True
    if add({"deploymentId": FREEZES_KEY, "freezes": {pattern: freeze}}):
        return True  # the first freeze ever
    # The item exists: a longer freeze stands, or another writer just created the item.
    return False if only_if_longer and pattern in freezes() else set_freeze(pattern, freeze, only_if_longer)


def prune_freezes(ended_before: str, at_most: int = 50) -> int:
    """Remove freezes that ended before this ISO time (the one freezes item must stay far below
    DynamoDB's 400 KB), each only if unchanged since read; returns how many were removed."""
    ended = [(p, f["until"]) for p, f in freezes().items() if str(f.get("until", "")) < ended_before]
    if not ended:
        return 0
    ended = ended[:at_most]  # keeps the expression within DynamoDB's limits; the next call does more
    removed = _update_if(
        FREEZES_KEY,
        "REMOVE " + ", ".join(f"#freezes.#p{i}" for i in range(len(ended))),
        " AND ".join(f"#freezes.#p{i}.#until = :u{i}" for i in range(len(ended))),
        {"#freezes": "freezes", "#until": "until"} | {f"#p{i}": p for i, (p, _) in enumerate(ended)},
        {f":u{i}": _value(until) for i, (_, until) in enumerate(ended)},
    )
    return 0 if removed is None else len(ended)  # None: one of them changed meanwhile, left for later


def lift_freeze(pattern: str) -> Item | None:
    """Remove the freeze on exactly `pattern`; returns it, or None when there was none."""
    found = _update_if(
        FREEZES_KEY,
        "REMOVE #freezes.#pattern",
        "attribute_exists(#freezes.#pattern)",
        {"#freezes": "freezes", "#pattern": pattern},
        ReturnValues="UPDATED_OLD",
    )
    if found is None:
        return None
    lifted: Item = _unmarshal(found["Attributes"])["freezes"][pattern]
    return lifted


def unsettled(recorded_before: str) -> list[Item]:
    """Every item not settled yet and recorded before this ISO time (a scan: the table holds two weeks
    of stops, a few hundred items at most, and the sweep runs every few minutes)."""
    items: list[Item] = []
    pages = (
        client()
        .get_paginator("scan")
        .paginate(
            TableName=_table(),
            FilterExpression="attribute_not_exists(settledAt) AND recordedAt <= :before",
            ExpressionAttributeValues={":before": {"S": recorded_before}},
            ConsistentRead=True,
        )
    )
    for page in pages:
        items.extend(_unmarshal(raw) for raw in page.get("Items", []))
    return sorted(items, key=lambda item: str(item.get("recordedAt")))


def _table() -> str:
    table = settings.get().stops_table
    if table is None:  # callers check settings first; this is a programming error
        raise RuntimeError("STOPS_TABLE is not set")
    return table


def _update_if(
    key: str,
    update: str,
    condition: str,
    names: dict[str, str],
    values: dict[str, Any] | None = None,
    **options: Any,
) -> dict[str, Any] | None:
    """UpdateItem on the item `key` when `condition` holds: DynamoDB's answer, or None when it did not
    (every write here is conditional: that is how each state is told once)."""
    request: dict[str, Any] = {
        "TableName": _table(),
        "Key": {"deploymentId": {"S": key}},
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        **({"ExpressionAttributeValues": values} if values else {}),
        **options,
    }
    try:
        return dict(client().update_item(**request))
    except ClientError as exc:
        if _condition_failed(exc):
            return None
        raise


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _marshal(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB's typed form; None values are left out (DynamoDB has no use for them here)."""
    return {key: _value(value) for key, value in item.items() if value is not None}


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):  # before int: bool is an int
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Mapping):
        return {"M": _marshal(value)}
    if isinstance(value, list | tuple):
        return {"L": [_value(element) for element in value]}
    raise TypeError(
        f"the ledger stores str, int, bool and lists and maps of them, not {type(value).__name__}"
    )


def _unmarshal(raw: Mapping[str, Any]) -> Item:
    return {key: _plain(value) for key, value in raw.items()}


def _plain(value: Mapping[str, Any]) -> Any:
    ((kind, content),) = value.items()
    if kind == "N":
        return int(content)
    if kind == "M":
        return _unmarshal(content)
    if kind == "L":
        return [_plain(element) for element in content]
    return content  # S, BOOL
