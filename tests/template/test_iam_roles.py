"""Each role taken whole: all its statements, what it never grants, and its managed policies.

The stop role's every statement for the defaults, and for any options what it never grants (no
wildcard action, no write but StopDeployment, the failure records, the ledger, the notifications
and, with Slack, its own invocation; "*" only where no narrower resource works); the follow-up
role's every statement for any options (it keeps the ledger, reads deployments and notifies, and
stops nothing); and both roles' managed policies. Each permission's own parameters are pinned in
test_iam_deployments_and_alarms.py, test_iam_ledger_and_topic.py and test_iam_slack.py.
"""

from typing import Any

import pytest

from tests.template.cfn import (
    ALARM_ARN_PREFIX,
    APPLICATION_ARN_PREFIX,
    BATCH_GET,
    BATCH_GET_GROUPS,
    DECRYPT,
    DEFER_SLACK_WORK_TO_ITSELF,
    DESCRIBE_ALARMS,
    DOCUMENT_ARN_PREFIX,
    ENCRYPT_FOR_OWN_TOPIC,
    FOLLOW_UP_FUNCTION_ID,
    FREEZE_CALENDARS,
    FUNCTION_IDS,
    GENERATE_DATA_KEY,
    GET,
    GET_CALENDAR_STATE,
    GET_ITEM,
    GET_PARAMETER,
    GET_SECRET,
    GROUP_ARN_PREFIX,
    INVOKE_FUNCTION,
    LIST,
    LIST_ALARM_TAGS,
    LIST_APPLICATIONS,
    LIST_APPLICATIONS_ANYWHERE,
    LIST_GROUPS,
    LIST_GROUPS_OF_APPLICATIONS,
    NOTIFY_KEY_ID,
    NOTIFY_TOPIC_ARN,
    NOTIFY_TOPIC_ID,
    PUBLISH,
    PUBLISH_TO_OWN_TOPIC,
    PUT_ITEM,
    QUEUE_ID,
    READ_ALARMS_IN_ALARM,
    SCAN,
    SEND_FAILURES,
    SEND_MESSAGE,
    SET_FREEZES_AND_CLAIM_CONFIRMATIONS,
    SLACK_PARAMETER,
    SLACK_SECRET_ARN,
    STOP,
    STOP_ROLE_LEDGER,
    TABLE_ID,
    UPDATE_ITEM,
    Evaluator,
    role_properties,
    role_statements,
)

# The stop ledger as the follow-up function keeps it: it reads the stops, records rollbacks, settles
# and sweeps.
FOLLOW_STOPS = {
    "Effect": "Allow",
    "Action": sorted([GET_ITEM, PUT_ITEM, UPDATE_ITEM, SCAN]),
    "Resource": [f"{TABLE_ID}.Arn"],
}


def test_role_allows_stop_anywhere_and_reads_only_in_the_default_allowed_groups(
    cfn_template: dict[str, Any],
) -> None:
    # Given the default parameters (AllowedDeploymentGroups "*", AlarmNamePrefix "kill-switch-",
    # no discovery, no NotifyTopicArn, no FreezeCalendars), Then the deployment reads cover every
    # group here, applications and their groups may be listed (the freeze sweep expands globs
    # whatever the options), the alarm tags only the alarms named with the prefix, the alarms in
    # ALARM are listed (alarm freezes are always on: the prefix cannot be empty), and the function
    # records stops, reads ledger items, sets freezes and claims confirmations, and notifies the
    # topic the stack creates; no Change Calendar is read, and without Slack the function may not
    # invoke itself. SAM adds the first statement for the on-failure queue.
    assert role_statements(cfn_template) == [
        SEND_FAILURES,
        {"Effect": "Allow", "Action": [STOP], "Resource": ["*"]},
        {
            "Effect": "Allow",
            "Action": sorted([GET, LIST, BATCH_GET]),
            "Resource": [GROUP_ARN_PREFIX + "*"],
        },
        LIST_APPLICATIONS_ANYWHERE,
        LIST_GROUPS_OF_APPLICATIONS,
        {"Effect": "Allow", "Action": [LIST_ALARM_TAGS], "Resource": [ALARM_ARN_PREFIX + "kill-switch-*"]},
        READ_ALARMS_IN_ALARM,
        *STOP_ROLE_LEDGER,
        PUBLISH_TO_OWN_TOPIC,
        ENCRYPT_FOR_OWN_TOPIC,
    ]


@pytest.mark.parametrize(
    ("slack", "slack_reads"),
    [("", set()), (SLACK_PARAMETER, {GET_PARAMETER, DECRYPT}), (SLACK_SECRET_ARN, {GET_SECRET, DECRYPT})],
)
@pytest.mark.parametrize("discover", ["true", "false"])
@pytest.mark.parametrize("allowed", ["*", "checkout/prod,*/staging"])
@pytest.mark.parametrize("topic", ["", NOTIFY_TOPIC_ARN])
@pytest.mark.parametrize("calendars", ["", FREEZE_CALENDARS])
def test_role_grants_no_wildcard_action_and_no_write_but_stop(
    cfn_template: dict[str, Any],
    topic: str,
    allowed: str,
    discover: str,
    slack: str,
    slack_reads: set[str],
    calendars: str,
) -> None:
    statements = role_statements(
        cfn_template,
        AllowedDeploymentGroups=allowed,
        DiscoverAlarmTargets=discover,
        SlackSigningSecretParam=slack,
        NotifyTopicArn=topic,
        FreezeCalendars=calendars,
    )

    actions = {action for statement in statements for action in statement["Action"]}
    calendar_reads = {GET_CALENDAR_STATE} if calendars else set()
    reads = (
        {GET, LIST, BATCH_GET, LIST_APPLICATIONS, LIST_GROUPS, LIST_ALARM_TAGS, DESCRIBE_ALARMS, GET_ITEM}
        | slack_reads
        | calendar_reads
    )
    discovery = {BATCH_GET_GROUPS}
    own_key = set() if topic else {GENERATE_DATA_KEY, DECRYPT}
    # The only writes: StopDeployment, the on-failure records into the stack's own queue, the
    # stops put in the ledger, the freezes and confirmations set in it, the notifications (with the
    # own topic's key), and, with Slack, the invocation of the function itself.
    writes = {STOP, SEND_MESSAGE, PUT_ITEM, UPDATE_ITEM, PUBLISH} | own_key
    deferral = {INVOKE_FUNCTION} if slack else set()
    assert actions == writes | reads | deferral | (discovery if discover == "true" else set())
    assert all("*" not in action for action in actions)
    assert all(statement["Effect"] == "Allow" for statement in statements)
    assert [s["Resource"] for s in statements if s["Action"] == [SEND_MESSAGE]] == [[f"{QUEUE_ID}.Arn"]]
    assert [s["Resource"] for s in statements if PUT_ITEM in s["Action"]] == [[f"{TABLE_ID}.Arn"]]
    assert [s["Resource"] for s in statements if PUBLISH in s["Action"]] == [[topic or NOTIFY_TOPIC_ID]]
    assert [s for s in statements if INVOKE_FUNCTION in s["Action"]] == (
        [DEFER_SLACK_WORK_TO_ITSELF] if slack else []
    )
    # Only actions without a resource type are granted on "*" (StopDeployment, ListApplications),
    # and DescribeAlarms (which lists composite alarms only when granted on "*"); KMS only through
    # the service that holds the Slack signing secret, or through SNS on the stack's own key.
    on_anything = [s["Action"] for s in statements if "*" in s["Resource"] and "Condition" not in s]
    assert on_anything == [[STOP], [LIST_APPLICATIONS], [DESCRIBE_ALARMS]]
    list_groups = [s["Resource"] for s in statements if LIST_GROUPS in s["Action"]]
    assert list_groups == [[APPLICATION_ARN_PREFIX + "*"]]
    assert [s["Resource"] for s in statements if GET_CALENDAR_STATE in s["Action"]] == (
        [[DOCUMENT_ARN_PREFIX + "*"]] if calendars else []
    )
    conditional = [s for s in statements if "Condition" in s]
    expected_conditional = (
        [[UPDATE_ITEM]] + ([] if topic else [sorted(own_key)]) + ([[DECRYPT]] if slack else [])
    )
    assert [s["Action"] for s in conditional] == expected_conditional
    # The ledger's updates only on the freezes item and the prompts; KMS only through a service.
    assert [s["Condition"] for s in conditional if s["Action"][0].startswith("dynamodb:")] == [
        SET_FREEZES_AND_CLAIM_CONFIRMATIONS["Condition"]
    ]
    on_kms = [s for s in conditional if s["Action"][0].startswith("kms:")]
    assert all(set(s["Condition"]) == {"StringEquals"} for s in on_kms)
    assert all(set(s["Condition"]["StringEquals"]) == {"kms:ViaService"} for s in on_kms)
    assert [s["Resource"] for s in conditional if GENERATE_DATA_KEY in s["Action"]] == (
        [] if topic else [[f"{NOTIFY_KEY_ID}.Arn"]]
    )


@pytest.mark.parametrize("allowed", ["*", "checkout/prod,*/staging"])
@pytest.mark.parametrize("topic", ["", NOTIFY_TOPIC_ARN])
@pytest.mark.parametrize("slack", ["", SLACK_PARAMETER, SLACK_SECRET_ARN])
@pytest.mark.parametrize("discover", ["true", "false"])
@pytest.mark.parametrize("calendars", ["", FREEZE_CALENDARS])
def test_follow_up_role_keeps_the_ledger_reads_deployments_and_notifies_and_nothing_else(
    cfn_template: dict[str, Any], allowed: str, topic: str, slack: str, discover: str, calendars: str
) -> None:
    # Given any options (Slack, discovery and freezes, those set after an alarm included, are the
    # stop function's business), Then the follow-up role may keep the ledger, read the deployments
    # of the allowed groups, send its failures to the queue and notify the topic (with its key,
    # when the stack creates it); nothing else.
    statements = role_statements(
        cfn_template,
        function_id=FOLLOW_UP_FUNCTION_ID,
        AllowedDeploymentGroups=allowed,
        NotifyTopicArn=topic,
        SlackSigningSecretParam=slack,
        DiscoverAlarmTargets=discover,
        AlarmNamePrefix="stop-",
        FreezeCalendars=calendars,
        AlarmFreezeMinutes="10080",
    )

    assert statements == [
        SEND_FAILURES,
        FOLLOW_STOPS,
        {
            "Effect": "Allow",
            "Action": [GET],
            "Resource": [GROUP_ARN_PREFIX + glob for glob in allowed.split(",")],
        },
        {"Effect": "Allow", "Action": [PUBLISH], "Resource": [topic or NOTIFY_TOPIC_ID]},
        *([] if topic else [ENCRYPT_FOR_OWN_TOPIC]),
    ]
    actions = {action for statement in statements for action in statement["Action"]}
    assert STOP not in actions
    assert not {a for a in actions if a.split(":")[0] in ("cloudwatch", "ssm", "secretsmanager")}


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_role_managed_policies_are_basic_execution_and_xray_write(
    cfn_template: dict[str, Any], function_id: str
) -> None:
    # SAM adds the X-Ray write policy whenever Tracing is not a literal "Disabled", and here it
    # is an Fn::If on EnableTracing, so it is always there (write-only telemetry, no CodeDeploy).
    arns = Evaluator(cfn_template).resolve(role_properties(cfn_template, function_id)["ManagedPolicyArns"])

    assert sorted(arns) == [
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ]
