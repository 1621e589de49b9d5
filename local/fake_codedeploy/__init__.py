"""The local CodeDeploy for tests, the demo and the benchmarks: moto 5.2.5 patched to behave like the
real service (its own name, so it is never mistaken for ``stop_deployment.codedeploy``).

- ``patches.py``: the changes to moto, applied only by ``install()`` (explicit and idempotent);
- ``lifecycle.py``: what the service does on its own after a call: a created deployment starts, a stop
  lands (at once or after a delay), a rollback deployment starts and ends, and each change is an
  EventBridge state-change event;
- ``control.py``: what a test or a demo does to the fake (deployments, statuses, faults, latency,
  page size, stop delay, rollback result, the clock, recorded calls and events, a server);
- ``state.py``: what they share.

Importing this package patches nothing: call ``install()`` before ``mock_aws()`` (``start_server()``
does it itself, and installs ``local.fake_aws`` too: SSM calendars, CloudWatch alarm filters).
"""

from local.fake_codedeploy.control import (
    DUMMY_SERVICE_ROLE_ARN,
    advance,
    backend,
    calls,
    clear_calls,
    complete,
    create_deployment,
    inject_error,
    reset,
    set_latency,
    set_list_page_size,
    set_rollback_result,
    set_status,
    set_stop_delay,
    start_server,
    take_events,
)
from local.fake_codedeploy.patches import install
from local.fake_codedeploy.state import ACTIVE_STATUSES, ALL_STATUSES, TERMINAL_STATUSES, Call

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_STATUSES",
    "DUMMY_SERVICE_ROLE_ARN",
    "TERMINAL_STATUSES",
    "Call",
    "advance",
    "backend",
    "calls",
    "clear_calls",
    "complete",
    "create_deployment",
    "inject_error",
    "install",
    "reset",
    "set_latency",
    "set_list_page_size",
    "set_rollback_result",
    "set_status",
    "set_stop_delay",
    "start_server",
    "take_events",
]
