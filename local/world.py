"""The one world the demo, serve, bench and the tests share: the deployments the events/ files name, the
alarm that guards them, the Slack signing secret, the stop ledger and notification topic that close the
loop, and the events/ files themselves.

    checkout/prod  d-LGUMS25CC InProgress, d-C0MPLETED Succeeded, d-CHK0UT002 Queued
    payments/prod  d-PAYM3NTS1 InProgress (another team's: nothing aimed at checkout may touch it)
    CloudWatch     kill-switch-checkout-5xx, tagged stop-deployment:targets=checkout/prod
                   (its state set with set_alarm_state(), e.g. ALARM to freeze checkout/prod)
    SSM            /stop-deployment/slack-signing-secret = local.slack.TEST_SIGNING_SECRET
    DynamoDB       stop-deployment-stops (key deploymentId, TTL on expiresAt)      seed_stops_table()
    SNS            stop-deployment-notifications, read through the SQS queue
                   stop-deployment-notifications-inbox                              seed_notify_topic()

seed() seeds the deployments, the alarm and the secret (demo, serve); the parts let a test take less
(checkout/prod only, no alarm) or tag the alarm otherwise. The table and the topic are seeded only by
whoever closes the loop (the demo's second part, the tests that follow stops up).

deliver_invocations() plays Lambda's asynchronous delivery: it runs the function on each invocation of
itself that the local Lambda (local.fake_aws.lambda_) queued.

Member accounts (issue 12: the function, in HOME_ACCOUNT 123456789012 us-east-1, assumes the member
role StopDeploymentMember to act elsewhere), seeded only by seed_member_accounts():

    222222222222 us-east-1  role StopDeploymentMember; checkout/prod d-BCHK00001, d-BCHK00002 InProgress
                            CloudWatch kill-switch-checkout-5xx (home's name on purpose: the account
                            decides), tagged stop-deployment:targets=checkout/prod: never home's checkout
    333333333333 eu-west-1  role StopDeploymentMember (IAM is global); payments/prod d-CPAY00001 InProgress
    444444444444 us-east-1  no member role (AssumeRole is AccessDenied); orders/prod d-DORD00001 InProgress

member_client() acts in any of them (moto's x-moto-account-id header: no STS call); status_in() reads
a deployment's status there.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from local import fake_codedeploy
from local.context import LambdaContext
from local.fake_aws import lambda_ as fake_lambda
from local.slack import TEST_SIGNING_SECRET

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.literals import StateValueType
    from mypy_boto3_codedeploy import CodeDeployClient

EVENTS = Path(__file__).resolve().parent.parent / "events"

CHECKOUT = "checkout/prod"
PAYMENTS = "payments/prod"
IN_FLIGHT_ID = "d-LGUMS25CC"  # the deployment the events/ files stop
COMPLETED_ID = "d-C0MPLETED"
QUEUED_ID = "d-CHK0UT002"
OTHER_TEAM_ID = "d-PAYM3NTS1"
ALARM = "kill-switch-checkout-5xx"  # the alarm the alarm events/ files name
SLACK_SECRET_PARAM = "/stop-deployment/slack-signing-secret"
STOPS_TABLE = "stop-deployment-stops"
NOTIFY_TOPIC = "stop-deployment-notifications"
NOTIFY_INBOX = "stop-deployment-notifications-inbox"  # SQS queue subscribed to NOTIFY_TOPIC


def load_event(name: str) -> Any:
    """An events/ file, parsed: the same files `sam local invoke` sends."""
    return json.loads((EVENTS / name).read_text())


def seed_checkout(client: CodeDeployClient) -> None:
    """checkout/prod only: d-LGUMS25CC InProgress and d-C0MPLETED Succeeded."""
    _create(client, CHECKOUT, "InProgress", IN_FLIGHT_ID)
    _create(client, CHECKOUT, "Succeeded", COMPLETED_ID)


def seed_deployments(client: CodeDeployClient) -> list[str]:
    """Every deployment: seed_checkout(), d-CHK0UT002 Queued beside them, d-PAYM3NTS1 in payments/prod.

    Returns the ids in flight.
    """
    seed_checkout(client)
    _create(client, CHECKOUT, "Queued", QUEUED_ID)
    _create(client, PAYMENTS, "InProgress", OTHER_TEAM_ID)
    return [IN_FLIGHT_ID, QUEUED_ID, OTHER_TEAM_ID]


def seed_alarm(targets: str = CHECKOUT) -> None:
    """The alarm in the local CloudWatch, its stop-deployment:targets tag set to `targets`."""
    _put_alarm(boto3.client("cloudwatch"), ALARM, targets)


def _put_alarm(cloudwatch: Any, name: str, targets: str) -> None:
    """A 5xx alarm named `name`, its stop-deployment:targets tag set to `targets`."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "stop-deployment:targets", "Value": targets}],
    )


def set_alarm_state(state: StateValueType, name: str = ALARM) -> None:
    """Put an alarm of the local CloudWatch in OK, ALARM or INSUFFICIENT_DATA (SetAlarmState); moto never
    evaluates the metric, so it stays there until set again."""
    boto3.client("cloudwatch").set_alarm_state(
        AlarmName=name, StateValue=state, StateReason=f"Set to {state} by local.world"
    )


def seed_slack_secret() -> None:
    """The Slack app's signing secret in the local SSM, where SLACK_SIGNING_SECRET_PARAM points."""
    boto3.client("ssm").put_parameter(
        Name=SLACK_SECRET_PARAM, Value=TEST_SIGNING_SECRET, Type="SecureString", Overwrite=True
    )


def seed(client: CodeDeployClient) -> list[str]:
    """The whole world; returns the ids in flight."""
    in_flight = seed_deployments(client)
    seed_alarm()
    seed_slack_secret()
    return in_flight


def seed_stops_table() -> str:
    """The stop ledger in the local DynamoDB (kept if it exists); returns its name."""
    dynamodb = boto3.client("dynamodb")
    with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
        dynamodb.create_table(
            TableName=STOPS_TABLE,
            KeySchema=[{"AttributeName": "deploymentId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "deploymentId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.update_time_to_live(
            TableName=STOPS_TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
        )
    return STOPS_TABLE


def seed_notify_topic() -> tuple[str, str]:
    """The notification topic in the local SNS and an SQS queue subscribed to it, so that what the
    function publishes can be read back; returns (topic ARN, queue URL). Idempotent, as SNS and SQS are.
    """
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic_arn = sns.create_topic(Name=NOTIFY_TOPIC)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=NOTIFY_INBOX)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    # Not raw: the queue receives SNS's envelope, with Subject and MessageAttributes. (moto delivers
    # without the queue policy that real SQS would need to accept SNS's messages.)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


def received_notifications(queue_url: str) -> list[dict[str, Any]]:
    """Every SNS envelope waiting in the queue, oldest first; the queue is left empty."""
    sqs = boto3.client("sqs")
    notes: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        notes += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    # SQS does not promise order; SNS stamps each message (sorting is stable for equal stamps).
    return sorted(notes, key=lambda note: str(note["Timestamp"]))


def edit_ledger_item(key: str, **fields: str | int) -> None:
    """Change fields of a ledger item as time would (recordedAt or a prompt's confirmBefore into the
    past), as strings or numbers."""
    boto3.client("dynamodb").update_item(
        TableName=STOPS_TABLE,
        Key={"deploymentId": {"S": key}},
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
        ExpressionAttributeNames={f"#{k}": k for k in fields},
        ExpressionAttributeValues={
            f":{k}": {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in fields.items()
        },
    )


def status_of(deployment_id: str) -> str:
    """The deployment's status, asked of CodeDeploy as the environment points boto3 at it."""
    info = boto3.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    return str(info["status"])


def started(
    client: CodeDeployClient, target: str = CHECKOUT, description: str | None = None
) -> tuple[str, dict[str, Any]]:
    """A deployment that just started in `target`, and the START event EventBridge brings for it."""
    application, group = target.split("/")
    deployment_id = fake_codedeploy.create_deployment(
        client, application, group, description=description, announce=True
    )
    (start,) = [e for e in fake_codedeploy.take_events() if e["detail"]["deploymentId"] == deployment_id]
    return deployment_id, start


def deliver_invocations(handler: Callable[[Any, Any], Any] | None = None) -> list[Any]:
    """Run every asynchronous invocation the local Lambda queued, as Lambda delivers them, and return
    what each returned, in order.

    Each payload goes to ``handler`` (the function's ``lambda_handler`` unless given) with a fresh
    ``LambdaContext``, one at a time, oldest first, until the queue is empty: an invocation queued during
    delivery is delivered too, after those already waiting. An exception the handler raises is not
    raised here: it is that invocation's result (the exception object), as Lambda records a failed
    asynchronous invocation and carries on (real Lambda would also retry it, twice by default; this does
    not). One at a time, because the function's module state assumes one invocation per process at a
    time.
    """
    if handler is None:
        from stop_deployment.handler import lambda_handler  # the function, imported only when run

        handler = lambda_handler
    results: list[Any] = []
    while invocations := fake_lambda.take_invocations():
        for invocation in invocations:
            try:
                results.append(handler(invocation.payload, LambdaContext()))
            except Exception as exc:  # Lambda records the failure and goes on; so does this loop
                results.append(exc)
    return results


def _create(client: CodeDeployClient, target: str, status: str, deployment_id: str) -> None:
    application, group = target.split("/")
    fake_codedeploy.create_deployment(client, application, group, status=status, deployment_id=deployment_id)


# --- member accounts (issue 12) -------------------------------------------------------------------------
# Seeded and read through moto's own multi-account switch, the x-moto-account-id request header
# (moto.core.responses.BaseResponse.get_current_account: second only to MOTO_ACCOUNT_ID, before the
# access key; honoured by mock_aws() and the server alike): no STS call, so it reaches an account
# without the member role too and leaves local.fake_aws.sts.calls() to the function.

HOME_ACCOUNT = "123456789012"  # moto's default account, the local Lambda context's
ACCOUNT_B = "222222222222"
ACCOUNT_C = "333333333333"
ACCOUNT_NO_ROLE = "444444444444"  # a member account where the member role was never deployed
MEMBER_ROLE = "StopDeploymentMember"  # the function's MEMBER_ROLE_NAME
EU_REGION = "eu-west-1"
ORDERS = "orders/prod"
B_CHECKOUT_IDS = ("d-BCHK00001", "d-BCHK00002")  # ACCOUNT_B us-east-1 checkout/prod, InProgress
C_PAYMENTS_ID = "d-CPAY00001"  # ACCOUNT_C eu-west-1 payments/prod, InProgress
NO_ROLE_ID = "d-DORD00001"  # ACCOUNT_NO_ROLE us-east-1 orders/prod, InProgress
ALARM_B = "kill-switch-checkout-5xx"  # in ACCOUNT_B us-east-1, tagged for its own checkout/prod

_MOTO_ACCOUNT_HEADER = "x-moto-account-id"


def member_role_arn(account: str) -> str:
    """The member role's ARN in `account`, as the function assumes it."""
    return f"arn:aws:iam::{account}:role/{MEMBER_ROLE}"


def member_client(service: str, account: str, region: str = "us-east-1") -> Any:
    """A boto3 client acting in `account` and `region` of the local AWS (mock_aws() or the server the
    environment points at), whether or not the member role is there; for seeding and reading back."""
    if "MOTO_ACCOUNT_ID" in os.environ:  # moto would put every request, assumed roles' too, in that one
        raise RuntimeError("MOTO_ACCOUNT_ID is set: moto puts every request in that one account")
    made: Any = boto3.client(service, region_name=region)  # type: ignore[call-overload]

    def act_in_account(request: Any, **_: Any) -> None:
        request.headers[_MOTO_ACCOUNT_HEADER] = account

    # A client's event hooks are its own: other clients keep acting in the home account.
    made.meta.events.register("before-sign", act_in_account)
    return made


def status_in(deployment_id: str, account: str, region: str = "us-east-1") -> str:
    """The deployment's status in that account and region's CodeDeploy."""
    info = member_client("codedeploy", account, region).get_deployment(deploymentId=deployment_id)
    return str(info["deploymentInfo"]["status"])


def seed_member_accounts() -> list[str]:
    """The member accounts: the member role in ACCOUNT_B and ACCOUNT_C (trusting the home account; moto
    does not enforce trust), none in ACCOUNT_NO_ROLE, each account's deployments (all InProgress) and
    ALARM_B in ACCOUNT_B. Seed once (fixed ids); the home account is not touched.

    Returns the ids in flight.
    """
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    for account in (ACCOUNT_B, ACCOUNT_C):
        member_client("iam", account).create_role(
            RoleName=MEMBER_ROLE,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description="Lets the stop-deployment function stop CodeDeploy deployments in this account",
        )
    places = [
        (ACCOUNT_B, "us-east-1", CHECKOUT, B_CHECKOUT_IDS),
        (ACCOUNT_C, EU_REGION, PAYMENTS, (C_PAYMENTS_ID,)),
        (ACCOUNT_NO_ROLE, "us-east-1", ORDERS, (NO_ROLE_ID,)),
    ]
    for account, region, target, ids in places:
        codedeploy = member_client("codedeploy", account, region)
        for deployment_id in ids:
            _create(codedeploy, target, "InProgress", deployment_id)
    _put_alarm(member_client("cloudwatch", ACCOUNT_B), ALARM_B, CHECKOUT)
    return [*B_CHECKOUT_IDS, C_PAYMENTS_ID, NO_ROLE_ID]
