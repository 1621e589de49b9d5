"""The local CloudWatch's DescribeAlarms, filtered as the real service filters it.

moto 5.2.5 applies only the first of ActionPrefix, AlarmNamePrefix, AlarmNames and StateValue that is
given, so ``AlarmNamePrefix=p, StateValue="ALARM"`` returns the prefix's alarms in every state, and it
ignores AlarmTypes (real CloudWatch returns only metric alarms when it is omitted). A freeze check on
that answer would pass for the wrong reason; ``patch()`` applies every filter given. It also adds
PutCompositeAlarm, which moto stores (an alarm with a rule) but does not route.
"""

from __future__ import annotations

from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult


def _describe_alarms(self: CloudWatchResponse) -> ActionResult:
    action_prefix: str | None = self._get_param("ActionPrefix")
    name_prefix: str | None = self._get_param("AlarmNamePrefix")
    names: list[str] = self._get_param("AlarmNames") or []
    state: str | None = self._get_param("StateValue")
    types: list[str] = self._get_param("AlarmTypes") or ["MetricAlarm"]
    alarms = [
        a
        for a in self.cloudwatch_backend.describe_alarms()
        if (not action_prefix or any(action.startswith(action_prefix) for action in a.alarm_actions))
        and (not name_prefix or a.name.startswith(name_prefix))
        and (not names or a.name in names)
        and (not state or a.state_value == state)
    ]
    # moto tells a composite alarm by its rule.
    return ActionResult(
        {
            "MetricAlarms": [a for a in alarms if a.rule is None] if "MetricAlarm" in types else [],
            "CompositeAlarms": [a for a in alarms if a.rule is not None] if "CompositeAlarm" in types else [],
        }
    )


def patch() -> None:
    """Replace moto's DescribeAlarms handler on its own class. Idempotent."""
    # call_action finds handlers by name with inspect.isfunction: a plain function, set on the class.
    CloudWatchResponse.describe_alarms = _describe_alarms  # type: ignore[method-assign]
    # moto's PutMetricAlarm handler reads AlarmRule "to re-use this method for composite alarms".
    CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm  # type: ignore[attr-defined]
