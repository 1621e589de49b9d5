"""The local SSM, CloudWatch, Lambda and STS: moto 5.2.5 patched where it lacks an operation or answers
otherwise than the real service (its own name, beside ``local.fake_codedeploy``).

- ``ssm.py``: GetCalendarState (moto has none), answered from the calendars ``set_calendar_state``
  defines; every SSM call recorded; errors injected;
- ``cloudwatch.py``: DescribeAlarms applying every filter given (moto applies only the first);
- ``lambda_.py``: asynchronous Invoke (``InvocationType="Event"``) of any function, queued without
  running it (moto would need Docker): ``take_invocations()``, or ``local.world.deliver_invocations()``
  to run the function on each; errors injected;
- ``sts.py``: AssumeRole refused (AccessDenied, 403) for a role missing from the target account's IAM,
  otherwise moto's (credentials acting in the role's account); every AssumeRole recorded; errors
  injected.

Importing this package patches nothing: call ``install()`` before ``mock_aws()`` (and ``reset()`` in
it, for the calls, queued invocations and faults); ``fake_codedeploy.start_server()`` installs it with
the local CodeDeploy.
"""

from local.fake_aws import cloudwatch, lambda_, ssm, sts


def install() -> None:
    """Patch moto's SSM, CloudWatch, Lambda and STS classes in place. Idempotent."""
    ssm.patch()
    cloudwatch.patch()
    lambda_.patch()
    sts.patch()


def reset() -> None:
    """Forget recorded SSM and STS calls, queued Lambda invocations and injected faults (calendars and
    roles go with moto's state, on its reset)."""
    ssm.reset()
    lambda_.reset()
    sts.reset()


__all__ = ["cloudwatch", "install", "lambda_", "reset", "ssm", "sts"]
