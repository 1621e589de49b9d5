"""The stop role's Slack permissions: its signing secret's one store, decrypting through it, invoking itself.

Without Slack, no Parameter Store, Secrets Manager, KMS (but the own topic's) or Lambda permission;
with a signing secret, exactly that parameter or secret may be read, KMS may decrypt only on behalf
of that store, and the function may hand Slack's work to itself. What Slack needs, call by call, is
in test_slack.py.
"""

import re
from typing import Any

import pytest

from tests.template.cfn import (
    DECRYPT,
    DEFER_SLACK_WORK_TO_ITSELF,
    ENCRYPT_FOR_OWN_TOPIC,
    GET_PARAMETER,
    GET_SECRET,
    NOTIFY_TOPIC_ARN,
    SET_FREEZES_AND_CLAIM_CONFIRMATIONS,
    SLACK_PARAMETER,
    SLACK_SECRET_ARN,
    Evaluator,
    role_statements,
)


@pytest.mark.parametrize("parameters", [{}, {"SlackSigningSecretParam": ""}])
def test_without_slack_the_role_reads_no_secret_and_decrypts_nothing(
    cfn_template: dict[str, Any], parameters: dict[str, str]
) -> None:
    # Given SlackSigningSecretParam empty (the default) and a given notification topic, Then no
    # Parameter Store, Secrets Manager or KMS permission at all, and no invocation of the function
    # itself (the only condition left is the one that keeps the ledger's updates on the freezes
    # item and the prompts).
    statements = role_statements(
        cfn_template, DiscoverAlarmTargets="true", NotifyTopicArn=NOTIFY_TOPIC_ARN, **parameters
    )

    actions = {action for statement in statements for action in statement["Action"]}
    assert not {a for a in actions if a.split(":")[0] in ("ssm", "secretsmanager", "kms", "lambda")}
    assert [s for s in statements if "Condition" in s] == [SET_FREEZES_AND_CLAIM_CONFIRMATIONS]
    # With the stack's own topic, the only KMS permission is the one for that topic's key.
    own_topic = role_statements(cfn_template, DiscoverAlarmTargets="true", **parameters)
    assert [s for s in own_topic if "Condition" in s] == [
        SET_FREEZES_AND_CLAIM_CONFIRMATIONS,
        ENCRYPT_FOR_OWN_TOPIC,
    ]


def test_slack_secret_in_parameter_store_is_readable_and_decryptable_through_ssm_only(
    cfn_template: dict[str, Any],
) -> None:
    # Given an SSM parameter name (it starts with /, so it follows "parameter" directly), Then
    # exactly that parameter may be read, KMS may decrypt only on behalf of SSM, and the function
    # may hand Slack's work to itself.
    baseline = role_statements(cfn_template)

    statements = role_statements(cfn_template, SlackSigningSecretParam=SLACK_PARAMETER)

    assert statements == [
        *baseline,
        {
            "Effect": "Allow",
            "Action": [GET_PARAMETER],
            "Resource": ["arn:aws:ssm:eu-west-1:123456789012:parameter/stop-deployment/slack-signing-secret"],
        },
        {
            "Effect": "Allow",
            "Action": [DECRYPT],
            "Resource": ["*"],
            "Condition": {"StringEquals": {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"}},
        },
        DEFER_SLACK_WORK_TO_ITSELF,
    ]


@pytest.mark.parametrize(
    ("secret_arn", "secret_region"),
    [
        (SLACK_SECRET_ARN, "eu-west-1"),
        ("arn:aws:secretsmanager:us-east-1:111122223333:secret:slack-AbCdEf", "us-east-1"),
    ],
)
def test_slack_secret_in_secrets_manager_is_readable_and_decryptable_through_secrets_manager_only(
    cfn_template: dict[str, Any], secret_arn: str, secret_region: str
) -> None:
    # Given a Secrets Manager secret's full ARN, Then exactly that secret may be read, KMS may
    # decrypt only on behalf of Secrets Manager in the secret's region, and the function may hand
    # Slack's work to itself.
    baseline = role_statements(cfn_template)

    statements = role_statements(cfn_template, SlackSigningSecretParam=secret_arn)

    assert statements == [
        *baseline,
        {"Effect": "Allow", "Action": [GET_SECRET], "Resource": [secret_arn]},
        {
            "Effect": "Allow",
            "Action": [DECRYPT],
            "Resource": ["*"],
            "Condition": {
                "StringEquals": {"kms:ViaService": f"secretsmanager.{secret_region}.amazonaws.com"}
            },
        },
        DEFER_SLACK_WORK_TO_ITSELF,
    ]


@pytest.mark.parametrize(
    ("value", "read", "service"),
    [
        ("", None, None),
        (SLACK_PARAMETER, GET_PARAMETER, "ssm"),
        ("/slack", GET_PARAMETER, "ssm"),
        ("/a/b.c_d-e/F9", GET_PARAMETER, "ssm"),
        (SLACK_SECRET_ARN, GET_SECRET, "secretsmanager"),
        (
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a/b_c+d=e.f@g-h-AbC123",
            GET_SECRET,
            "secretsmanager",
        ),
    ],
)
def test_slack_conditions_pick_the_store_of_every_accepted_value(
    cfn_template: dict[str, Any], value: str, read: str | None, service: str | None
) -> None:
    # Given a value the parameter's pattern accepts, Then exactly one store is readable (none when
    # empty), and the read comes with a decrypt through that same service only, and with the
    # invocation of the function itself (the work it hands over is signed with that secret).
    assert re.fullmatch(cfn_template["Parameters"]["SlackSigningSecretParam"]["AllowedPattern"], value)
    evaluator = Evaluator(cfn_template, {"SlackSigningSecretParam": value})
    assert evaluator.condition("SlackSigningSecretInParameterStore") is (service == "ssm")
    assert evaluator.condition("SlackSigningSecretInSecretsManager") is (service == "secretsmanager")
    baseline = role_statements(cfn_template)

    statements = role_statements(cfn_template, SlackSigningSecretParam=value)

    added = [s for s in statements if s not in baseline]
    if read is None:
        assert added == []
        return
    [reads, decrypts, defers] = added
    assert reads["Action"] == [read]
    assert reads["Resource"] != ["*"]
    assert decrypts["Action"] == [DECRYPT]
    assert decrypts["Condition"]["StringEquals"]["kms:ViaService"].startswith(f"{service}.")
    assert defers == DEFER_SLACK_WORK_TO_ITSELF
