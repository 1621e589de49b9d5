"""The local SSM and CloudWatch for deployment freezes: moto 5.2.5 patched where it lacks an operation
or answers otherwise than the real service (its own name, beside ``local.fake_codedeploy``).

- ``ssm.py``: GetCalendarState (moto has none), answered from the calendars ``set_calendar_state``
  defines; every SSM call recorded; errors injected;
- ``cloudwatch.py``: DescribeAlarms applying every filter given (moto applies only the first).

Importing this package patches nothing: call ``install()`` before ``mock_aws()`` (and ``reset()`` in
it, for the calls and faults); ``fake_codedeploy.start_server()`` installs it with the local CodeDeploy.
"""

from local.fake_aws import cloudwatch, ssm


def install() -> None:
    """Patch moto's SSM and CloudWatch classes in place. Idempotent."""
    ssm.patch()
    cloudwatch.patch()


def reset() -> None:
    """Forget recorded SSM calls and injected faults (calendars go with moto's state, on its reset)."""
    ssm.reset()


__all__ = ["cloudwatch", "install", "reset", "ssm"]
