"""Point boto3, in this process or a child's environment, at the local AWS (moto) on 127.0.0.1."""

import uuid
from dataclasses import dataclass, field

import boto3

LOCAL_SERVICES = ("CODEDEPLOY", "CLOUDWATCH", "SSM", "SECRETSMANAGER")


@dataclass
class LambdaContext:
    """The parts of Lambda's context object the function reads, for running it outside Lambda."""

    function_name: str = "stop-deployment-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:stop-deployment-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def environment(url: str) -> dict[str, str]:
    """The variables that send this function's AWS calls to `url`, with throwaway credentials."""
    return {
        **{f"AWS_ENDPOINT_URL_{service}": url for service in LOCAL_SERVICES},
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }


def create_alarm(name: str, targets_tag: str) -> None:
    """A metric alarm in the local CloudWatch whose stop-deployment:targets tag is `targets_tag`."""
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "stop-deployment:targets", "Value": targets_tag}],
    )
