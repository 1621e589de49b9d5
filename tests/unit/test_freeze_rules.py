"""The freeze rules underneath: the Slack grammar of `freeze`, `unfreeze` and `freezes`; the HTTP body
of a freeze (parse_freeze_request), which must agree with its pydantic model; the freeze target."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from stop_deployment.errors import InvalidRequest
from stop_deployment.models import FreezeRequest
from stop_deployment.settings import MAX_FREEZE_MINUTES
from stop_deployment.triggers.slack.command import FreezeGroup, Help, ListFreezes, Unfreeze, parse
from stop_deployment.validation import parse_freeze_request, parse_freeze_target

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


# The Slack grammar


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("freeze checkout/prod 2h Black Friday", FreezeGroup("checkout/prod", 120, "Black Friday")),
        ("freeze checkout/prod 30m launch", FreezeGroup("checkout/prod", 30, "launch")),
        ("freeze checkout/prod 1d launch", FreezeGroup("checkout/prod", 1440, "launch")),
        ("freeze checkout/prod 1d2h30m launch", FreezeGroup("checkout/prod", 1590, "launch")),
        ("freeze checkout/prod 2h30m launch", FreezeGroup("checkout/prod", 150, "launch")),
        ("freeze checkout/prod 1d30m launch", FreezeGroup("checkout/prod", 1470, "launch")),
        ("freeze checkout/prod 1m launch", FreezeGroup("checkout/prod", 1, "launch")),
        ("freeze checkout/prod 7d launch", FreezeGroup("checkout/prod", MAX_FREEZE_MINUTES, "launch")),
        ("freeze checkout/prod 168h launch", FreezeGroup("checkout/prod", MAX_FREEZE_MINUTES, "launch")),
        ("freeze checkout/prod 6d24h launch", FreezeGroup("checkout/prod", MAX_FREEZE_MINUTES, "launch")),
        ("freeze checkout/prod 10080m launch", FreezeGroup("checkout/prod", MAX_FREEZE_MINUTES, "launch")),
        ("freeze checkout/prod 2H launch", FreezeGroup("checkout/prod", 120, "launch")),
        ("freeze */prod 30m launch", FreezeGroup("*/prod", 30, "launch")),
        ("freeze pay*/* 30m launch", FreezeGroup("pay*/*", 30, "launch")),
        ("freeze checkout/prod 2h x", FreezeGroup("checkout/prod", 120, "x")),
        ("FREEZE Checkout/Prod 2h Black FRIDAY", FreezeGroup("Checkout/Prod", 120, "Black FRIDAY")),
        ("  Freeze   checkout/prod   2h   launch  ", FreezeGroup("checkout/prod", 120, "launch")),
        ("unfreeze checkout/prod", Unfreeze("checkout/prod")),
        ("UnFreeze */prod", Unfreeze("*/prod")),
        ("freezes", ListFreezes()),
        ("  FREEZES ", ListFreezes()),
    ],
)
def test_freeze_commands_are_understood(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "reason",
    [
        "Black Friday  --  do   not deploy",
        "--no-rollback",
        "stop d-LGUMS25CC --force",
        "INC-42: payments <-> checkout & 5xx",
        "x" * 200,
    ],
)
def test_the_reason_is_kept_as_typed_options_and_inner_spaces_included(reason: str) -> None:
    assert parse(f"freeze checkout/prod 2h {reason}") == FreezeGroup("checkout/prod", 120, reason)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("freeze", "Say which group"),
        ("freeze checkout/prod", "Say for how long and why"),
        ("freeze checkout/prod 2h", "Say for how long and why"),
        ("freeze checkout/prod 2h   ", "Say for how long and why"),
        ("freeze checkout/prod 0m launch", "`0m` is not a duration from 1m to 7d"),
        ("freeze checkout/prod 0d0h0m launch", "`0d0h0m` is not a duration"),
        ("freeze checkout/prod 8d launch", "`8d` is not a duration"),
        ("freeze checkout/prod 7d1m launch", "`7d1m` is not a duration"),
        ("freeze checkout/prod 10081m launch", "`10081m` is not a duration"),
        ("freeze checkout/prod 169h launch", "`169h` is not a duration"),
        ("freeze checkout/prod abc launch", "`abc` is not a duration"),
        ("freeze checkout/prod 2 launch", "`2` is not a duration"),
        ("freeze checkout/prod 30m2h launch", "`30m2h` is not a duration"),  # largest unit first
        ("freeze checkout/prod 1.5h launch", "`1.5h` is not a duration"),
        ("freeze checkout/prod -1h launch", "`-1h` is not a duration"),
        ("freeze checkout/prod 1w launch", "`1w` is not a duration"),
        ("freeze checkout/prod 99999999999999m launch", "is not a duration"),
        ("freeze checkout/prod 2h " + "x" * 201, "The reason is over 200 characters"),
        ("freeze checkout 2h launch", "`checkout` is not application/group"),
        ("freeze check out/prod 2h launch", "`check` is not application/group"),
        ("freeze a/b/c 2h launch", "`a/b/c` is not application/group"),
        ("freeze /prod 2h launch", "`/prod` is not application/group"),
        ("freeze checkout/ 2h launch", "`checkout/` is not application/group"),
        ("freeze check?ut/prod 2h launch", "is not application/group"),
        ("unfreeze", "Say which group"),
        ("unfreeze checkout", "`checkout` is not application/group"),
        ("unfreeze checkout/prod 2h", "`unfreeze` takes only application/group"),
        ("freezes checkout/prod", "`freezes` takes nothing after it"),
    ],
)
def test_freeze_commands_not_understood_say_why(text: str, problem: str) -> None:
    command = parse(text)

    assert isinstance(command, Help)
    assert problem in (command.problem or "")


@pytest.mark.parametrize(
    "text", ["freeze <!here>/prod 2h launch", "freeze checkout/prod <!here> launch", "unfreeze <!here>"]
)
def test_what_was_not_understood_is_escaped_in_the_problem(text: str) -> None:
    command = parse(text)

    assert isinstance(command, Help)
    assert "&lt;!here&gt;" in (command.problem or "")
    assert "<!here>" not in (command.problem or "")


@given(
    days=st.integers(min_value=0, max_value=9),
    hours=st.integers(min_value=0, max_value=200),
    minutes=st.integers(min_value=0, max_value=11000),
    parts=st.sets(st.sampled_from("dhm"), min_size=1),
)
def test_a_duration_is_its_days_hours_and_minutes_between_one_minute_and_seven_days(
    days: int, hours: int, minutes: int, parts: set[str]
) -> None:
    written = "".join(
        f"{value}{unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if unit in parts
    )
    total = sum(
        value * size
        for value, unit, size in ((days, "d", 1440), (hours, "h", 60), (minutes, "m", 1))
        if unit in parts
    )

    command = parse(f"freeze checkout/prod {written} launch")

    if 1 <= total <= MAX_FREEZE_MINUTES:
        assert command == FreezeGroup("checkout/prod", total, "launch")
    else:
        assert isinstance(command, Help)
        assert f"`{written}` is not a duration" in (command.problem or "")


# The HTTP body of a freeze


def refusal(payload: object) -> str:
    with pytest.raises(InvalidRequest) as refused:
        parse_freeze_request(payload, NOW)
    return str(refused.value)


@pytest.mark.parametrize(
    ("minutes", "end"),
    [(1, NOW + timedelta(minutes=1)), (120, NOW + timedelta(hours=2)), (MAX_FREEZE_MINUTES, NOW + WEEK)],
)
def test_minutes_from_one_to_a_week_end_the_freeze_that_long_after_now(minutes: int, end: datetime) -> None:
    assert parse_freeze_request({"minutes": minutes, "reason": "launch"}, NOW) == (end, "launch")


@pytest.mark.parametrize(
    "minutes", [0, -1, MAX_FREEZE_MINUTES + 1, 10**9, True, False, "120", "2h", 1.5, [120], {}]
)
def test_minutes_out_of_bounds_or_not_a_whole_number_are_refused_naming_minutes(minutes: object) -> None:
    assert refusal({"minutes": minutes, "reason": "launch"}).startswith(
        "minutes must be a whole number from 1 to 10080"
    )


@pytest.mark.parametrize(
    ("until", "end"),
    [
        ("2026-03-01T12:00:01Z", NOW + timedelta(seconds=1)),
        ("2026-03-08T12:00:00Z", NOW + WEEK),  # exactly seven days ahead
        ("2026-03-08T14:00:00+02:00", NOW + WEEK),  # the same, in another zone
        ("2026-03-02T14:00:00+02:00", datetime(2026, 3, 2, 12, 0, tzinfo=UTC)),  # converted to UTC
        ("2026-03-01T08:30-05:00", datetime(2026, 3, 1, 13, 30, tzinfo=UTC)),
        ("2026-03-02T12:00:00.250Z", datetime(2026, 3, 2, 12, 0, 0, 250000, tzinfo=UTC)),
        ("2026-03-02T12:00Z", datetime(2026, 3, 2, 12, 0, tzinfo=UTC)),
    ],
)
def test_until_in_the_coming_week_ends_the_freeze_then_in_utc(until: str, end: datetime) -> None:
    found, reason = parse_freeze_request({"until": until, "reason": "launch"}, NOW)

    assert found == end
    assert found.utcoffset() == timedelta(0)
    assert reason == "launch"


@pytest.mark.parametrize(
    "until",
    [
        "2026-03-01T11:59:59Z",  # in the past
        "2026-03-01T12:00:00Z",  # now
        "2026-03-01T14:00:00+02:00",  # now, in another zone
        "2026-03-08T12:00:01Z",  # a second beyond the week
        "2026-03-08T14:00:01+02:00",  # a second beyond the week, in another zone
        "2027-03-02T12:00:00Z",
        "2026-03-02T12:00:00",  # no time zone
        "2026-03-02 12:00:00Z",
        "2026-13-02T12:00:00Z",  # month 13: the pattern's shape, but no date
        "2026-02-30T12:00:00Z",
        "2026-03-02T25:00:00Z",
        "2026-03-02T12:00:00Z\n",
        "tomorrow",
        "",
        1772539200,
        True,
    ],
)
def test_until_not_in_the_coming_week_or_without_a_time_zone_is_refused_naming_until(until: object) -> None:
    assert refusal({"until": until, "reason": "launch"}).startswith("until must be a time with its time zone")


@pytest.mark.parametrize(
    "payload",
    [
        {"reason": "launch"},
        {"minutes": None, "until": None, "reason": "launch"},
        {"minutes": 120, "until": "2026-03-02T12:00:00Z", "reason": "launch"},
    ],
)
def test_exactly_one_of_minutes_and_until_says_when_it_ends(payload: dict[str, Any]) -> None:
    problem = refusal(payload)

    assert "minutes" in problem
    assert "until" in problem


@pytest.mark.parametrize("reason", ["", "   ", "\t\n", "x" * 201, None, 42, ["launch"]])
def test_a_reason_blank_too_long_or_not_text_is_refused_naming_reason(reason: object) -> None:
    assert refusal({"minutes": 120, "reason": reason}) == (
        "reason must be text of 1 to 200 characters: why the group is frozen"
    )


def test_a_missing_reason_is_named() -> None:
    assert refusal({"minutes": 120}) == "reason is required"


@pytest.mark.parametrize("reason", ["x", "x" * 200, "Black Friday -- no deploys"])
def test_a_reason_of_one_to_200_characters_is_kept(reason: str) -> None:
    assert parse_freeze_request({"minutes": 120, "reason": reason}, NOW)[1] == reason


def test_an_unknown_field_is_named_with_the_fields_there_are() -> None:
    problem = refusal({"minutes": 120, "reason": "launch", "by": "me"})

    assert problem.startswith("unknown field 'by'")
    for field in ("minutes", "until", "reason"):
        assert field in problem


@pytest.mark.parametrize("payload", [None, [], "launch", 120, [{"minutes": 120, "reason": "launch"}]])
def test_a_body_that_is_not_an_object_is_refused_with_an_example(payload: object) -> None:
    assert refusal(payload).startswith('the request body must be a JSON object like {"minutes": 120')


# The validator and its pydantic model


def _beyond_the_schema(parsed: FreezeRequest) -> tuple[datetime, str] | None:
    """The rules JSON Schema cannot say, applied to what the model accepted: exactly one of minutes and
    until; until a real time in the coming week. None when they refuse it."""
    if (parsed.minutes is None) == (parsed.until is None):
        return None
    if parsed.minutes is not None:
        return NOW + timedelta(minutes=parsed.minutes), parsed.reason.strip()
    try:
        end = datetime.fromisoformat(str(parsed.until))
    except ValueError:
        return None
    return (end.astimezone(UTC), parsed.reason.strip()) if NOW < end <= NOW + WEEK else None


def _both(payload: Any) -> tuple[Any, Any]:
    try:
        expected: Any = _beyond_the_schema(FreezeRequest.model_validate(payload)) or InvalidRequest
    except ValidationError:
        expected = InvalidRequest
    try:
        actual: Any = parse_freeze_request(payload, NOW)
    except InvalidRequest:
        actual = InvalidRequest
    return expected, actual


_MINUTES: list[Any] = [120, 1, MAX_FREEZE_MINUTES, 0, MAX_FREEZE_MINUTES + 1, -5, True, "120", 1.5, None]
_UNTILS: list[Any] = [
    "2026-03-02T12:00:00Z",
    "2026-03-02T12:00:00+05:30",
    "2026-03-02T12:00Z",
    "2026-03-02T12:00:00.123456Z",
    "2026-03-02T12:00:00.1234567Z",
    "2026-03-02T12:00:00",
    "2026-03-02",
    "2026-03-02T12:00:00z",
    "2026-03-02T12:00:00+0200",
    "2026-13-02T12:00:00Z",  # the schema admits it; the validator knows there is no month 13
    "2026-03-01T11:00:00Z",
    "2026-03-09T12:00:00Z",
    "2026-03-02T12:00:00Z\n",
    20260302,
]
_REASONS: list[Any] = ["x", "x" * 200, "", " ", "\u00a0", " launch ", "x" * 201, None, 7]
PAYLOADS: list[Any] = [
    *({"minutes": minutes, "reason": "launch"} for minutes in _MINUTES),
    *({"until": until, "reason": "launch"} for until in _UNTILS),
    *({"minutes": 120, "reason": reason} for reason in _REASONS),
    {"minutes": 120, "until": None, "reason": "launch"},
    {"minutes": 120, "until": "2026-03-02T12:00:00Z", "reason": "launch"},
    {"minutes": None, "until": None, "reason": "launch"},
    {"minutes": 120},
    {"minutes": 120, "reason": "launch", "extra": 1},
    {"minutes": 120, "reason": "launch", "Reason": "launch"},
    {},
]
# Found by writing these tests, where the two engines once disagreed.
DISAGREEMENTS: list[Any] = [{"minutes": 120.0, "reason": "launch"}, {"minutes": 120, "reason": "\x1c"}]


@pytest.mark.parametrize("payload", [*PAYLOADS, *DISAGREEMENTS])
def test_the_validator_and_the_freeze_request_model_agree(payload: Any) -> None:
    expected, actual = _both(payload)

    assert actual == expected


_ISO_TIMES = st.datetimes(
    min_value=datetime(2026, 2, 20), max_value=datetime(2026, 3, 12), timezones=st.sampled_from([UTC, None])
).map(lambda moment: moment.isoformat().replace("+00:00", "Z"))
_OFFSETS = st.from_regex(r"\A20\d\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d(:[0-5]\d)?([Zz]|[+-][01]\d:?[0-5]\d)?\Z")


@given(
    payload=st.fixed_dictionaries(
        {},
        optional={
            "minutes": st.none()
            | st.integers(min_value=-2, max_value=MAX_FREEZE_MINUTES + 2)
            | st.booleans()
            | st.floats(allow_nan=False)
            | st.text(max_size=5),
            "until": st.none() | _ISO_TIMES | _OFFSETS | st.text(max_size=30) | st.integers(),
            "reason": st.text(max_size=205) | st.none() | st.integers(),
            "extra": st.just(1),
        },
    )
)
@example(payload={"until": "2026-03-08T12:00:00Z", "reason": "launch"})
@example(payload={"until": "2026-03-01T12:00:00Z", "reason": "launch"})
def test_for_any_body_the_validator_and_the_freeze_request_model_agree(payload: dict[str, Any]) -> None:

    expected, actual = _both(payload)

    assert actual == expected


# The freeze target


@pytest.mark.parametrize(
    ("application", "group"),
    [
        ("checkout", "prod"),
        ("Checkout-App_2", "prod.eu-west-1"),
        ("a+b=c,d.e@f_g-h", "x"),
        ("*", "prod"),
        ("checkout", "*"),
        ("pay*", "*-prod"),
        ("*", "*"),
        ("a" * 100, "b" * 100),
    ],
)
def test_freeze_targets_are_codedeploy_names_or_globs_with_a_star(application: str, group: str) -> None:
    assert parse_freeze_target(application, group) == f"{application}/{group}"


@pytest.mark.parametrize(
    ("application", "group", "named"),
    [
        ("", "prod", "application"),
        ("checkout", "", "group"),
        ("check out", "prod", "application"),
        ("checkout", "pr od", "group"),
        ("checkout", "prod/eu", "group"),
        ("check/out", "prod", "application"),
        ("check?ut", "prod", "application"),
        ("checkout", "pro[d]", "group"),
        ("a" * 101, "prod", "application"),
        ("checkout", "b" * 101, "group"),
        ("checkout\n", "prod", "application"),
        ("checkout", "prod\n", "group"),
        ("chéckout", "prod", "application"),
    ],
)
def test_freeze_targets_that_are_not_names_are_refused_naming_the_part(
    application: str, group: str, named: str
) -> None:
    with pytest.raises(InvalidRequest, match=f"^{named} must be a CodeDeploy"):
        parse_freeze_target(application, group)
