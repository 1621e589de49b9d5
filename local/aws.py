"""Point boto3, in this process or a child's environment, at the local AWS (moto) on 127.0.0.1."""

# The suffix is the service id in upper case, spaces as underscores ("Secrets Manager"). moto's server
# answers every service on its one port: DynamoDB, SNS and Lambda (the function's asynchronous invokes of
# itself, queued by local.fake_aws.lambda_) for the function, SQS for the demo, STS (the member roles,
# local.fake_aws.sts) and IAM (where local.world creates them).
LOCAL_SERVICES = (
    "CODEDEPLOY",
    "CLOUDWATCH",
    "SSM",
    "SECRETS_MANAGER",
    "DYNAMODB",
    "SNS",
    "LAMBDA",
    "SQS",
    "STS",
    "IAM",
)


def environment(url: str) -> dict[str, str]:
    """The variables that send this function's AWS calls to `url`, with throwaway credentials."""
    return {
        **{f"AWS_ENDPOINT_URL_{service}": url for service in LOCAL_SERVICES},
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
