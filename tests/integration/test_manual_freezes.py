"""Manual freezes over the HTTP API (events/http-api-freeze.json, -unfreeze, -freezes) through
lambda_handler, kept in the local ledger table: set, enforced at START, listed, lifted, and refused
with a 4xx naming the field when the request is wrong, with nothing written and no CodeDeploy call."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local import fake_aws, fake_codedeploy
from local.world import CHECKOUT, load_event, received_notifications, started, status_of
from stop_deployment import ledger
from stop_deployment.handler import lambda_handler

CALLER = "arn:aws:sts::111122223333:assumed-role/OnCall/oncall-bob"  # the events' IAM caller


def request(name: str, path: str | None = None, body: Any = None) -> dict[str, Any]:
    event: dict[str, Any] = load_event(name)
    if path is not None:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def answer(event: dict[str, Any], context: Any) -> tuple[int, Any]:
    response = lambda_handler(event, context)
    return response["statusCode"], json.loads(response["body"])


def test_a_freeze_set_over_http_stops_what_starts_there_until_it_is_lifted(
    deployments: Any, loop: str, lambda_context: Any
) -> None:
    status, frozen = answer(load_event("http-api-freeze.json"), lambda_context)  # checkout/prod, 120 min

    assert status == 200
    assert frozen["target"] == CHECKOUT
    assert frozen["reason"] == "Black Friday"
    assert frozen["by"] == CALLER
    until = datetime.fromisoformat(frozen["until"])
    assert timedelta(minutes=119) < until - datetime.now(UTC) <= timedelta(minutes=120)
    (note,) = received_notifications(loop)
    assert note["Subject"] == f"stop-deployment: {CHECKOUT} frozen until {frozen['until']}"

    stopped_id, start = started(deployments)
    checked = lambda_handler(start, lambda_context)
    assert checked["freezes"] == [f"freeze {CHECKOUT}"]
    assert status_of(stopped_id) == "Stopped"
    (stop_note,) = received_notifications(loop)
    assert f"{CALLER} froze {CHECKOUT} until" in json.loads(stop_note["Message"])["content"]["description"]

    status, listed = answer(load_event("http-api-freezes.json"), lambda_context)
    assert status == 200
    assert listed == {"freezes": [{**frozen, "source": "freeze", "name": CHECKOUT}], "problems": []}

    status, lifted = answer(load_event("http-api-unfreeze.json"), lambda_context)
    assert (status, lifted["target"]) == (200, CHECKOUT)
    assert "lifted" in received_notifications(loop)[0]["Subject"]
    running_id, start = started(deployments)
    assert lambda_handler(start, lambda_context)["outcome"] == "not_frozen"
    assert status_of(running_id) == "InProgress"

    status, error = answer(load_event("http-api-unfreeze.json"), lambda_context)
    assert (status, error["error"]) == (404, "FreezeNotFound")


@pytest.mark.parametrize("path", ["/freezes/*/prod", "/freezes/%2A/prod"])
def test_a_glob_freezes_every_group_it_matches(
    deployments: Any, loop: str, lambda_context: Any, path: str
) -> None:
    status, frozen = answer(request("http-api-freeze.json", path), lambda_context)
    assert (status, frozen["target"]) == (200, "*/prod")

    deployment_id, start = started(deployments, "payments/prod")
    lambda_handler(start, lambda_context)
    assert status_of(deployment_id) == "Stopped"
    _, start = started(deployments, "checkout/staging")
    assert lambda_handler(start, lambda_context)["outcome"] == "not_frozen"


def test_until_sets_the_end_in_utc(deployments: Any, loop: str, lambda_context: Any) -> None:
    end = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    body = {"until": end.astimezone(timezone(timedelta(hours=2))).isoformat(), "reason": "launch"}  # +02:00

    status, frozen = answer(request("http-api-freeze.json", body=body), lambda_context)

    assert status == 200
    assert frozen["until"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")


def soon(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"minutes": 0, "reason": "x"}, "minutes"),
        ({"minutes": 10081, "reason": "x"}, "minutes"),
        ({"minutes": "60", "reason": "x"}, "minutes"),
        ({"minutes": 1.5, "reason": "x"}, "minutes"),
        ({"until": soon(minutes=-1), "reason": "x"}, "until"),
        ({"until": soon(days=7, hours=1), "reason": "x"}, "until"),
        ({"until": "2026-12-24T18:00:00", "reason": "x"}, "until"),
        ({"until": "2026-13-24T18:00:00Z", "reason": "x"}, "until"),
        ({"minutes": 60, "reason": "x" * 201}, "reason"),
        ({"minutes": 60, "reason": "   "}, "reason"),
        ({"minutes": 60}, "reason"),
        ({"minutes": 60, "until": soon(hours=1), "reason": "x"}, "until"),
        ({"reason": "x"}, "until"),
        ({"minutes": 60, "reason": "x", "by": "someone else"}, "'by'"),
        ("[60]", "JSON object"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_wrong_freeze_request_is_a_400_naming_the_field_and_writes_nothing(
    deployments: Any, loop: str, lambda_context: Any, body: Any, field: str
) -> None:
    status, error = answer(request("http-api-freeze.json", body=body), lambda_context)

    assert (status, error["error"]) == (400, "InvalidRequest")
    assert field in error["message"]
    assert ledger.freezes() == {}
    assert fake_codedeploy.calls() == []
    assert received_notifications(loop) == []


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/freezes/check%20out/prod", "application"),
        ("/freezes/checkout/pr?d", "group"),
        ("/freezes/checkout/" + "p" * 101, "group"),
    ],
)
def test_a_wrong_target_is_a_400_naming_the_part(
    loop: str, lambda_context: Any, path: str, field: str
) -> None:
    for name in ("http-api-freeze.json", "http-api-unfreeze.json"):
        status, error = answer(request(name, path), lambda_context)

        assert status == 400
        assert error["message"].startswith(field)
    assert ledger.freezes() == {}


def test_a_group_the_allowlist_excludes_cannot_be_frozen(
    loop: str, configure: Any, lambda_context: Any
) -> None:
    configure(ALLOWED_DEPLOYMENT_GROUPS="payments/*")

    status, error = answer(load_event("http-api-freeze.json"), lambda_context)

    assert (status, error["error"]) == (403, "DeploymentGroupNotAllowed")
    assert ledger.freezes() == {}


def test_without_a_ledger_table_freezes_are_not_configured(local_cd: Any, lambda_context: Any) -> None:
    status, error = answer(load_event("http-api-freeze.json"), lambda_context)

    assert (status, error["error"]) == (503, "FreezesNotConfigured")
    assert "STOPS_TABLE" in error["message"]


def test_a_table_that_refuses_the_write_is_a_502_and_nothing_is_announced(
    loop: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")

    monkeypatch.setattr(ledger, "set_freeze", refused)

    status, error = answer(load_event("http-api-freeze.json"), lambda_context)

    assert (status, error["error"]) == (502, "FreezeStoreUnavailable")
    assert "ProvisionedThroughputExceededException" in error["message"]
    assert received_notifications(loop) == []


def test_the_list_shows_every_source_and_says_which_could_not_be_read(
    deployments: Any, loop: str, configure: Any, lambda_context: Any
) -> None:
    configure(FREEZE_CALENDARS=json.dumps({"*/prod": ["holiday-freeze"], "payments/*": ["no-such-calendar"]}))
    fake_aws.ssm.set_calendar_state("holiday-freeze", "CLOSED")
    ledger.set_freeze(
        "checkout/old",
        {"from": "2026-01-01T00:00:00Z", "until": "2026-01-01T01:00:00Z", "reason": "over", "by": "someone"},
    )

    status, listed = answer(load_event("http-api-freezes.json"), lambda_context)

    assert status == 200
    assert listed["freezes"] == [
        {
            "source": "calendar",
            "name": "holiday-freeze",
            "reason": "Change Calendar holiday-freeze is CLOSED",
            "target": "*/prod",
        }
    ]
    (problem,) = listed["problems"]
    assert "no-such-calendar" in problem


def test_setting_a_freeze_removes_those_that_ended_over_a_day_ago(loop: str, lambda_context: Any) -> None:
    over = {"from": "2026-01-01T00:00:00Z", "until": "2026-01-01T01:00:00Z", "reason": "over", "by": "ops"}
    for pattern in ("checkout/old", "payments/*"):
        ledger.set_freeze(pattern, over)
    recent_end = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ledger.set_freeze("billing/prod", {**over, "until": recent_end})  # ended an hour ago: kept a while

    status, _ = answer(load_event("http-api-freeze.json"), lambda_context)

    assert status == 200
    assert sorted(ledger.freezes()) == ["billing/prod", CHECKOUT]


def test_pruning_leaves_a_freeze_that_changed_since_it_was_read(loop: str, monkeypatch: Any) -> None:
    over = {"from": "2026-01-01T00:00:00Z", "until": "2026-01-01T01:00:00Z", "reason": "over", "by": "ops"}
    ledger.set_freeze("checkout/old", over)
    read = ledger.freezes()
    ledger.set_freeze("checkout/old", {**over, "until": "2099-01-01T00:00:00Z"})  # renewed meanwhile
    monkeypatch.setattr(ledger, "freezes", lambda: read)

    assert ledger.prune_freezes("2026-06-01T00:00:00Z") == 0
    monkeypatch.undo()
    assert ledger.freezes()["checkout/old"]["until"] == "2099-01-01T00:00:00Z"
