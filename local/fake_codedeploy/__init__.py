"""The local CodeDeploy for tests, the demo and the benchmarks: moto 5.2.5 patched to behave like the
real service (its own name, so it is never mistaken for ``stop_deployment.codedeploy``).

- ``patches.py``: the changes to moto, applied only by ``install()`` (explicit and idempotent);
- ``control.py``: what a test or a demo does to the fake (deployments, statuses, faults, latency,
  page size, recorded calls, a server);
- ``state.py``: what those two share.

Importing this package patches nothing: call ``install()`` before ``mock_aws()`` (``start_server()``
does it itself).
"""

from local.fake_codedeploy.control import (
    DUMMY_SERVICE_ROLE_ARN,
    backend,
    calls,
    clear_calls,
    create_deployment,
    inject_error,
    reset,
    set_latency,
    set_list_page_size,
    set_status,
    start_server,
)
from local.fake_codedeploy.patches import ACTIVE_STATUSES, ALL_STATUSES, TERMINAL_STATUSES, install
from local.fake_codedeploy.state import Call

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_STATUSES",
    "DUMMY_SERVICE_ROLE_ARN",
    "TERMINAL_STATUSES",
    "Call",
    "backend",
    "calls",
    "clear_calls",
    "create_deployment",
    "inject_error",
    "install",
    "reset",
    "set_latency",
    "set_list_page_size",
    "set_status",
    "start_server",
]
