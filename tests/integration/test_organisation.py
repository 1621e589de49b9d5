"""One function for the whole organisation: stops in member accounts through their member role, on the
local AWS with its member accounts (local/world.py): B (us-east-1) and C (eu-west-1) have the role, the
third has none. The function's own account keeps its own world (checkout/prod, payments/prod)."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from local import fake_codedeploy
from local.fake_aws import sts
from local.slack import TEST_SIGNING_SECRET, signed
from local.world import (
    ACCOUNT_B,
    ACCOUNT_C,
    ACCOUNT_NO_ROLE,
    B_CHECKOUT_IDS,
    C_PAYMENTS_ID,
    EU_REGION,
    IN_FLIGHT_ID,
    NO_ROLE_ID,
    OTHER_TEAM_ID,
    QUEUED_ID,
    SLACK_SECRET_PARAM,
    load_event,
    member_role_arn,
    received_notifications,
    seed_slack_secret,
    status_in,
    status_of,
)
from stop_deployment import accounts, errors
from stop_deployment.handler import lambda_handler
from tests.logs import log_lines

C_GROUP = f"arn:aws:codedeploy:{EU_REGION}:{ACCOUNT_C}:deploymentgroup:payments/prod"
B_GROUP = f"arn:aws:codedeploy:us-east-1:{ACCOUNT_B}:deploymentgroup:checkout/prod"
NO_ROLE_GROUP = f"arn:aws:codedeploy:us-east-1:{ACCOUNT_NO_ROLE}:deploymentgroup:orders/prod"
HOME_IN_FLIGHT = (IN_FLIGHT_ID, QUEUED_ID, OTHER_TEAM_ID)


def assumed() -> list[tuple[str, str]]:
    """(role ARN, session name) of each AssumeRole call, in order."""
    return [(call.role_arn, call.session_name) for call in sts.calls()]


def home_untouched() -> None:
    assert [status_of(d) for d in HOME_IN_FLIGHT] == ["InProgress", "Queued", "InProgress"]


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


# --- one deployment elsewhere -----------------------------------------------------------------------------


def test_a_direct_request_naming_an_account_and_region_stops_the_deployment_there(
    organisation: None, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = lambda_handler(load_event("direct-stop-member-account.json"), lambda_context)

    assert (result["outcome"], result["accountId"], result["region"]) == (
        "stop_requested",
        ACCOUNT_C,
        EU_REGION,
    )
    assert status_in(C_PAYMENTS_ID, ACCOUNT_C, EU_REGION) == "Stopped"
    assert assumed() == [(member_role_arn(ACCOUNT_C), "stop-deployment")]
    home_untouched()
    (line,) = [line for line in log_lines(capsys.readouterr().out) if line["message"] == "deployment stop"]
    assert (line["accountId"], line["region"], line["outcome"]) == (ACCOUNT_C, EU_REGION, "stop_requested")


def test_an_account_outside_allowed_accounts_is_refused_before_any_call(
    organisation: None, lambda_context: Any, configure: Callable[..., None]
) -> None:
    configure(ALLOWED_ACCOUNTS=ACCOUNT_B)
    event = dict(load_event("direct-stop-member-account.json"))

    with pytest.raises(errors.AccountNotAllowed, match=f"Account {ACCOUNT_C} is not in ALLOWED_ACCOUNTS"):
        lambda_handler(event, lambda_context)

    assert (sts.calls(), fake_codedeploy.calls()) == ([], [])
    assert status_in(C_PAYMENTS_ID, ACCOUNT_C, EU_REGION) == "InProgress"


def test_a_region_outside_allowed_regions_is_refused_before_any_call(
    organisation: None, lambda_context: Any
) -> None:
    event = dict(load_event("direct-stop-member-account.json"), region="ap-southeast-2")

    with pytest.raises(errors.AccountNotAllowed, match="Region ap-southeast-2 is not in ALLOWED_REGIONS"):
        lambda_handler(event, lambda_context)

    assert (sts.calls(), fake_codedeploy.calls()) == ([], [])


def test_the_functions_own_account_named_explicitly_needs_no_role(
    organisation: None, lambda_context: Any
) -> None:
    event = {"deploymentId": IN_FLIGHT_ID, "accountId": "123456789012", "region": "us-east-1"}

    result = lambda_handler(event, lambda_context)

    assert result["outcome"] == "stop_requested"
    assert "accountId" not in result
    assert sts.calls() == []
    assert status_of(IN_FLIGHT_ID) == "Stopped"


def test_an_account_without_the_member_role_is_a_clear_error(organisation: None, lambda_context: Any) -> None:
    event = {"deploymentId": NO_ROLE_ID, "accountId": ACCOUNT_NO_ROLE}

    with pytest.raises(errors.AccountUnreachable, match=f"StopDeploymentMember in account {ACCOUNT_NO_ROLE}"):
        lambda_handler(event, lambda_context)

    assert fake_codedeploy.calls() == []
    assert status_in(NO_ROLE_ID, ACCOUNT_NO_ROLE) == "InProgress"


def test_an_eventbridge_stop_request_may_name_an_account(organisation: None, lambda_context: Any) -> None:
    event = load_event("eventbridge-stop-request.json")
    event["detail"] = {"deploymentId": C_PAYMENTS_ID, "accountId": ACCOUNT_C, "region": EU_REGION}

    result = lambda_handler(event, lambda_context)

    assert result["outcome"] == "stop_requested"
    assert status_in(C_PAYMENTS_ID, ACCOUNT_C, EU_REGION) == "Stopped"


def test_post_stop_names_the_account_and_the_iam_caller_reaches_the_member_cloudtrail(
    organisation: None, lambda_context: Any
) -> None:
    event = load_event("http-api-stop.json")
    event["body"] = json.dumps({"deploymentId": C_PAYMENTS_ID, "accountId": ACCOUNT_C, "region": EU_REGION})
    event["isBase64Encoded"] = False

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 200, response["body"]
    assert status_in(C_PAYMENTS_ID, ACCOUNT_C, EU_REGION) == "Stopped"
    ((role, session),) = assumed()
    caller = event["requestContext"]["authorizer"]["iam"]["userArn"]
    assert role == member_role_arn(ACCOUNT_C)
    assert session == accounts.session_name(caller)
    assert session.startswith("assumed-role-")


def test_stop_by_path_takes_the_account_and_region_from_the_query_string(
    organisation: None, lambda_context: Any
) -> None:
    event = load_event("rest-stop.json")
    event.update(
        path=f"/deployments/{C_PAYMENTS_ID}/stop",
        pathParameters={"deploymentId": C_PAYMENTS_ID},
        queryStringParameters={"accountId": ACCOUNT_C, "region": EU_REGION},
        body=None,
    )

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 200, response["body"]
    assert body_of(response)["accountId"] == ACCOUNT_C
    assert status_in(C_PAYMENTS_ID, ACCOUNT_C, EU_REGION) == "Stopped"


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ({"accountId": "555555555555"}, 403, "AccountNotAllowed"),
        ({"accountId": "5555"}, 400, "InvalidRequest"),
        ({"region": "mars-1"}, 400, "InvalidRequest"),
    ],
)
def test_stop_by_path_refuses_a_bad_or_foreign_account_with_no_call(
    organisation: None, lambda_context: Any, query: dict[str, str], status: int, error: str
) -> None:
    event = load_event("rest-stop.json")
    event.update(queryStringParameters=query, body=None)

    response = lambda_handler(event, lambda_context)

    assert (response["statusCode"], body_of(response)["error"]) == (status, error)
    assert (sts.calls(), fake_codedeploy.calls()) == ([], [])


# --- alarms from member accounts, fan-out across accounts ---------------------------------------------------


def test_an_alarm_forwarded_from_a_member_account_stops_that_accounts_groups_only(
    organisation: None, lambda_context: Any
) -> None:
    summary = lambda_handler(load_event("alarm-eventbridge-member-account.json"), lambda_context)

    assert summary["outcome"] == "stops_attempted"
    assert [t["target"] for t in summary["targets"]] == [B_GROUP]
    assert sorted(o["deploymentId"] for o in summary["deployments"]) == sorted(B_CHECKOUT_IDS)
    assert [status_in(d, ACCOUNT_B) for d in B_CHECKOUT_IDS] == ["Stopped", "Stopped"]
    home_untouched()  # the same group name in the function's own account is another group
    assert {role for role, _ in assumed()} == {member_role_arn(ACCOUNT_B)}


def test_a_member_alarm_carrying_its_tags_needs_no_lookup(organisation: None, lambda_context: Any) -> None:
    event = load_event("alarm-eventbridge-member-account.json")
    event["detail"].update(alarmTags={"stop-deployment:targets": "checkout/prod"}, alarmTagsStatus="SUCCESS")

    summary = lambda_handler(event, lambda_context)

    assert [t["target"] for t in summary["targets"]] == [B_GROUP]
    assert [status_in(d, ACCOUNT_B) for d in B_CHECKOUT_IDS] == ["Stopped", "Stopped"]
    home_untouched()


def test_a_member_alarm_from_an_account_not_allowed_reads_and_stops_nothing_there(
    organisation: None, lambda_context: Any, configure: Callable[..., None]
) -> None:
    configure(ALLOWED_ACCOUNTS=ACCOUNT_C)
    event = load_event("alarm-eventbridge-member-account.json")
    event["detail"].update(alarmTags={"stop-deployment:targets": "checkout/prod"}, alarmTagsStatus="SUCCESS")

    summary = lambda_handler(event, lambda_context)

    (report,) = summary["targets"]
    assert (report["target"], report["error"]) == (B_GROUP, "AccountNotAllowed")
    assert summary["deployments"] == []
    assert (sts.calls(), fake_codedeploy.calls()) == ([], [])
    assert [status_in(d, ACCOUNT_B) for d in B_CHECKOUT_IDS] == ["InProgress", "InProgress"]


def fan_out_alarm(configure: Callable[..., None], lambda_context: Any) -> dict[str, Any]:
    """The home alarm, configured to guard a group in each member account and the home checkout/prod."""
    targets = ["checkout/prod", B_GROUP, C_GROUP, NO_ROLE_GROUP]
    configure(ALARM_TARGETS=json.dumps({"kill-switch-*": targets}))
    event = load_event("alarm-eventbridge.json")
    event["detail"]["alarmTags"] = {}
    result: dict[str, Any] = lambda_handler(event, lambda_context)
    return result


def test_one_alarm_stops_groups_across_accounts_and_names_the_account_it_could_not_reach(
    organisation: None, lambda_context: Any, configure: Callable[..., None]
) -> None:
    summary = fan_out_alarm(configure, lambda_context)

    by_target = {report["target"]: report for report in summary["targets"]}
    assert by_target[NO_ROLE_GROUP]["error"] == "AccountUnreachable"
    assert ACCOUNT_NO_ROLE in by_target[NO_ROLE_GROUP]["message"]
    assert by_target[NO_ROLE_GROUP]["retryable"] is False
    stopped = {(o.get("accountId"), o["deploymentId"]) for o in summary["deployments"]}
    assert stopped == {
        (None, IN_FLIGHT_ID),
        (None, QUEUED_ID),
        (ACCOUNT_B, B_CHECKOUT_IDS[0]),
        (ACCOUNT_B, B_CHECKOUT_IDS[1]),
        (ACCOUNT_C, C_PAYMENTS_ID),
    }
    assert status_in(C_PAYMENTS_ID, ACCOUNT_C, EU_REGION) == "Stopped"
    assert status_in(NO_ROLE_ID, ACCOUNT_NO_ROLE) == "InProgress"


def test_a_throttled_assume_role_is_retried_by_the_alarm_after_the_other_accounts_were_stopped(
    organisation: None, lambda_context: Any, configure: Callable[..., None]
) -> None:
    sts.inject_error("Throttling", 400, count=-1, role_arn=member_role_arn(ACCOUNT_C))

    with pytest.raises(errors.StopsIncomplete, match=C_GROUP):
        fan_out_alarm(configure, lambda_context)

    assert [status_in(d, ACCOUNT_B) for d in B_CHECKOUT_IDS] == ["Stopped", "Stopped"]
    assert status_in(C_PAYMENTS_ID, ACCOUNT_C, EU_REGION) == "InProgress"


def test_each_account_is_assumed_once_per_cold_start_and_not_again_warm(
    organisation: None, lambda_context: Any, configure: Callable[..., None]
) -> None:
    fan_out_alarm(configure, lambda_context)
    cold = sorted(role for role, _ in assumed())
    sts.clear_calls()
    fan_out_alarm(configure, lambda_context)

    assert cold == sorted(member_role_arn(a) for a in (ACCOUNT_B, ACCOUNT_C, ACCOUNT_NO_ROLE))
    # Warm: the same alarm's sessions are reused; only the account that refused is asked again.
    assert [role for role, _ in assumed()] == [member_role_arn(ACCOUNT_NO_ROLE)]


def test_credentials_are_renewed_shortly_before_they_expire(
    organisation: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = {"deploymentId": C_PAYMENTS_ID, "accountId": ACCOUNT_C, "region": EU_REGION}
    monkeypatch.setattr(accounts, "SESSION_SECONDS", 900)  # STS's shortest session
    lambda_handler(event, lambda_context)
    fake_codedeploy.set_status(C_PAYMENTS_ID, "InProgress", account_id=ACCOUNT_C, region=EU_REGION)

    lambda_handler(event, lambda_context)  # 15 minutes left: still good
    monkeypatch.setattr(accounts, "RENEW_BEFORE", timedelta(minutes=16))  # now they are due
    fake_codedeploy.set_status(C_PAYMENTS_ID, "InProgress", account_id=ACCOUNT_C, region=EU_REGION)
    lambda_handler(event, lambda_context)

    assert [call.duration_seconds for call in sts.calls()] == [900, 900]
    assert status_in(C_PAYMENTS_ID, ACCOUNT_C, EU_REGION) == "Stopped"


# --- Slack -------------------------------------------------------------------------------------------------


def test_slack_stops_a_deployment_in_another_account_and_region(
    organisation: None, lambda_context: Any, configure: Callable[..., None]
) -> None:
    seed_slack_secret()
    configure(SLACK_SIGNING_SECRET_PARAM=SLACK_SECRET_PARAM)
    text = f"stop {C_PAYMENTS_ID} --account {ACCOUNT_C} --region {EU_REGION}"
    event = signed(load_event("slack-command-rest.json"), text=text, secret=TEST_SIGNING_SECRET)

    response = lambda_handler(event, lambda_context)

    assert response["statusCode"] == 200
    assert C_PAYMENTS_ID in json.loads(response["body"])["text"]
    assert status_in(C_PAYMENTS_ID, ACCOUNT_C, EU_REGION) == "Stopped"
    ((role, session),) = assumed()  # the stop and the status after it share the session
    assert role == member_role_arn(ACCOUNT_C)
    assert "U0789IJKL" in session  # the Slack user, in the member account's CloudTrail


def test_the_notification_names_the_account_that_could_not_be_reached_and_why(
    organisation: None, loop: str, lambda_context: Any, configure: Callable[..., None]
) -> None:
    fan_out_alarm(configure, lambda_context)

    (note,) = received_notifications(loop)
    description = json.loads(note["Message"])["content"]["description"]
    assert NO_ROLE_GROUP in description
    assert f"Could not assume the role StopDeploymentMember in account {ACCOUNT_NO_ROLE}" in description
    assert f"`{C_PAYMENTS_ID}` in payments/prod (account {ACCOUNT_C}, {EU_REGION})" in description
