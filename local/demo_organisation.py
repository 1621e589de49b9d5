"""The last part of `make demo`: one function for the whole organisation. The local AWS gains member
accounts (local/world.py): 222222222222 and 333333333333 with the member role, 444444444444 without it.
The function, in 123456789012, assumes the member role to act there, and only where ALLOWED_ACCOUNTS
and ALLOWED_REGIONS say.

An alarm in account B stops B's checkout/prod while this account's checkout/prod keeps running; Slack
stops a deployment in account C, in eu-west-1; a request for an account outside ALLOWED_ACCOUNTS is
refused with no call; an alarm guarding groups in three accounts stops two and names the one whose
role is missing; a freeze on B's prod groups stops a deployment that starts there, at its forwarded
START event.
"""

import json
import os
import time
from typing import Any

from local import fake_codedeploy, world
from local.demo import Step, run_step
from local.demo_loop import STOP_DELAY_SECONDS
from local.fake_aws import sts
from local.slack import signed

OUTSIDE = "555555555555"  # an account the function may not act in
SETTINGS = {
    "ALLOWED_ACCOUNTS": f"{world.ACCOUNT_B},{world.ACCOUNT_C},{world.ACCOUNT_NO_ROLE}",
    "ALLOWED_REGIONS": world.EU_REGION,
}
GROUPS = [
    f"arn:aws:codedeploy:us-east-1:{world.ACCOUNT_B}:deploymentgroup:checkout/prod",
    f"arn:aws:codedeploy:{world.EU_REGION}:{world.ACCOUNT_C}:deploymentgroup:payments/prod",
    f"arn:aws:codedeploy:us-east-1:{world.ACCOUNT_NO_ROLE}:deploymentgroup:{world.ORDERS}",
]
MEMBER_DEPLOYMENTS = [
    *((d, world.ACCOUNT_B, "us-east-1") for d in world.B_CHECKOUT_IDS),
    (world.C_PAYMENTS_ID, world.ACCOUNT_C, world.EU_REGION),
    (world.NO_ROLE_ID, world.ACCOUNT_NO_ROLE, "us-east-1"),
]


def run(first_number: int) -> list[bool]:
    world.seed_member_accounts()
    print("\nOne function for the organisation: member accounts on the local AWS")
    b_ids = ", ".join(world.B_CHECKOUT_IDS)
    print(f"seeded   {world.ACCOUNT_B} us-east-1: checkout/prod {b_ids}; alarm {world.ALARM_B}")
    print(f"         {world.ACCOUNT_C} {world.EU_REGION}: payments/prod {world.C_PAYMENTS_ID}")
    print(f"         {world.ACCOUNT_NO_ROLE} us-east-1: {world.ORDERS} {world.NO_ROLE_ID} (no member role)")
    print(f"settings {' '.join(f'{k}={v}' for k, v in SETTINGS.items())}")
    os.environ.update(SETTINGS)
    try:
        return _steps(first_number)
    finally:
        for name in SETTINGS:
            del os.environ[name]


def _steps(first_number: int) -> list[bool]:
    number = iter(range(first_number, first_number + 6))
    results = [
        _step(
            next(number),
            Step(
                f"An alarm in account {world.ACCOUNT_B}, forwarded to this account's bus: B's checkout/prod "
                "stops, this account's keeps running",
                "alarm-eventbridge-member-account.json",
                "stops_attempted",
            ),
        )
        and [world.status_in(d, world.ACCOUNT_B) for d in world.B_CHECKOUT_IDS] == ["Stopped"] * 2
        and world.status_of(world.IN_FLIGHT_ID) == "InProgress"
    ]
    text = f"stop {world.C_PAYMENTS_ID} --account {world.ACCOUNT_C} --region {world.EU_REGION}"
    results.append(
        _step(
            next(number),
            Step(
                f"Slack: {text}",
                "slack-command-rest.json",
                "200",
                fresh=False,
                prepare=lambda event: signed(event, text=text),
            ),
        )
        and world.status_in(world.C_PAYMENTS_ID, world.ACCOUNT_C, world.EU_REGION) == "Stopped"
    )
    calls_before = (len(sts.calls()), _stop_calls())
    results.append(
        _step(
            next(number),
            Step(
                f"A request for account {OUTSIDE}, outside ALLOWED_ACCOUNTS: refused, nothing called",
                "direct-stop-member-account.json",
                "AccountNotAllowed",
                fresh=False,
                prepare=lambda event: dict(event, accountId=OUTSIDE),
            ),
        )
        and (len(sts.calls()), _stop_calls()) == calls_before
    )
    for deployment_id, account, region in MEMBER_DEPLOYMENTS:
        fake_codedeploy.set_status(deployment_id, "InProgress", account_id=account, region=region)
    results.append(
        _step(
            next(number),
            Step(
                "One alarm guarding a group in each member account (ALARM_TARGETS names their ARNs): two "
                f"are stopped, {world.ACCOUNT_NO_ROLE}'s missing role is reported",
                "alarm-eventbridge.json",
                "stops_attempted",
                env={
                    "ALARM_TARGETS": json.dumps({"kill-switch-*": GROUPS}),
                    "ALARM_TARGETS_TAG_KEY": "unused",
                },
            ),
        )
        and _statuses() == ["Stopped", "Stopped", "Stopped", "InProgress"]
    )
    results.append(
        _step(
            next(number),
            Step(
                f"PUT /freezes/*/prod?accountId={world.ACCOUNT_B}: a freeze on account B's prod groups",
                "http-api-freeze.json",
                "200",
                fresh=False,
                prepare=_frozen_in_b,
            ),
        )
    )
    late: list[str] = []
    results.append(
        _step(
            next(number),
            Step(
                "A deployment starts in B's checkout/prod; its START, forwarded by B's rule, stops it there",
                "codedeploy-state-change-start.json",
                "stop_requested",
                fresh=False,
                prepare=lambda _: _started_in_b(late),
            ),
        )
        and world.status_in(late[0], world.ACCOUNT_B) == "Stopped"
        and world.status_of(world.IN_FLIGHT_ID) == "InProgress"
    )
    return results


def _frozen_in_b(event: dict[str, Any]) -> dict[str, Any]:
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/freezes/*/prod"
    return dict(event, queryStringParameters={"accountId": world.ACCOUNT_B})


def _started_in_b(started: list[str]) -> dict[str, Any]:
    """A deployment that starts in account B's checkout/prod, and its START event as B forwards it."""
    deployment_id = fake_codedeploy.create_deployment(
        world.member_client("codedeploy", world.ACCOUNT_B), "checkout", "prod", announce=True
    )
    started.append(deployment_id)
    (start,) = [e for e in fake_codedeploy.take_events() if e["detail"]["deploymentId"] == deployment_id]
    return start


def _step(number: int, step: Step) -> bool:
    """run_step, then where the member accounts' deployments are and the roles assumed so far."""
    ok = run_step(number, step)
    time.sleep(STOP_DELAY_SECONDS)  # the stops land as in the earlier parts
    fake_codedeploy.advance()
    shown = ", ".join(f"{d} {s}" for (d, *_), s in zip(MEMBER_DEPLOYMENTS, _statuses(), strict=True))
    print(f"   members  {shown}")
    sessions = sorted({f"{call.role_arn.split(':')[4]} as {call.session_name}" for call in sts.calls()})
    print(f"   assumed  {'; '.join(sessions) or 'no role yet'}")
    return ok


def _stop_calls() -> int:
    """StopDeployment calls so far, in any account (the demo's own status reads are GetDeployment)."""
    return sum(call.operation == "StopDeployment" for call in fake_codedeploy.calls())


def _statuses() -> list[str]:
    return [world.status_in(d, account, region) for d, account, region in MEMBER_DEPLOYMENTS]
