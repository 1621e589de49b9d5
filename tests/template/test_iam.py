"""The two roles' permissions, statement by statement, for the parameter values that change them.

The stop function's role may stop, read deployments and alarms (and, with calendar freezes, Change
Calendar states), list applications and their groups (to expand globs in the freeze sweep and
discovery), record stops, read any ledger item, update only the one that holds the set freezes and
Slack's confirmation prompts, and, with Slack, invoke itself; the follow-up function's role may read
deployments and keep the ledger, and stop nothing. What freezes need of the stop role, call by call,
is in test_freezes.py; what Slack needs, in test_slack.py.
"""

import re
from typing import Any

import pytest

from stop_deployment.ledger import FREEZES_KEY
from stop_deployment.triggers.slack.confirm import PREFIX as CONFIRMATION_PREFIX
from tests.template.cfn import (
    ALARM_ARN_PREFIX,
    APPLICATION_ARN_PREFIX,
    BATCH_GET,
    BATCH_GET_GROUPS,
    DECRYPT,
    DESCRIBE_ALARMS,
    DOCUMENT_ARN_PREFIX,
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
    LIST_GROUPS,
    NOTIFY_KEY_ID,
    NOTIFY_TOPIC_ARN,
    NOTIFY_TOPIC_ID,
    PUBLISH,
    PUT_ITEM,
    QUEUE_ID,
    SCAN,
    SEND_MESSAGE,
    SLACK_PARAMETER,
    SLACK_SECRET_ARN,
    STOP,
    STOP_FUNCTION_ARN,
    TABLE_ID,
    UPDATE_ITEM,
    Evaluator,
    role_properties,
    role_statements,
)

# The stop ledger, on the stack's own table only (no index): the stop function records stops (a
# conditional put, on any key: the freezes item and confirmation prompts are first put too), reads
# any one item (the freezes, a prompt, a stop for Slack's status command), and updates only the one
# item that holds the set freezes and the confirmation prompts; the follow-up function reads the
# stops, records rollbacks, settles and sweeps.
RECORD_STOPS = {"Effect": "Allow", "Action": [PUT_ITEM], "Resource": [f"{TABLE_ID}.Arn"]}
READ_LEDGER_ITEMS = {"Effect": "Allow", "Action": [GET_ITEM], "Resource": [f"{TABLE_ID}.Arn"]}
SET_FREEZES_AND_CLAIM_CONFIRMATIONS = {
    "Effect": "Allow",
    "Action": [UPDATE_ITEM],
    "Resource": [f"{TABLE_ID}.Arn"],
    "Condition": {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [FREEZES_KEY, CONFIRMATION_PREFIX + "*"]}
    },
}
STOP_ROLE_LEDGER = [RECORD_STOPS, READ_LEDGER_ITEMS, SET_FREEZES_AND_CLAIM_CONFIRMATIONS]
# With Slack: the work handed over to an asynchronous invocation of the stop function itself.
DEFER_SLACK_WORK_TO_ITSELF = {"Effect": "Allow", "Action": [INVOKE_FUNCTION], "Resource": [STOP_FUNCTION_ARN]}
FOLLOW_STOPS = {
    "Effect": "Allow",
    "Action": sorted([GET_ITEM, PUT_ITEM, UPDATE_ITEM, SCAN]),
    "Resource": [f"{TABLE_ID}.Arn"],
}
# What SAM adds to each role for the EventInvokeConfig's on-failure destination.
SEND_FAILURES = {"Effect": "Allow", "Action": [SEND_MESSAGE], "Resource": [f"{QUEUE_ID}.Arn"]}
# Notifications to the stack's own topic, and its key used through SNS only.
PUBLISH_TO_OWN_TOPIC = {"Effect": "Allow", "Action": [PUBLISH], "Resource": [NOTIFY_TOPIC_ID]}
ENCRYPT_FOR_OWN_TOPIC = {
    "Effect": "Allow",
    "Action": sorted([GENERATE_DATA_KEY, DECRYPT]),
    "Resource": [f"{NOTIFY_KEY_ID}.Arn"],
    "Condition": {"StringEquals": {"kms:ViaService": "sns.eu-west-1.amazonaws.com"}},
}
# Globs (e.g. */prod) expanded into groups, by the freeze sweep and discovery: every application of
# the account and region (ListApplications has no resource type).
LIST_APPLICATIONS_ANYWHERE = {"Effect": "Allow", "Action": [LIST_APPLICATIONS], "Resource": ["*"]}
LIST_GROUPS_OF_APPLICATIONS = {
    "Effect": "Allow",
    "Action": [LIST_GROUPS],
    "Resource": [APPLICATION_ARN_PREFIX + "*"],
}
# Freezes: the alarms in ALARM (on "*": composite alarms are listed only so), and the state of
# this account's Change Calendars (SSM documents), only when FreezeCalendars names any.
READ_ALARMS_IN_ALARM = {"Effect": "Allow", "Action": [DESCRIBE_ALARMS], "Resource": ["*"]}
READ_CALENDAR_STATES = {
    "Effect": "Allow",
    "Action": [GET_CALENDAR_STATE],
    "Resource": [DOCUMENT_ARN_PREFIX + "*"],
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


def test_discovery_adds_only_the_group_configuration_read(cfn_template: dict[str, Any]) -> None:
    # Given DiscoverAlarmTargets true (and two allowed globs, a custom prefix), Then the groups'
    # configurations are readable in the allowed groups only; the lists discovery walks are there
    # anyway (the freeze sweep's).
    statements = role_statements(
        cfn_template,
        DiscoverAlarmTargets="true",
        AllowedDeploymentGroups="checkout/prod,*/staging",
        AlarmNamePrefix="stop-",
    )

    assert statements == [
        SEND_FAILURES,
        {"Effect": "Allow", "Action": [STOP], "Resource": ["*"]},
        {
            "Effect": "Allow",
            "Action": sorted([GET, LIST, BATCH_GET, BATCH_GET_GROUPS]),
            "Resource": [GROUP_ARN_PREFIX + "checkout/prod", GROUP_ARN_PREFIX + "*/staging"],
        },
        LIST_APPLICATIONS_ANYWHERE,
        LIST_GROUPS_OF_APPLICATIONS,
        {"Effect": "Allow", "Action": [LIST_ALARM_TAGS], "Resource": [ALARM_ARN_PREFIX + "stop-*"]},
        READ_ALARMS_IN_ALARM,
        *STOP_ROLE_LEDGER,
        PUBLISH_TO_OWN_TOPIC,
        ENCRYPT_FOR_OWN_TOPIC,
    ]


def test_without_discovery_the_role_reads_no_group_configuration_but_still_lists_for_the_sweep(
    cfn_template: dict[str, Any],
) -> None:
    for discover in ("false", None):
        parameters = {"DiscoverAlarmTargets": discover} if discover else {}
        statements = role_statements(cfn_template, **parameters)

        actions = {action for statement in statements for action in statement["Action"]}
        assert BATCH_GET_GROUPS not in actions
        assert [s for s in statements if {LIST_APPLICATIONS, LIST_GROUPS} & set(s["Action"])] == [
            LIST_APPLICATIONS_ANYWHERE,
            LIST_GROUPS_OF_APPLICATIONS,
        ]


@pytest.mark.parametrize("prefix", ["kill-switch-", "stop-"])
def test_alarm_freezes_add_only_the_alarm_listing_and_need_no_condition(
    cfn_template: dict[str, Any], prefix: str
) -> None:
    # Given any AlarmNamePrefix (its pattern refuses an empty one, so the function always checks
    # alarm freezes), Then the role may list alarms, once, on "*" and without a condition: the
    # function asks for the prefix's alarms in ALARM, and a narrower resource would hide the
    # composite ones. The alarm tags stay scoped to the prefix.
    statements = role_statements(cfn_template, AlarmNamePrefix=prefix)

    assert [s for s in statements if DESCRIBE_ALARMS in s["Action"]] == [READ_ALARMS_IN_ALARM]
    assert [s["Resource"] for s in statements if LIST_ALARM_TAGS in s["Action"]] == [
        [ALARM_ARN_PREFIX + prefix + "*"]
    ]


@pytest.mark.parametrize("calendars", [None, "", "{}"])
def test_without_freeze_calendars_the_role_reads_no_calendar(
    cfn_template: dict[str, Any], calendars: str | None
) -> None:
    # Given FreezeCalendars left out, empty (the default) or {} (the function reads both as no
    # calendar), Then the condition is false and the role reads no Change Calendar.
    parameters = {} if calendars is None else {"FreezeCalendars": calendars}
    assert Evaluator(cfn_template, parameters).condition("HasFreezeCalendars") is False

    statements = role_statements(cfn_template, **parameters)

    actions = {action for statement in statements for action in statement["Action"]}
    assert GET_CALENDAR_STATE not in actions
    assert statements == role_statements(cfn_template)


@pytest.mark.parametrize("calendars", [FREEZE_CALENDARS, '{"checkout/prod":["release-window"]}'])
def test_freeze_calendars_add_only_the_calendar_state_read_on_this_accounts_documents(
    cfn_template: dict[str, Any], calendars: str
) -> None:
    # Given FreezeCalendars naming calendars, Then exactly one statement is added: GetCalendarState
    # on the SSM documents of this account and region (the names are inside JSON that
    # CloudFormation cannot read), with no other SSM action.
    assert Evaluator(cfn_template, {"FreezeCalendars": calendars}).condition("HasFreezeCalendars") is True
    baseline = role_statements(cfn_template)

    statements = role_statements(cfn_template, FreezeCalendars=calendars)

    expected = list(baseline)
    expected.insert(baseline.index(READ_ALARMS_IN_ALARM) + 1, READ_CALENDAR_STATES)
    assert statements == expected
    ssm_actions = {a for s in statements for a in s["Action"] if a.startswith("ssm:")}
    assert ssm_actions == {GET_CALENDAR_STATE}


@pytest.mark.parametrize(
    "allowed",
    [
        "*",
        "checkout/prod",
        "*/prod,checkout/*",
        ",".join(f"app{n}/prod" for n in range(10)),
    ],
)
@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_get_deployment_is_scoped_to_one_arn_per_allowed_glob(
    cfn_template: dict[str, Any], allowed: str, function_id: str
) -> None:
    # Both roles build the list the same way, glob by glob: the same ARNs, up to the 10th glob.
    for discover in ("true", "false"):
        statements = role_statements(
            cfn_template,
            function_id=function_id,
            AllowedDeploymentGroups=allowed,
            DiscoverAlarmTargets=discover,
        )

        get_resources = [s["Resource"] for s in statements if GET in s["Action"]]
        assert get_resources == [[GROUP_ARN_PREFIX + glob for glob in allowed.split(",")]]


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
