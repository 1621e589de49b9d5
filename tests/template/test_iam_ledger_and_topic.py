"""The stop role's ledger and notification topic, and the topic's key used through SNS only.

The stop role records stops, reads any ledger item, and updates only the one that holds the set
freezes and Slack's confirmation prompts, whatever the options; it publishes to the topic the stack
creates, with that topic's key used through SNS only, or, given NotifyTopicArn, to that one topic
with no key at all. What the ledger calls need, call by call, is in test_freezes.py and
test_slack.py.
"""

from typing import Any

import pytest

from stop_deployment.ledger import FREEZES_KEY
from stop_deployment.triggers.slack.confirm import PREFIX as CONFIRMATION_PREFIX
from tests.template.cfn import (
    ENCRYPT_FOR_OWN_TOPIC,
    GET_ITEM,
    NOTIFY_TOPIC_ARN,
    PUBLISH,
    PUBLISH_TO_OWN_TOPIC,
    READ_LEDGER_ITEMS,
    SLACK_PARAMETER,
    SLACK_SECRET_ARN,
    STOP_ROLE_LEDGER,
    TABLE_ID,
    UPDATE_ITEM,
    role_statements,
)


@pytest.mark.parametrize("allowed", ["*", "checkout/prod,*/staging"])
@pytest.mark.parametrize("topic", ["", NOTIFY_TOPIC_ARN])
@pytest.mark.parametrize("slack", ["", SLACK_PARAMETER, SLACK_SECRET_ARN])
@pytest.mark.parametrize("freeze_minutes", ["0", "10080"])
def test_stop_role_puts_and_reads_its_ledger_and_updates_only_freezes_and_confirmations(
    cfn_template: dict[str, Any], allowed: str, topic: str, slack: str, freeze_minutes: str
) -> None:
    # It records each stop with a conditional put (any key), reads the freezes item on every START
    # (so whatever AlarmFreezeMinutes says) and a stop's item for Slack's status command (so whether
    # Slack is configured or not: a stop's item is no secret); it never scans, queries or deletes,
    # and updates no stop's item.
    statements = role_statements(
        cfn_template,
        AllowedDeploymentGroups=allowed,
        NotifyTopicArn=topic,
        SlackSigningSecretParam=slack,
        AlarmFreezeMinutes=freeze_minutes,
    )

    on_dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in s["Action"])]
    assert on_dynamodb == STOP_ROLE_LEDGER


def test_updates_are_allowed_only_on_the_freezes_item_and_confirmation_prompts(
    cfn_template: dict[str, Any],
) -> None:
    # Given the table's key (one string partition key, which dynamodb:LeadingKeys holds the value
    # of), Then UpdateItem is allowed only when every partition key the request names is the
    # freezes item's or a confirmation prompt's (ForAllValues: ForAnyValue would let a batch name
    # other items too); GetItem on any item, with no condition.
    table = cfn_template["Resources"][TABLE_ID]["Properties"]
    [partition_key] = table["KeySchema"]
    assert partition_key["KeyType"] == "HASH"
    assert {"AttributeName": partition_key["AttributeName"], "AttributeType": "S"} in table[
        "AttributeDefinitions"
    ]

    statements = role_statements(cfn_template)

    [updates] = [s for s in statements if UPDATE_ITEM in s["Action"]]
    assert updates["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["freezes", "confirm#*"]}
    }
    assert (FREEZES_KEY, CONFIRMATION_PREFIX) == ("freezes", "confirm#")  # the keys the code uses
    assert updates["Action"] == [UPDATE_ITEM]
    assert updates["Resource"] == [f"{TABLE_ID}.Arn"]
    assert [s for s in statements if GET_ITEM in s["Action"]] == [READ_LEDGER_ITEMS]


def test_role_publishes_only_to_the_topic_the_stack_creates_and_uses_its_key_through_sns_only(
    cfn_template: dict[str, Any],
) -> None:
    for topic in ({}, {"NotifyTopicArn": ""}):
        statements = role_statements(cfn_template, **topic)

        assert [s for s in statements if PUBLISH in s["Action"]] == [PUBLISH_TO_OWN_TOPIC]
        assert [s for s in statements if s["Action"][0].startswith("kms:")] == [ENCRYPT_FOR_OWN_TOPIC]


@pytest.mark.parametrize("slack", ["", SLACK_PARAMETER])
def test_with_a_given_topic_the_role_publishes_only_there_and_gets_no_key_for_it(
    cfn_template: dict[str, Any], slack: str
) -> None:
    # Given NotifyTopicArn, Then the stack's own topic and key do not exist, the role may publish
    # to that one topic, and it gets no KMS permission for it (the topic's key policy must allow
    # the role, as the parameter's description says).
    baseline = role_statements(cfn_template, SlackSigningSecretParam=slack)

    statements = role_statements(cfn_template, NotifyTopicArn=NOTIFY_TOPIC_ARN, SlackSigningSecretParam=slack)

    assert [s for s in statements if PUBLISH in s["Action"]] == [
        {"Effect": "Allow", "Action": [PUBLISH], "Resource": [NOTIFY_TOPIC_ARN]}
    ]
    kms = [s for s in statements if any(a.startswith("kms:") for a in s["Action"])]
    assert all(s["Condition"]["StringEquals"]["kms:ViaService"].startswith("ssm.") for s in kms)
    assert len(kms) == (1 if slack else 0)
    expected = [s for s in baseline if s != ENCRYPT_FOR_OWN_TOPIC]
    expected[expected.index(PUBLISH_TO_OWN_TOPIC)] = {
        "Effect": "Allow",
        "Action": [PUBLISH],
        "Resource": [NOTIFY_TOPIC_ARN],
    }
    assert statements == expected
