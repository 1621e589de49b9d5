"""The template's parameters: the values their patterns accept and reject, and that the settings take them."""

import re
from typing import Any

import pytest

from stop_deployment import settings
from stop_deployment.errors import ConfigurationError
from stop_deployment.target import Target
from tests.template.cfn import (
    FREEZE_CALENDARS,
    NOTIFY_TOPIC_ARN,
    NOTIFY_TOPIC_ID,
    PHYSICAL_IDS,
    SLACK_PARAMETER,
    SLACK_SECRET_ARN,
    TABLE_ID,
    TOPIC_ARN,
    deployed_environment,
)


@pytest.mark.parametrize(
    "allowed",
    [
        "*",
        "checkout/prod",
        "*/prod,checkout/*",
        "team.a@x_y-z+w=v/prod?",
        ",".join(f"app{n}/prod" for n in range(10)),
    ],
)
def test_allowed_deployment_groups_pattern_accepts(sam_template: dict[str, Any], allowed: str) -> None:
    pattern = sam_template["Parameters"]["AllowedDeploymentGroups"]["AllowedPattern"]

    assert re.fullmatch(pattern, allowed)


@pytest.mark.parametrize(
    "allowed",
    [
        "",
        "checkout",  # not application/group
        "checkout/prod,",
        "checkout/prod, */staging",  # spaces would end up inside an ARN
        "checkout/[ab]",  # IAM has no character classes
        "checkout/prod/x",
        ",".join(f"app{n}/prod" for n in range(11)),  # the policy holds 10 at most
    ],
)
def test_allowed_deployment_groups_pattern_rejects(sam_template: dict[str, Any], allowed: str) -> None:
    pattern = sam_template["Parameters"]["AllowedDeploymentGroups"]["AllowedPattern"]

    assert not re.fullmatch(pattern, allowed)


def test_parameters_offer_the_values_the_settings_accept(sam_template: dict[str, Any]) -> None:
    parameters = sam_template["Parameters"]

    assert parameters["DefaultAutoRollback"]["AllowedValues"] == ["true", "false", "deployment-group"]
    assert parameters["DefaultAutoRollback"]["Default"] == "true"
    for name in ("DryRun", "EnableTracing"):
        assert parameters[name]["AllowedValues"] == ["true", "false"]
        assert parameters[name]["Default"] == "false"
    assert parameters["AllowedDeploymentGroups"]["Default"] == "*"
    assert parameters["LogLevel"]["Default"] == "INFO"
    assert parameters["AlarmAutoRollback"]["AllowedValues"] == ["true", "false", "deployment-group"]
    assert parameters["AlarmAutoRollback"]["Default"] == "true"
    assert parameters["DiscoverAlarmTargets"]["AllowedValues"] == ["true", "false"]
    assert parameters["DiscoverAlarmTargets"]["Default"] == "false"
    assert parameters["AlarmNamePrefix"]["Default"] == "kill-switch-"
    assert parameters["AlarmTargets"]["Default"] == "{}"
    assert parameters["AlarmTargetsTagKey"]["Default"] == "stop-deployment:targets"
    assert parameters["AlarmTopicArn"]["Default"] == ""
    for name in (
        "SlackSigningSecretParam",
        "SlackAllowedUsers",
        "SlackAllowedChannels",
        "SlackAllowedTeams",
        "SlackExtraResponseHosts",
    ):
        assert parameters[name]["Default"] == ""
    # Slack: a group's stop asks for a click unless told otherwise; a prompt lasts 5 minutes, and at
    # most as long as Slack's response_url (30 minutes).
    assert parameters["SlackConfirm"]["AllowedValues"] == ["group", "always", "never"]
    assert parameters["SlackConfirm"]["Default"] == "group"
    confirm_minutes = parameters["SlackConfirmMinutes"]
    assert (confirm_minutes["Type"], confirm_minutes["Default"]) == ("Number", 5)
    assert (confirm_minutes["MinValue"], confirm_minutes["MaxValue"]) == (
        1,
        settings.MAX_SLACK_CONFIRM_MINUTES,
    )
    assert settings.MAX_SLACK_CONFIRM_MINUTES == 30
    assert parameters["NotifyTopicArn"]["Default"] == ""
    confirm_after = parameters["ConfirmAfterSeconds"]
    assert (confirm_after["Type"], confirm_after["Default"], confirm_after["MinValue"]) == ("Number", 300, 0)
    # A stop older than the ledger keeps its items (14 days) would never be checked.
    assert confirm_after["MaxValue"] == 14 * 24 * 3600
    # Freezes: no calendar unless given; stops roll back like the others; the settings' choices.
    assert parameters["FreezeCalendars"]["Default"] == ""
    assert parameters["FreezeAutoRollback"]["AllowedValues"] == ["true", "false", "deployment-group"]
    assert parameters["FreezeAutoRollback"]["Default"] == "true"
    assert parameters["FreezeExemptMarker"]["Default"] == "[freeze-exempt]"
    assert parameters["FreezeOnError"]["AllowedValues"] == ["allow", "stop"]
    assert parameters["FreezeOnError"]["Default"] == "allow"
    # Alarm freezes are off unless asked for, and always end: 7 days at most.
    freeze_minutes = parameters["AlarmFreezeMinutes"]
    assert (freeze_minutes["Type"], freeze_minutes["Default"], freeze_minutes["MinValue"]) == ("Number", 0, 0)
    assert freeze_minutes["MaxValue"] == 7 * 24 * 60


def test_settings_accept_every_value_the_parameters_allow(cfn_template: dict[str, Any]) -> None:

    def variables(**parameters: str) -> dict[str, str]:
        return deployed_environment(cfn_template, **parameters)

    choices = (
        "DefaultAutoRollback",
        "AlarmAutoRollback",
        "DryRun",
        "EnableTracing",
        "DiscoverAlarmTargets",
        "FreezeAutoRollback",
        "FreezeOnError",
        "SlackConfirm",
    )
    for name in choices:
        for value in cfn_template["Parameters"][name]["AllowedValues"]:
            settings.load(variables(**{name: value}))

    for slack in (
        {"SlackSigningSecretParam": SLACK_PARAMETER},
        {"SlackSigningSecretParam": SLACK_SECRET_ARN},
        {
            "SlackAllowedUsers": "U0123ABCD,W0456EFGH",
            "SlackAllowedChannels": "C0123ABCD",
            "SlackAllowedTeams": "T0123ABCD",
        },
    ):
        settings.load(variables(**slack))
    example = settings.load(variables(AlarmTargets='{"kill-switch-checkout-*":["checkout/prod"]}'))
    assert example.alarm_targets == (("kill-switch-checkout-*", (Target("checkout", "prod"),)),)
    defaults = settings.load(variables())
    assert defaults.alarm_targets == ()
    assert defaults.alarm_targets_tag_key == "stop-deployment:targets"
    assert (defaults.discover_alarm_targets, defaults.alarm_auto_rollback) == (False, True)
    # The ledger and notifications are always on: the stack's own table, and its own topic unless
    # one is given.
    assert defaults.stops_table == PHYSICAL_IDS[TABLE_ID]
    assert defaults.notify_topic_arn == PHYSICAL_IDS[NOTIFY_TOPIC_ID]
    assert defaults.confirm_after_seconds == 300
    assert settings.load(variables(NotifyTopicArn=NOTIFY_TOPIC_ARN)).notify_topic_arn == NOTIFY_TOPIC_ARN
    limits = cfn_template["Parameters"]["ConfirmAfterSeconds"]
    for seconds in (limits["MinValue"], limits["Default"], limits["MaxValue"]):
        assert settings.load(variables(ConfirmAfterSeconds=str(seconds))).confirm_after_seconds == seconds
    # Freezes: the alarm prefix is always passed (alarm freezes are on), calendars only when given.
    assert defaults.alarm_name_prefix == "kill-switch-"
    assert settings.load(variables(AlarmNamePrefix="stop-")).alarm_name_prefix == "stop-"
    assert (defaults.freeze_calendars, defaults.freeze_auto_rollback) == ((), True)
    assert (defaults.freeze_exempt_marker, defaults.freeze_on_error) == ("[freeze-exempt]", "allow")
    assert settings.load(variables(FreezeCalendars="{}")).freeze_calendars == ()
    calendars = settings.load(variables(FreezeCalendars=FREEZE_CALENDARS)).freeze_calendars
    assert calendars == (("*/prod", ("holiday-freeze",)), ("payments/*", ("pci-window", "holiday-freeze")))
    marker = settings.load(variables(FreezeExemptMarker="#hotfix")).freeze_exempt_marker
    assert marker == "#hotfix"
    # deployment-group: the stop leaves the flag out, so the group's own configuration decides.
    group_decides = settings.load(variables(FreezeAutoRollback="deployment-group")).freeze_auto_rollback
    assert group_decides == settings.GROUP_DECIDES
    # Alarm freezes: off by default; the settings take the parameter's whole range and refuse
    # beyond it, so the two bounds cannot drift apart.
    assert defaults.alarm_freeze_minutes == 0
    limits = cfn_template["Parameters"]["AlarmFreezeMinutes"]
    for minutes in (limits["MinValue"], limits["Default"], 60, limits["MaxValue"]):
        assert settings.load(variables(AlarmFreezeMinutes=str(minutes))).alarm_freeze_minutes == minutes
    with pytest.raises(ConfigurationError, match="ALARM_FREEZE_MINUTES"):
        settings.load(variables(AlarmFreezeMinutes=str(limits["MaxValue"] + 1)))
    # Slack: confirm a group's stop for 5 minutes, post replies to Slack alone; the settings take
    # every choice and the whole range of minutes.
    assert (defaults.slack_confirm, defaults.slack_confirm_minutes) == ("group", 5)
    assert defaults.slack_extra_response_hosts == frozenset()
    for choice in ("group", "always", "never"):
        assert settings.load(variables(SlackConfirm=choice)).slack_confirm == choice
    limits = cfn_template["Parameters"]["SlackConfirmMinutes"]
    for minutes in (limits["MinValue"], limits["Default"], limits["MaxValue"]):
        assert settings.load(variables(SlackConfirmMinutes=str(minutes))).slack_confirm_minutes == minutes
    hosts = settings.load(variables(SlackExtraResponseHosts="127.0.0.1:3001,localhost:8080"))
    assert hosts.slack_extra_response_hosts == {"127.0.0.1:3001", "localhost:8080"}
    # Lambda names the function itself (AWS_LAMBDA_FUNCTION_NAME); the template does not.
    assert defaults.function_name is None


def test_follow_up_reserved_concurrency_is_a_parameter_of_its_own_defaulting_to_2(
    sam_template: dict[str, Any],
) -> None:
    # Separate from ReservedConcurrency (the stops'), and never 0: a function with no concurrency
    # would throttle every follow-up.
    parameters = sam_template["Parameters"]
    follow_ups = parameters["FollowUpReservedConcurrency"]

    assert (follow_ups["Type"], follow_ups["Default"], follow_ups["MinValue"]) == ("Number", 2, 1)
    assert follow_ups["MinValue"] <= follow_ups["Default"] <= follow_ups["MaxValue"] <= 100
    assert follow_ups["Default"] < parameters["ReservedConcurrency"]["Default"]
    assert "ReservedConcurrency" in follow_ups["Description"]  # it says why it is separate


@pytest.mark.parametrize("prefix", ["kill-switch-", "k", "team.a@x_y+z=w/prod:", "x" * 100])
def test_alarm_name_prefix_pattern_accepts(sam_template: dict[str, Any], prefix: str) -> None:
    pattern = sam_template["Parameters"]["AlarmNamePrefix"]["AllowedPattern"]

    assert re.fullmatch(pattern, prefix)


@pytest.mark.parametrize(
    "prefix",
    [
        "",  # would route every alarm and let every alarm invoke the function
        "kill-*",  # a wildcard in the SourceArn / IAM resource
        "kill?",
        "kill switch",
        'kill"',
        "x" * 101,
    ],
)
def test_alarm_name_prefix_pattern_rejects(sam_template: dict[str, Any], prefix: str) -> None:
    pattern = sam_template["Parameters"]["AlarmNamePrefix"]["AllowedPattern"]

    assert not re.fullmatch(pattern, prefix)


@pytest.mark.parametrize(
    ("topic_arn", "accepted"),
    [
        ("", True),
        (TOPIC_ARN, True),
        ("arn:aws-us-gov:sns:us-gov-west-1:111122223333:alarms_2", True),
        ("arn:aws:sns:eu-west-1:111122223333:kill-switch.fifo", False),  # FIFO cannot invoke Lambda
        ("arn:aws:sqs:eu-west-1:111122223333:kill-switch", False),
        ("kill-switch", False),
    ],
)
def test_alarm_topic_arn_pattern(sam_template: dict[str, Any], topic_arn: str, accepted: bool) -> None:
    pattern = sam_template["Parameters"]["AlarmTopicArn"]["AllowedPattern"]

    assert bool(re.fullmatch(pattern, topic_arn)) is accepted


@pytest.mark.parametrize(
    ("topic_arn", "accepted"),
    [
        ("", True),  # the stack creates its own topic
        (NOTIFY_TOPIC_ARN, True),
        ("arn:aws-cn:sns:cn-north-1:111122223333:stop_notices-2", True),
        ("arn:aws:sns:eu-west-1:111122223333:notices.fifo", False),  # published without a group ID
        ("arn:aws:sns:eu-west-1:111122223333:*", False),  # the IAM resource must be one topic
        ("arn:aws:sns:eu-west-1:1111:notices", False),
        ("arn:aws:sqs:eu-west-1:111122223333:notices", False),
        ("notices", False),
        (" " + NOTIFY_TOPIC_ARN, False),
    ],
)
def test_notify_topic_arn_pattern(sam_template: dict[str, Any], topic_arn: str, accepted: bool) -> None:
    pattern = sam_template["Parameters"]["NotifyTopicArn"]["AllowedPattern"]

    assert bool(re.fullmatch(pattern, topic_arn)) is accepted


@pytest.mark.parametrize(
    ("targets", "accepted"),
    [
        ("{}", True),
        ('{"kill-switch-checkout-*":["checkout/prod"]}', True),
        ('{"a": ["b/c"], "d": ["e/f", "g/h"]}', True),
        ("{", False),  # what SAM CLI makes of an unquoted JSON override
        ('["checkout/prod"]', False),
        ("", False),
    ],
)
def test_alarm_targets_pattern(sam_template: dict[str, Any], targets: str, accepted: bool) -> None:
    pattern = sam_template["Parameters"]["AlarmTargets"]["AllowedPattern"]

    assert bool(re.fullmatch(pattern, targets)) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        (SLACK_PARAMETER, True),
        ("/slack", True),
        ("/a/b.c_d-e/F9", True),
        (SLACK_SECRET_ARN, True),
        ("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:slack-signing-AbC123", True),
        ("slack-signing-secret", False),  # a name without / would need another slash in the ARN
        ("/stop-deployment/", False),
        ("//slack", False),
        ("/slack signing", False),
        ("/slack*", False),  # a wildcard in the IAM resource
        ("{{resolve:ssm:/slack}}", False),
        ("arn:aws:ssm:eu-west-1:123456789012:parameter/slack", False),  # give the name instead
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack", False),  # no suffix: IAM misses it
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-*", False),
        ("arn:aws:secretsmanager:eu-west-1:1234:secret:slack-AbCdEf", False),
        ("arn:aws:kms:eu-west-1:123456789012:key/slack-AbCdEf", False),
    ],
)
def test_slack_signing_secret_param_pattern(sam_template: dict[str, Any], value: str, accepted: bool) -> None:
    pattern = sam_template["Parameters"]["SlackSigningSecretParam"]["AllowedPattern"]

    assert bool(re.fullmatch(pattern, value)) is accepted


@pytest.mark.parametrize("name", ["SlackAllowedUsers", "SlackAllowedChannels", "SlackAllowedTeams"])
@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("U0123ABCD", True),
        ("U0123ABCD,U0456EFGH", True),
        ("C0123ABCD,G0456EFGH,T0789IJKL,W0123ABCDEF", True),
        ("U0123ABCD, U0456EFGH", False),  # no spaces
        ("U0123ABCD,", False),
        (",U0123ABCD", False),
        ("U0123ABCD,,U0456EFGH", False),
        ("u0123abcd", False),  # Slack IDs are upper case
        ("@jdoe", False),  # a name, not an ID
        ("#general", False),
        ("*", False),
    ],
)
def test_slack_allowed_ids_patterns(
    sam_template: dict[str, Any], name: str, value: str, accepted: bool
) -> None:
    pattern = sam_template["Parameters"][name]["AllowedPattern"]

    assert bool(re.fullmatch(pattern, value)) is accepted


@pytest.mark.parametrize(
    ("calendars", "accepted"),
    [
        ("", True),  # no calendar freezes anything
        ("{}", True),
        (FREEZE_CALENDARS, True),
        ('{"*/prod": ["holiday-freeze"]}', True),
        ("{", False),  # what SAM CLI makes of an unquoted JSON override
        ('["holiday-freeze"]', False),
        ("holiday-freeze", False),
        ("{" + '"a/b":["c"],' * 100 + "}", False),  # over MaxLength: Lambda's 4 KB of variables
    ],
)
def test_freeze_calendars_pattern(sam_template: dict[str, Any], calendars: str, accepted: bool) -> None:
    parameter = sam_template["Parameters"]["FreezeCalendars"]

    fits = len(calendars) <= parameter["MaxLength"]
    assert bool(fits and re.fullmatch(parameter["AllowedPattern"], calendars)) is accepted
    # The two share the 4 KB Lambda allows for all of a function's variables.
    assert parameter["MaxLength"] + sam_template["Parameters"]["AlarmTargets"]["MaxLength"] <= 3072


@pytest.mark.parametrize(
    ("marker", "accepted"),
    [
        ("[freeze-exempt]", True),
        ("#hotfix", True),
        ("x", True),
        ("freeze exempt", True),
        ("x" * 100, True),
        ("", False),  # the function would fall back to the default without saying
        (" [freeze-exempt]", False),  # the function strips spaces: it would look for another text
        ("[freeze-exempt] ", False),
        ("x" * 101, False),  # longer than a CodeDeploy description
    ],
)
def test_freeze_exempt_marker_pattern(sam_template: dict[str, Any], marker: str, accepted: bool) -> None:
    parameter = sam_template["Parameters"]["FreezeExemptMarker"]

    fits = parameter["MinLength"] <= len(marker) <= parameter["MaxLength"]
    assert bool(fits and re.fullmatch(parameter["AllowedPattern"], marker)) is accepted


@pytest.mark.parametrize(
    ("hosts", "accepted"),
    [
        ("", True),  # production: replies go to Slack alone
        ("127.0.0.1:3001", True),
        ("localhost:8080,127.0.0.1:3001", True),
        ("slack-fake.example.com:443", True),
        ("127.0.0.1", False),  # host:port, always
        ("127.0.0.1:3001, localhost:8080", False),  # no spaces
        ("127.0.0.1:3001,", False),
        ("http://127.0.0.1:3001", False),  # hosts, not URLs
        ("*:443", False),
        ("127.0.0.1:123456", False),
        ("a" * 250 + ".example:1", False),  # over MaxLength: Lambda's 4 KB of variables
    ],
)
def test_slack_extra_response_hosts_pattern_accepts_what_the_settings_take(
    sam_template: dict[str, Any], cfn_template: dict[str, Any], hosts: str, accepted: bool
) -> None:
    parameter = sam_template["Parameters"]["SlackExtraResponseHosts"]

    fits = len(hosts) <= parameter["MaxLength"]
    assert bool(fits and re.fullmatch(parameter["AllowedPattern"], hosts)) is accepted
    if accepted:  # whatever CloudFormation lets through, the function starts with
        loaded = settings.load(deployed_environment(cfn_template, SlackExtraResponseHosts=hosts))
        assert loaded.slack_extra_response_hosts == {h.lower() for h in hosts.split(",") if h}
    description = " ".join(parameter["Description"].split())
    assert "production" in description
    assert "127.0.0.1 and localhost" in description
