"""The one world the demo, serve, bench and the tests share: the deployments the events/ files name, the
alarm that guards them, the Slack signing secret, and the events/ files themselves.

    checkout/prod  d-LGUMS25CC InProgress, d-C0MPLETED Succeeded, d-CHK0UT002 Queued
    payments/prod  d-PAYM3NTS1 InProgress (another team's: nothing aimed at checkout may touch it)
    CloudWatch     kill-switch-checkout-5xx, tagged stop-deployment:targets=checkout/prod
    SSM            /stop-deployment/slack-signing-secret = local.slack.TEST_SIGNING_SECRET

seed() seeds it whole (demo, serve); the parts let a test take less (checkout/prod only, no alarm)
or tag the alarm otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from local import fake_codedeploy
from local.slack import TEST_SIGNING_SECRET

if TYPE_CHECKING:
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
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM,
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "stop-deployment:targets", "Value": targets}],
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


def status_of(deployment_id: str) -> str:
    """The deployment's status, asked of CodeDeploy as the environment points boto3 at it."""
    info = boto3.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    return str(info["status"])


def _create(client: CodeDeployClient, target: str, status: str, deployment_id: str) -> None:
    application, group = target.split("/")
    fake_codedeploy.create_deployment(client, application, group, status=status, deployment_id=deployment_id)
