"""What the moto patches, the deployment lifecycle and the control API share: recorded calls, injected
faults, latency, page size, the changes waiting to happen, the state-change events not yet taken and
the groups being seeded.

One instance, here, so that what a test sets through the control API is what the patched moto reads.
Hold ``LOCK`` to touch any of it: moto's threaded server answers on several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local.faults import Faults

if TYPE_CHECKING:
    from mypy_boto3_codedeploy.literals import DeploymentStatusType

ACTIVE_STATUSES: tuple[DeploymentStatusType, ...] = ("Created", "Queued", "InProgress", "Baking", "Ready")
TERMINAL_STATUSES: tuple[DeploymentStatusType, ...] = ("Succeeded", "Failed", "Stopped")
ALL_STATUSES: tuple[DeploymentStatusType, ...] = ACTIVE_STATUSES + TERMINAL_STATUSES


@dataclass(frozen=True)
class Call:
    operation: str
    params: dict[str, Any]
    at: float = field(default=0.0, compare=False)  # time.time() when received (benchmarks)


@dataclass
class Transition:
    """A change the service makes on its own later: a stop landing, a rollback ending."""

    due: float  # time.monotonic()
    deployment: Any  # the moto DeploymentInfo it ends
    kind: str  # "stop" or "rollback"
    apply: Callable[[float], None]  # called with ``due``, so what it schedules counts from then


@dataclass
class State:
    calls: list[Call] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)  # by operation and parameters
    latency: dict[str | None, float] = field(default_factory=dict)  # by operation; None: every one
    page_size: int | None = None  # list operations' items per page; None: all
    pending: list[Transition] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)  # state-change events, oldest first
    stop_delay: float = 0.0  # seconds from StopDeployment to Stopped
    rollback_status: str = "Succeeded"  # how the next rollbacks end
    rollback_after: float = 0.0  # seconds from a rollback's start to its end
    # (region, application, group) being seeded by control.create_deployment: CreateDeployment there
    # leaves the deployment as moto made it (Created, no START) for set_status to decide.
    quiet_groups: list[tuple[str, str, str]] = field(default_factory=list)


LOCK = threading.Lock()
STATE = State()
