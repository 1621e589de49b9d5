"""What the real CodeDeploy does on its own after a call: a created deployment starts, a stop lands
(Stopped, then a rollback when one is due), the rollback runs to an outcome, and every change is
announced as an EventBridge
"CodeDeploy Deployment State-change Notification" in the outbox (``control.take_events()``).

Changes wait in ``STATE.pending`` until due; ``apply_due()`` applies them, at the start of each request
(``call_action``) and from ``control.advance()``. Every function here expects ``LOCK`` to be held.
"""

from __future__ import annotations

import copy
import time
import uuid
from typing import Any

from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo
from moto.core.utils import utcnow

from local.fake_codedeploy.state import STATE, TERMINAL_STATUSES, Transition

DETAIL_TYPE = "CodeDeploy Deployment State-change Notification"
ROLLBACK_CREATOR = "codeDeployRollback"
STOP_ON_REQUEST = "DEPLOYMENT_STOP_ON_REQUEST"  # the AutoRollbackEvent an omitted flag looks for
EVENT_STATES = {"Succeeded": "SUCCESS", "Failed": "FAILURE", "Stopped": "STOP"}

MANUAL_STOP = {"code": "MANUAL_STOP", "message": "The deployment was stopped by a user."}
# What a deployment that ends on its own carries (control.complete, a rollback that fails).
ERRORS_ON_ITS_OWN: dict[str, dict[str, str]] = {
    "Failed": {
        "code": "HEALTH_CONSTRAINTS",
        "message": "The overall deployment failed because too many individual instances failed deployment.",
    },
    "Stopped": {
        "code": "ALARM_ACTIVE",
        "message": "The deployment was stopped because an alarm of the deployment group went off.",
    },
}


def begin(be: CodeDeployBackend, d: Any) -> None:
    """CreateDeployment accepted: the deployment starts at once (nothing here queues it) and says so."""
    d.status, d.start_time = "InProgress", utcnow()
    emit(be, d, "START")


def stop_pending(d: Any) -> bool:
    return any(t.kind == "stop" and t.deployment is d for t in STATE.pending)


def request_stop(be: CodeDeployBackend, d: Any, auto_rollback_enabled: bool | None) -> None:
    """StopDeployment accepted: the stop lands after ``STATE.stop_delay`` (0: before the call returns)."""
    d.local_auto_rollback_enabled = auto_rollback_enabled
    STATE.pending.append(
        Transition(time.monotonic() + STATE.stop_delay, d, "stop", lambda due: _land_stop(be, d, due))
    )
    apply_due()


def apply_due() -> None:
    """Apply every change due by now, oldest first, including those that applying one makes due."""
    while True:
        now = time.monotonic()
        due = [t for t in STATE.pending if t.due <= now]
        if not due:
            return
        first = min(due, key=lambda t: t.due)  # min keeps scheduling order among equal times
        STATE.pending.remove(first)
        if first.deployment.status not in TERMINAL_STATUSES:  # it may have ended some other way
            first.apply(first.due)


def cancel(d: Any) -> None:
    """Forget what was to happen to ``d``: whoever set its status has decided for the service."""
    STATE.pending[:] = [t for t in STATE.pending if t.deployment is not d]


def finish(be: CodeDeployBackend, d: Any, status: str, error: dict[str, str] | None = None) -> None:
    """End ``d`` in a terminal status and announce it."""
    d.status = status
    d.start_time = d.start_time or utcnow()
    d.complete_time = utcnow()
    d.local_error_information = error if error is not None else ERRORS_ON_ITS_OWN.get(status)
    if status == "Succeeded":
        d.deployment_group.local_last_successful = d
    emit(be, d, EVENT_STATES[status])


def emit(be: CodeDeployBackend, d: Any, state: str) -> None:
    """Put the state-change event EventBridge would deliver in the outbox."""
    application, group = d.application_name, d.deployment_group_name
    STATE.outbox.append(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": DETAIL_TYPE,
            "source": "aws.codedeploy",
            "account": be.account_id,
            "time": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": be.region_name,
            "resources": [be._application_arn(application), be._deployment_group_arn(application, group)],
            "detail": {
                "region": be.region_name,
                "application": application,
                "deploymentGroup": group,
                "deploymentId": d.deployment_id,
                "instanceGroupId": d.local_instance_group_id,
                "state": state,
            },
        }
    )


def _land_stop(be: CodeDeployBackend, d: Any, due: float) -> None:
    finish(be, d, "Stopped", MANUAL_STOP)
    if not _rollback_requested(d):
        return
    last_good = getattr(d.deployment_group, "local_last_successful", None)
    if last_good is None:  # the real service needs a last known good revision to redeploy
        d.local_rollback_info = {
            "rollbackMessage": "Automatic rollback was not started: the deployment group has no last "
            "successful revision to roll back to."
        }
        return
    rollback: Any = DeploymentInfo(
        d.application,
        d.deployment_group,
        copy.deepcopy(last_good.revision),
        d.deployment_config_name,
        None,
        d.ignore_application_stop_failures,
        None,
        None,
        None,
        d.file_exists_behavior,
        None,
        ROLLBACK_CREATOR,
    )
    be.deployments[rollback.deployment_id] = rollback
    rollback.status, rollback.start_time = "InProgress", utcnow()
    d.local_rollback_info = {
        "rollbackDeploymentId": rollback.deployment_id,
        "rollbackMessage": f"Automatic rollback to the last successful revision ({last_good.deployment_id}) "
        "started because the deployment was stopped.",
    }
    rollback.local_rollback_info = {
        "rollbackTriggeringDeploymentId": d.deployment_id,
        "rollbackMessage": f"Rollback of {d.deployment_id}, which was stopped.",
    }
    emit(be, rollback, "START")
    status = STATE.rollback_status  # decided when the rollback starts
    STATE.pending.append(
        Transition(due + STATE.rollback_after, rollback, "rollback", lambda _: finish(be, rollback, status))
    )


def _rollback_requested(d: Any) -> bool:
    if d.local_auto_rollback_enabled is not None:
        return bool(d.local_auto_rollback_enabled)
    # Omitted: the deployment's own configuration (an override at creation), else the group's.
    config = d.auto_rollback_configuration or d.deployment_group.auto_rollback_configuration or {}
    return bool(config.get("enabled")) and STOP_ON_REQUEST in (config.get("events") or [])
