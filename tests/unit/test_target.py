"""A deployment group's one parser and one string form."""

import pytest

from stop_deployment.target import Target


@pytest.mark.parametrize("text", ["checkout/prod", "a.b-c_d@e/prod+blue=1", f"{'a' * 100}/{'g' * 100}"])
def test_a_target_reads_back_as_it_was_written(text: str) -> None:
    target = Target.parse(text)

    assert target is not None
    assert str(target) == text


def test_a_target_names_its_application_and_group() -> None:
    assert Target.parse("checkout/prod") == Target("checkout", "prod")


@pytest.mark.parametrize(
    "text",
    ["checkout", "checkout/", "/prod", "checkout/prod/blue", "check out/prod", f"{'a' * 101}/prod", ""],
)
def test_anything_else_is_not_a_target(text: str) -> None:
    assert Target.parse(text) is None
