"""Freezes across the organisation: a freeze names a member account's groups by ARN (HTTP's query
string, Slack's ARN, FREEZE_CALENDARS' ARN globs); a START forwarded from an allowed member account is
checked and stopped there; the freeze sweep lists and stops in the accounts its freezes name; and a
freeze of the function's own groups never reaches a member account's group of the same name."""

import json
from typing import Any

from local import fake_aws, fake_codedeploy
from local.world import (
    ACCOUNT_B,
    B_CHECKOUT_IDS,
    IN_FLIGHT_ID,
    load_event,
    member_client,
    started,
    status_in,
    status_of,
)
from stop_deployment.handler import lambda_handler

B_CHECKOUT = f"arn:aws:codedeploy:us-east-1:{ACCOUNT_B}:deploymentgroup:checkout/prod"
B_PROD = f"arn:aws:codedeploy:us-east-1:{ACCOUNT_B}:deploymentgroup:*/prod"


def freeze(context: Any, application: str, group: str, **query: str) -> tuple[int, Any]:
    event = load_event("http-api-freeze.json")
    path = f"/freezes/{application}/{group}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["queryStringParameters"] = query or None
    response = lambda_handler(event, context)
    return response["statusCode"], json.loads(response["body"])


def started_in_b() -> tuple[str, dict[str, Any]]:
    """A deployment that just started in account B's checkout/prod, and its START event as forwarded
    to the function's bus (it keeps B's account)."""
    deployment_id = fake_codedeploy.create_deployment(
        member_client("codedeploy", ACCOUNT_B), "checkout", "prod", announce=True
    )
    (start,) = [e for e in fake_codedeploy.take_events() if e["detail"]["deploymentId"] == deployment_id]
    assert start["account"] == ACCOUNT_B
    return deployment_id, start


def test_a_freeze_on_a_member_group_stops_what_starts_there_and_nothing_here(
    organisation: None, loop: str, lambda_context: Any
) -> None:
    status, frozen = freeze(lambda_context, "checkout", "prod", accountId=ACCOUNT_B)
    assert (status, frozen["target"]) == (200, B_CHECKOUT)

    deployment_id, start = started_in_b()
    checked = lambda_handler(start, lambda_context)

    assert checked["freezes"] == [f"freeze {B_CHECKOUT}"]
    assert checked["outcome"] == "stop_requested"
    assert status_in(deployment_id, ACCOUNT_B) == "Stopped"
    assert status_of(IN_FLIGHT_ID) == "InProgress"  # the function's own checkout/prod is not frozen


def test_a_freeze_of_the_functions_own_groups_does_not_reach_a_member_group_of_the_same_name(
    organisation: None, loop: str, lambda_context: Any
) -> None:
    status, frozen = freeze(lambda_context, "*", "prod")
    assert (status, frozen["target"]) == (200, "*/prod")

    deployment_id, start = started_in_b()
    checked = lambda_handler(start, lambda_context)

    assert checked["outcome"] == "not_frozen"
    assert status_in(deployment_id, ACCOUNT_B) == "InProgress"


def test_a_start_from_an_account_not_allowed_is_ignored(
    organisation: None, loop: str, lambda_context: Any, configure: Any
) -> None:
    freeze(lambda_context, "checkout", "prod", accountId=ACCOUNT_B)
    configure(ALLOWED_ACCOUNTS="333333333333")
    deployment_id, start = started_in_b()

    checked = lambda_handler(start, lambda_context)

    assert checked["outcome"] == "other_account"
    assert status_in(deployment_id, ACCOUNT_B) == "InProgress"


def test_a_freeze_in_an_account_not_allowed_is_refused_and_kept_nowhere(
    organisation: None, loop: str, lambda_context: Any
) -> None:
    status, body = freeze(lambda_context, "checkout", "prod", accountId="555555555555")

    assert (status, body["error"]) == (403, "AccountNotAllowed")
    listed = lambda_handler(load_event("http-api-freezes.json"), lambda_context)
    assert json.loads(listed["body"])["freezes"] == []


def test_the_freeze_sweep_stops_what_runs_in_a_member_accounts_frozen_groups(
    organisation: None, loop: str, lambda_context: Any
) -> None:
    status, frozen = freeze(lambda_context, "*", "prod", accountId=ACCOUNT_B)
    assert (status, frozen["target"]) == (200, B_PROD)

    summary = lambda_handler(load_event("freeze-sweep.json"), lambda_context)

    assert summary["frozenGroups"] == 1  # B's checkout/prod: B has no other prod group
    assert summary["counts"] == {"stop_requested": len(B_CHECKOUT_IDS)}
    assert [status_in(d, ACCOUNT_B) for d in B_CHECKOUT_IDS] == ["Stopped", "Stopped"]
    assert status_of(IN_FLIGHT_ID) == "InProgress"


def test_a_calendar_can_freeze_a_member_accounts_groups_by_arn_glob(
    organisation: None, deployments: Any, loop: str, lambda_context: Any, configure: Any
) -> None:
    fake_aws.ssm.set_calendar_state("b-freeze", "CLOSED")
    configure(FREEZE_CALENDARS=json.dumps({B_PROD: ["b-freeze"]}))

    deployment_id, start = started_in_b()
    home_id, home_start = started(deployments)

    assert lambda_handler(start, lambda_context)["freezes"] == ["calendar b-freeze"]
    assert lambda_handler(home_start, lambda_context)["outcome"] == "not_frozen"
    assert status_in(deployment_id, ACCOUNT_B) == "Stopped"
    assert status_of(home_id) == "InProgress"
