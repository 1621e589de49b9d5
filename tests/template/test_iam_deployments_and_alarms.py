"""What the roles may read of CodeDeploy, CloudWatch alarms and Change Calendars, parameter by parameter.

Both roles read the deployments of the allowed groups only, one ARN per glob; the stop role lists
applications and their groups (the freeze sweep expands globs whatever the options), reads the
groups' configurations only with discovery, the tags of the prefix's alarms only, the alarms in
ALARM (alarm freezes are always on), and the Change Calendars' states only when FreezeCalendars
names any. What freezes need of the stop role, call by call, is in test_freezes.py.
"""

from typing import Any

import pytest

from tests.template.cfn import (
    ALARM_ARN_PREFIX,
    BATCH_GET,
    BATCH_GET_GROUPS,
    DESCRIBE_ALARMS,
    DOCUMENT_ARN_PREFIX,
    ENCRYPT_FOR_OWN_TOPIC,
    FREEZE_CALENDARS,
    FUNCTION_IDS,
    GET,
    GET_CALENDAR_STATE,
    GROUP_ARN_PREFIX,
    LIST,
    LIST_ALARM_TAGS,
    LIST_APPLICATIONS,
    LIST_APPLICATIONS_ANYWHERE,
    LIST_GROUPS,
    LIST_GROUPS_OF_APPLICATIONS,
    PUBLISH_TO_OWN_TOPIC,
    READ_ALARMS_IN_ALARM,
    SEND_FAILURES,
    STOP,
    STOP_ROLE_LEDGER,
    Evaluator,
    role_statements,
)

# Calendar freezes: the state of this account's Change Calendars (SSM documents), only when
# FreezeCalendars names any.
READ_CALENDAR_STATES = {
    "Effect": "Allow",
    "Action": [GET_CALENDAR_STATE],
    "Resource": [DOCUMENT_ARN_PREFIX + "*"],
}


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
