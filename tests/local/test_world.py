"""local/world.py's stop ledger and notification topic, on moto through boto3."""

from __future__ import annotations

import json
from typing import Any

import boto3

from local import aws, world


def test_the_stops_table_has_the_ledger_key_billing_and_ttl(local_cd: Any) -> None:
    name = world.seed_stops_table()

    assert world.seed_stops_table() == name == world.STOPS_TABLE  # a second seed keeps it
    dynamodb = boto3.client("dynamodb")
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "deploymentId", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "deploymentId", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")


def test_what_reaches_the_topic_is_read_back_as_sns_envelopes_oldest_first(local_cd: Any) -> None:
    topic_arn, queue_url = world.seed_notify_topic()
    sns = boto3.client("sns")
    for n in range(12):  # more than one receive_message page
        sns.publish(
            TopicArn=topic_arn,
            Subject=f"stop-deployment: note {n}",
            Message=json.dumps({"n": n}),
            MessageAttributes={"trigger": {"DataType": "String", "StringValue": "alarm"}},
        )

    notes = world.received_notifications(queue_url)

    assert [json.loads(note["Message"])["n"] for note in notes] == list(range(12))
    assert notes[0]["Subject"] == "stop-deployment: note 0"
    assert notes[0]["TopicArn"] == topic_arn
    assert notes[0]["MessageAttributes"]["trigger"] == {"Type": "String", "Value": "alarm"}
    assert world.received_notifications(queue_url) == []
    assert world.seed_notify_topic() == (topic_arn, queue_url)


def test_the_local_environment_points_the_loops_services_at_the_local_aws() -> None:
    env = aws.environment("http://127.0.0.1:5000")

    for service in ("DYNAMODB", "SNS", "SQS", "STS", "CODEDEPLOY"):
        assert env[f"AWS_ENDPOINT_URL_{service}"] == "http://127.0.0.1:5000"
