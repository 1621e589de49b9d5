"""What tests, the demo and the benchmarks do to the local CodeDeploy: create deployments (silently, or
announced with START) and set their status, end them as the service would, inject errors and latency,
shorten list pages, delay stops and decide how rollbacks end, move its clock on, read the recorded calls
and the state-change events, start it (with local.fake_aws) as a server.

None of this patches moto: the patched handlers (``patches.py``, applied by ``install()``) read the
faults, latency, page size, stop delay and rollback result set here from ``state.py``, and record each
call there; ``lifecycle.py`` applies the changes that fall due and writes the events.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any, cast

from moto.codedeploy.models import CodeDeployBackend, codedeploy_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.utils import utcnow
from moto.server import ThreadedMotoServer

from local import fake_aws
from local.fake_codedeploy import lifecycle
from local.fake_codedeploy.patches import ID_RE, install
from local.fake_codedeploy.state import ALL_STATUSES, LOCK, STATE, TERMINAL_STATUSES, Call, State

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_codedeploy.type_defs import CreateDeploymentInputTypeDef

DEFAULT_ACCOUNT: str = DEFAULT_ACCOUNT_ID
DUMMY_SERVICE_ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/local-codedeploy-service-role"


def backend(account_id: str = DEFAULT_ACCOUNT, region: str = "us-east-1") -> CodeDeployBackend:
    return codedeploy_backends[account_id][region]


def reset() -> None:
    """Clear injected errors, latency, recorded calls, the list page size, pending changes and events not
    taken; stops land at once again and rollbacks succeed at once (not moto's own state)."""
    fresh = State()
    with LOCK:
        for name in vars(fresh):
            setattr(STATE, name, getattr(fresh, name))


def clear_calls() -> None:
    """Forget the recorded calls only (faults, latency and page size stay)."""
    with LOCK:
        STATE.calls.clear()


def calls() -> list[Call]:
    """Every CodeDeploy request received since reset(), in order (injected failures included)."""
    with LOCK:
        return list(STATE.calls)


def inject_error(
    operation: str,
    code: str,
    *,
    http_status: int = 400,
    message: str | None = None,
    times: int = 1,
    match: dict[str, Any] | None = None,
) -> None:
    """Fail the next ``times`` calls of ``operation`` (API name) with ``code`` (-1: until reset()).

    ``match`` limits it to calls whose parameters include these, e.g. {"deploymentId": "d-…"}.
    """
    STATE.faults.add(code, http_status, message, times, "times", operation=operation, **(match or {}))


def set_latency(seconds: float, operation: str | None = None) -> None:
    """Sleep before answering ``operation`` (None: every operation); a per-operation value wins."""
    with LOCK:
        STATE.latency[operation] = seconds


def set_list_page_size(n: int | None) -> None:
    """ListApplications/ListDeploymentGroups/ListDeployments return at most ``n`` items a page (None: all)."""
    if n is not None and n < 1:
        raise ValueError("page size must be >= 1")
    with LOCK:
        STATE.page_size = n


def set_status(
    deployment_id: str, status: str, *, account_id: str | None = None, region: str | None = None
) -> None:
    """Put a deployment in any DeploymentStatus; without account/region every live backend is searched.

    Silent (it seeds the world: no state-change event) and final: a stop or rollback end still pending
    for the deployment is dropped.
    """
    if status not in ALL_STATUSES:
        raise ValueError(f"unknown deployment status {status!r}")
    d = _find_deployment(deployment_id, account_id, region)
    with LOCK:
        lifecycle.cancel(d)
        d.status = status
        now = utcnow()
        if status not in ("Created", "Queued") and d.start_time is None:
            d.start_time = now
        if status in TERMINAL_STATUSES:
            d.complete_time = d.complete_time or now
            if status == "Succeeded":
                d.deployment_group.local_last_successful = d
        else:
            d.complete_time = None


def complete(
    deployment_id: str, status: str, *, account_id: str | None = None, region: str | None = None
) -> None:
    """End an active deployment as the service does on its own: Succeeded, Failed (with errorInformation)
    or Stopped (as by a group alarm), with its state-change event (SUCCESS, FAILURE or STOP).

    A stop still pending for it is dropped: the deployment finished first.
    """
    if status not in TERMINAL_STATUSES:
        raise ValueError(f"a deployment completes as one of {TERMINAL_STATUSES}, not {status!r}")
    be = _backend_holding(deployment_id, region, account_id)
    d: Any = be.deployments[deployment_id]
    with LOCK:
        if d.status in TERMINAL_STATUSES:
            raise ValueError(f"deployment {deployment_id} is already {d.status}")
        lifecycle.cancel(d)
        lifecycle.finish(be, d, status)


def set_stop_delay(seconds: float) -> None:
    """StopDeployment's stop lands ``seconds`` later (0: during the call); until then GetDeployment shows
    the status it had. Applied when due, at the next request or advance()."""
    if seconds < 0:
        raise ValueError("the stop delay cannot be negative")
    with LOCK:
        STATE.stop_delay = seconds


def set_rollback_result(status: str = "Succeeded", after: float = 0.0) -> None:
    """Rollbacks started from now on end as ``status`` (Succeeded or Failed) ``after`` seconds after
    they start (0: at once)."""
    if status not in ("Succeeded", "Failed"):
        raise ValueError(f"a rollback ends Succeeded or Failed, not {status!r}")
    if after < 0:
        raise ValueError("after cannot be negative")
    with LOCK:
        STATE.rollback_status, STATE.rollback_after = status, after


def advance() -> None:
    """Apply the stops and rollback ends due by now (a request to the fake does it too)."""
    with LOCK:
        lifecycle.apply_due()


def take_events() -> list[dict[str, Any]]:
    """The state-change events emitted since the last take, oldest first; the outbox is emptied."""
    with LOCK:
        events, STATE.outbox = STATE.outbox, []
    return events


def create_deployment(
    client: CodeDeployClient,
    application: str,
    group: str,
    *,
    status: str = "InProgress",
    deployment_id: str | None = None,
    description: str | None = None,
    announce: bool = False,
) -> str:
    """Create the Server application and group if missing, a deployment through the API, then set_status.

    ``deployment_id`` gives the deployment a fixed ``d-XXXXXXXXX`` id instead of a random one (for events
    and demos that name it); ``description`` is CreateDeployment's (GetDeployment returns it). Silent,
    as seeding is, unless ``announce``: then the START event that CreateDeployment alone emits follows
    set_status, under the final id.
    """
    if deployment_id is not None:
        if not ID_RE.match(deployment_id):
            raise ValueError(f"{deployment_id!r} does not look like a CodeDeploy deployment id")
        with contextlib.suppress(KeyError):  # KeyError: no such deployment yet, as wanted
            _backend_holding(deployment_id, client.meta.region_name)
            raise ValueError(f"deployment {deployment_id} already exists")
    with contextlib.suppress(client.exceptions.ApplicationAlreadyExistsException):
        client.create_application(applicationName=application, computePlatform="Server")
    with contextlib.suppress(client.exceptions.DeploymentGroupAlreadyExistsException):
        client.create_deployment_group(
            applicationName=application, deploymentGroupName=group, serviceRoleArn=DUMMY_SERVICE_ROLE_ARN
        )
    request: CreateDeploymentInputTypeDef = {
        "applicationName": application,
        "deploymentGroupName": group,
        "revision": {
            "revisionType": "S3",
            "s3Location": {"bucket": "local-revisions", "key": f"{application}.zip", "bundleType": "zip"},
        },
    }
    if description is not None:
        request["description"] = description
    quiet = (client.meta.region_name, application, group)
    with LOCK:
        STATE.quiet_groups.append(quiet)
    try:
        created = client.create_deployment(**request)["deploymentId"]
    finally:
        with LOCK, contextlib.suppress(ValueError):  # ValueError: a reset() forgot it already
            STATE.quiet_groups.remove(quiet)
    be = _backend_holding(created, client.meta.region_name)
    if deployment_id is not None and deployment_id != created:
        be.deployments[deployment_id] = be.deployments.pop(created)
        be.deployments[deployment_id].deployment_id = deployment_id
        created = deployment_id
    set_status(created, status, region=client.meta.region_name)
    if announce:
        with LOCK:
            lifecycle.emit(be, be.deployments[created], "START")
    return created


def start_server(port: int = 0, *, quiet: bool = True) -> tuple[ThreadedMotoServer, str]:
    """Install the patches, this package's and local.fake_aws's (SSM calendars, CloudWatch alarm filters),
    and start moto's threaded server on 127.0.0.1 (port 0: a free one): the whole local AWS.

    Stop it with ``server.stop()``.
    """
    install()
    fake_aws.install()
    if quiet:  # werkzeug logs every request to stderr otherwise
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _, bound_port = server.get_host_and_port()
    return server, f"http://127.0.0.1:{bound_port}"


def _backend_holding(
    deployment_id: str, region: str | None, account_id: str | None = None
) -> CodeDeployBackend:
    for acct, reg, be in codedeploy_backends.iter_backends():
        cd_backend = cast(CodeDeployBackend, be)
        if account_id in (None, acct) and region in (None, reg) and deployment_id in cd_backend.deployments:
            return cd_backend
    raise KeyError(f"no deployment {deployment_id} in any moto CodeDeploy backend")


def _find_deployment(deployment_id: str, account_id: str | None, region: str | None) -> Any:
    return _backend_holding(deployment_id, region, account_id).deployments[deployment_id]
