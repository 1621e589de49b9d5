"""The local SSM Change Calendar and CloudWatch alarm filters (local/fake_aws/), through real boto3
clients: in-process under mock_aws() and through the threaded server."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from local import fake_aws, world
from local.fake_aws import ssm as fake_ssm

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
ARN = "arn:aws:ssm:us-east-1:123456789012:document/{}"


@pytest.fixture(autouse=True)
def local_aws() -> Iterator[None]:
    """What a mock_aws() fixture calls for these stand-ins: install() before, reset() inside."""
    fake_aws.install()
    with mock_aws():
        fake_aws.reset()
        yield
        fake_aws.reset()


@pytest.fixture
def ssm() -> Any:
    return boto3.client("ssm", config=NO_RETRIES)


@pytest.fixture
def cloudwatch() -> Any:
    return boto3.client("cloudwatch")


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# --- SSM GetCalendarState --------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["OPEN", "CLOSED"])
def test_a_calendar_answers_the_state_it_was_set_to(ssm: Any, state: fake_ssm.CalendarState) -> None:
    fake_ssm.set_calendar_state("prod-freeze", state)

    answer = ssm.get_calendar_state(CalendarNames=["prod-freeze"])

    assert answer["State"] == state
    assert answer["AtTime"].endswith("Z")
    assert "NextTransitionTime" not in answer  # nothing is scheduled


def test_a_calendar_set_again_answers_its_new_state_by_name_or_arn(ssm: Any) -> None:
    fake_ssm.set_calendar_state("prod-freeze", "CLOSED")
    fake_ssm.set_calendar_state("prod-freeze", "OPEN")

    answer = ssm.get_calendar_state(CalendarNames=[ARN.format("prod-freeze")], AtTime="2030-01-01T00:00:00Z")

    assert (answer["State"], answer["AtTime"]) == ("OPEN", "2030-01-01T00:00:00Z")


@pytest.mark.parametrize(
    ("states", "expected"),
    [(("OPEN", "OPEN"), "OPEN"), (("OPEN", "CLOSED"), "CLOSED"), (("CLOSED", "CLOSED"), "CLOSED")],
)
def test_several_calendars_are_open_only_if_all_are(
    ssm: Any, states: tuple[fake_ssm.CalendarState, ...], expected: str
) -> None:
    names = [f"calendar-{n}" for n in range(len(states))]
    for name, state in zip(names, states, strict=True):
        fake_ssm.set_calendar_state(name, state)

    assert ssm.get_calendar_state(CalendarNames=names)["State"] == expected


@pytest.mark.parametrize("names", [["never-defined"], ["prod-freeze", "never-defined"]])
def test_an_unknown_calendar_is_an_invalid_document(ssm: Any, names: list[str]) -> None:
    fake_ssm.set_calendar_state("prod-freeze", "OPEN")

    with pytest.raises(ClientError) as exc:
        ssm.get_calendar_state(CalendarNames=names)

    assert error_code(exc) == "InvalidDocument"


def test_calendars_belong_to_their_region(ssm: Any) -> None:
    fake_ssm.set_calendar_state("prod-freeze", "CLOSED", region="eu-west-1")

    with pytest.raises(ClientError):
        ssm.get_calendar_state(CalendarNames=["prod-freeze"])
    eu = boto3.client("ssm", region_name="eu-west-1")
    assert eu.get_calendar_state(CalendarNames=["prod-freeze"])["State"] == "CLOSED"


def test_injected_throttling_fails_the_call_then_clears(ssm: Any) -> None:
    fake_ssm.set_calendar_state("prod-freeze", "CLOSED")
    fake_ssm.inject_error("GetCalendarState", "ThrottlingException")

    with pytest.raises(ClientError) as exc:
        ssm.get_calendar_state(CalendarNames=["prod-freeze"])

    assert error_code(exc) == "ThrottlingException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert ssm.get_calendar_state(CalendarNames=["prod-freeze"])["State"] == "CLOSED"
    assert fake_ssm.calls() == [
        fake_ssm.Call("GetCalendarState", {"CalendarNames": ["prod-freeze"]}),
        fake_ssm.Call("GetCalendarState", {"CalendarNames": ["prod-freeze"]}),
    ]


def test_a_fault_until_reset_touches_only_its_operation(ssm: Any) -> None:
    fake_ssm.set_calendar_state("prod-freeze", "OPEN")
    fake_ssm.inject_error("GetCalendarState", "InternalServerError", http_status=500, times=-1)
    retrying = boto3.client("ssm", config=Config(retries={"mode": "standard", "total_max_attempts": 3}))

    with pytest.raises(ClientError) as exc:
        retrying.get_calendar_state(CalendarNames=["prod-freeze"])

    assert error_code(exc) == "InternalServerError"
    assert len(fake_ssm.calls()) == 3
    ssm.put_parameter(Name="/p", Value="v", Type="String")
    fake_aws.reset()
    assert fake_ssm.calls() == []
    assert ssm.get_calendar_state(CalendarNames=["prod-freeze"])["State"] == "OPEN"


def test_calendar_states_are_checked() -> None:
    with pytest.raises(ValueError, match="OPEN or CLOSED"):
        fake_ssm.set_calendar_state("prod-freeze", "open")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        fake_ssm.inject_error("GetCalendarState", "ThrottlingException", times=0)


def test_install_is_idempotent(ssm: Any) -> None:
    fake_aws.install()
    fake_ssm.set_calendar_state("prod-freeze", "CLOSED")

    assert ssm.get_calendar_state(CalendarNames=["prod-freeze"])["State"] == "CLOSED"
    assert len(fake_ssm.calls()) == 1  # recorded once: call_action was not wrapped twice


# --- CloudWatch DescribeAlarms ---------------------------------------------------------------------------


def put_alarm(cloudwatch: Any, name: str, state: str) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="Local",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def names(answer: Mapping[str, Any]) -> list[str]:
    return sorted(a["AlarmName"] for a in [*answer["MetricAlarms"], *answer["CompositeAlarms"]])


def firing(cloudwatch: Any, prefix: str) -> Any:
    """The freeze check's one call: every alarm type, in ALARM, under a name prefix."""
    return cloudwatch.describe_alarms(
        AlarmNamePrefix=prefix, StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )


def test_the_world_alarm_state_is_set_through_set_alarm_state(cloudwatch: Any) -> None:
    world.seed_alarm()

    world.set_alarm_state("ALARM")

    [alarm] = cloudwatch.describe_alarms(AlarmNames=[world.ALARM])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    world.set_alarm_state("OK")
    assert cloudwatch.describe_alarms(AlarmNames=[world.ALARM])["MetricAlarms"][0]["StateValue"] == "OK"


def test_name_prefix_and_state_are_both_applied(cloudwatch: Any) -> None:
    world.seed_alarm()
    world.set_alarm_state("ALARM")
    put_alarm(cloudwatch, "kill-switch-payments-5xx", "OK")
    put_alarm(cloudwatch, "kill-switch-search-latency", "INSUFFICIENT_DATA")
    put_alarm(cloudwatch, "unrelated-alarm", "ALARM")

    answer = firing(cloudwatch, "kill-switch-")

    assert names(answer) == [world.ALARM]
    assert names(cloudwatch.describe_alarms(AlarmNamePrefix="kill-switch-", StateValue="OK")) == [
        "kill-switch-payments-5xx"
    ]
    assert len(names(cloudwatch.describe_alarms(AlarmNamePrefix="kill-switch-"))) == 3


def test_names_and_action_prefix_combine_with_the_state(cloudwatch: Any) -> None:
    put_alarm(cloudwatch, "a-firing", "ALARM")
    put_alarm(cloudwatch, "a-quiet", "OK")
    cloudwatch.put_metric_alarm(
        AlarmName="a-paging",
        MetricName="Errors",
        Namespace="Local",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=["arn:aws:sns:us-east-1:123456789012:pager"],
    )

    by_names = cloudwatch.describe_alarms(AlarmNames=["a-firing", "a-quiet"], StateValue="ALARM")
    by_action = cloudwatch.describe_alarms(
        ActionPrefix="arn:aws:sns:us-east-1:123456789012:pa", StateValue="OK"
    )

    assert names(by_names) == ["a-firing"]
    assert names(by_action) == ["a-paging"]


def test_composite_alarms_only_when_asked_for_as_real_cloudwatch(cloudwatch: Any) -> None:
    put_alarm(cloudwatch, "kill-switch-child", "ALARM")
    cloudwatch.put_composite_alarm(AlarmName="kill-switch-any", AlarmRule='ALARM("kill-switch-child")')
    cloudwatch.set_alarm_state(AlarmName="kill-switch-any", StateValue="ALARM", StateReason="test")

    default = cloudwatch.describe_alarms(AlarmNamePrefix="kill-switch-", StateValue="ALARM")
    both = firing(cloudwatch, "kill-switch-")

    assert (names(default), default["CompositeAlarms"]) == (["kill-switch-child"], [])
    assert names(both) == ["kill-switch-any", "kill-switch-child"]
    assert [a["AlarmName"] for a in both["CompositeAlarms"]] == ["kill-switch-any"]


# --- through the threaded server -------------------------------------------------------------------------


def test_through_a_real_server_calendars_faults_and_alarm_filters(local_server: str) -> None:
    ssm = boto3.client("ssm", endpoint_url=local_server, config=NO_RETRIES)
    cloudwatch = boto3.client("cloudwatch", endpoint_url=local_server)
    fake_ssm.set_calendar_state("prod-freeze", "CLOSED")
    fake_ssm.inject_error("GetCalendarState", "ThrottlingException")
    put_alarm(cloudwatch, "kill-switch-firing", "ALARM")
    put_alarm(cloudwatch, "kill-switch-quiet", "OK")

    with pytest.raises(ClientError) as exc:
        ssm.get_calendar_state(CalendarNames=["prod-freeze"])
    state = ssm.get_calendar_state(CalendarNames=["prod-freeze"])["State"]
    alarms = firing(cloudwatch, "kill-switch-")

    assert error_code(exc) == "ThrottlingException"
    assert state == "CLOSED"
    assert names(alarms) == ["kill-switch-firing"]
    with pytest.raises(ClientError) as unknown:
        ssm.get_calendar_state(CalendarNames=["never-defined"])
    assert error_code(unknown) == "InvalidDocument"
