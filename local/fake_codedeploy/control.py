"""What tests, the demo and the benchmarks do to the local CodeDeploy: create deployments and set their
status, inject errors and latency, shorten list pages, read the recorded calls, start it as a server.

None of this patches moto: the patched handlers (``patches.py``, applied by ``install()``) read the
faults, latency and page size set here from ``state.py``, and record each call there.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any, cast

from moto.codedeploy.models import CodeDeployBackend, codedeploy_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.utils import utcnow
from moto.server import ThreadedMotoServer

from local.fake_codedeploy.patches import ALL_STATUSES, ID_RE, TERMINAL_STATUSES, install
from local.fake_codedeploy.state import LOCK, STATE, Call, Fault

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

DEFAULT_ACCOUNT: str = DEFAULT_ACCOUNT_ID
DUMMY_SERVICE_ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/local-codedeploy-service-role"


def backend(account_id: str = DEFAULT_ACCOUNT, region: str = "us-east-1") -> CodeDeployBackend:
    return codedeploy_backends[account_id][region]


def reset() -> None:
    """Clear injected errors, latency, recorded calls and the list page size (not moto's own state)."""
    with LOCK:
        STATE.calls.clear()
        STATE.faults.clear()
        STATE.latency.clear()
        STATE.page_size = None


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
    if times == 0 or times < -1:
        raise ValueError("times must be positive or -1")
    with LOCK:
        STATE.faults.append(Fault(operation, code, http_status, message, times, match))


def set_latency(seconds: float, operation: str | None = None) -> None:
    """Sleep before answering ``operation`` (None: every operation); a per-operation value wins."""
    with LOCK:
        STATE.latency[operation] = seconds


def set_list_page_size(n: int | None) -> None:
    """ListApplications/ListDeploymentGroups/ListDeployments return at most ``n`` items a page (None: all)."""
    if n is not None and n < 1:
        raise ValueError("page size must be >= 1")
    STATE.page_size = n


def set_status(
    deployment_id: str, status: str, *, account_id: str | None = None, region: str | None = None
) -> None:
    """Put a deployment in any DeploymentStatus; without account/region every live backend is searched."""
    if status not in ALL_STATUSES:
        raise ValueError(f"unknown deployment status {status!r}")
    d = _find_deployment(deployment_id, account_id, region)
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


def create_deployment(
    client: CodeDeployClient,
    application: str,
    group: str,
    *,
    status: str = "InProgress",
    deployment_id: str | None = None,
) -> str:
    """Create the Server application and group if missing, a deployment through the API, then set_status.

    ``deployment_id`` gives the deployment a fixed ``d-XXXXXXXXX`` id instead of a random one (for events
    and demos that name it).
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
    created = client.create_deployment(
        applicationName=application,
        deploymentGroupName=group,
        revision={
            "revisionType": "S3",
            "s3Location": {"bucket": "local-revisions", "key": f"{application}.zip", "bundleType": "zip"},
        },
    )["deploymentId"]
    if deployment_id is not None and deployment_id != created:
        deployments = _backend_holding(created, client.meta.region_name).deployments
        deployments[deployment_id] = deployments.pop(created)
        deployments[deployment_id].deployment_id = deployment_id
        created = deployment_id
    set_status(created, status, region=client.meta.region_name)
    return created


def start_server(port: int = 0, *, quiet: bool = True) -> tuple[ThreadedMotoServer, str]:
    """Install the patches and start moto's threaded server on 127.0.0.1 (port 0: a free one).

    Stop it with ``server.stop()``.
    """
    install()
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
