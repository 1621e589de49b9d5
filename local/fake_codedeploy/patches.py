"""The patches that make moto 5.2.5's CodeDeploy behave like the real service, applied by ``install()``.

Nothing changes on import: whoever needs the fake (``start_server()``, the tests' ``mock_aws()``
fixtures) calls ``install()``, which is idempotent, so importing the package for its constants or its
control API never alters moto for the whole process behind anyone's back.

moto's URL table is bound to ``CodeDeployResponse.dispatch`` and handlers are looked up by name on every
request, so patching moto's own classes (not subclasses) serves both ``moto.mock_aws()`` and
``ThreadedMotoServer``. Added: ``d-XXXXXXXXX`` ids, CreateDeployment starting the deployment with a
START event (``lifecycle.begin``), StopDeployment (the stop lands, possibly later, and
may start a rollback deployment: ``lifecycle.py``), BatchGetDeploymentGroups, settable statuses, real
alarmConfiguration/errorInformation/rollbackInfo, list pagination and, at one interception point
(``call_action``), call recording, injected errors and latency (read from ``state``) and the changes due
by then.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable
from typing import Any, cast

from moto.codedeploy import responses as _responses
from moto.codedeploy.exceptions import CodeDeployException
from moto.codedeploy.models import AlarmConfiguration, CodeDeployBackend, DeploymentInfo
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.exceptions import InvalidNextTokenException, JsonRESTError
from moto.core.responses import ActionResult

from local.fake_codedeploy import lifecycle
from local.fake_codedeploy.state import ALL_STATUSES, LOCK, STATE, TERMINAL_STATUSES, Call
from local.faults import Fault

ID_RE = re.compile(r"^d-[A-Z0-9]{9}$")

_ID_ALPHABET = string.ascii_uppercase + string.digits
_BATCH_LIMIT = 100


# --- helpers --------------------------------------------------------------------------------------------


def _error(code: str, message: str) -> CodeDeployException:
    return CodeDeployException(code, message)


def _page(items: list[Any], token: str | None) -> tuple[list[Any], str | None]:
    # The token is opaque to callers; here it is the offset of the next page.
    start = 0
    if token:
        if not token.isdigit() or int(token) > len(items):
            raise InvalidNextTokenException()
        start = int(token)
    if STATE.page_size is None:
        return items[start:], None
    end = start + STATE.page_size
    return items[start:end], (str(end) if end < len(items) else None)


def _fault_message(fault: Fault, response: CodeDeployResponse) -> str:
    if fault.message is not None:
        return fault.message
    if fault.code == "AccessDeniedException":
        role = (
            f"arn:{response.partition}:sts::{response.current_account}:assumed-role/local-kill-switch/local"
        )
        operation = fault.match["operation"]
        return (
            f"User: {role} is not authorized to perform: codedeploy:{operation} on resource: * "
            "because no identity-based policy allows the action"
        )
    return f"{fault.code} injected by local.fake_codedeploy"


def _summary(d: Any) -> dict[str, Any]:
    summary = {"deploymentId": d.deployment_id, "status": d.status, "createTime": d.create_time}
    if d.complete_time:
        summary["endTime"] = d.complete_time
    return summary


def _set_or_drop(result: dict[str, Any], key: str, value: Any) -> None:
    # moto returns {} placeholders; the real service omits such fields until they have content.
    if value is None:
        result.pop(key, None)
    else:
        result[key] = value


# --- patches --------------------------------------------------------------------------------------------


def _deployment_init(orig: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        orig(self, *args, **kwargs)
        self.deployment_id = "d-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(9))
        self.local_auto_rollback_enabled = None  # as sent to StopDeployment; None when omitted
        self.local_error_information = None
        self.local_rollback_info = None
        self.local_instance_group_id = str(uuid.uuid4())  # named by every state-change event of it
        self.deployment_group.local_last_attempted = self

    return __init__


def _deployment_info(orig: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def info(d: Any) -> dict[str, Any]:
        result = orig(d)
        _set_or_drop(result, "errorInformation", d.local_error_information)
        _set_or_drop(result, "rollbackInfo", d.local_rollback_info)
        return result

    return info


def _deployment_group_info(orig: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def info(group: Any) -> dict[str, Any]:
        result = orig(group)
        alarms = group.alarm_configuration or {}  # the request's dict, as moto stores it
        if isinstance(alarms, AlarmConfiguration):
            alarms = {
                "enabled": alarms.enabled,
                "ignorePollAlarmFailure": alarms.ignore_poll_alarm_failure,
                "alarms": alarms.alarms,
            }
        result["alarmConfiguration"] = {
            "enabled": bool(alarms.get("enabled", False)),
            "ignorePollAlarmFailure": bool(alarms.get("ignorePollAlarmFailure", False)),
            "alarms": [{"name": a["name"]} for a in alarms.get("alarms") or []],
        }
        for key, attr in (
            ("lastAttemptedDeployment", "local_last_attempted"),
            ("lastSuccessfulDeployment", "local_last_successful"),
        ):
            d = getattr(group, attr, None)
            _set_or_drop(result, key, None if d is None else _summary(d))
        return result

    return info


def _backend_create_deployment(orig: Callable[..., str]) -> Callable[..., str]:
    def create_deployment(self: CodeDeployBackend, *args: Any, **kwargs: Any) -> str:
        deployment_id = orig(self, *args, **kwargs)
        d: Any = self.deployments[deployment_id]
        with LOCK:
            if (self.region_name, d.application_name, d.deployment_group_name) not in STATE.quiet_groups:
                lifecycle.begin(self, d)
        return deployment_id

    return create_deployment


def _backend_stop_deployment(
    self: CodeDeployBackend, deployment_id: str | None, auto_rollback_enabled: bool | None
) -> tuple[str, str]:
    if not deployment_id:
        raise _error("DeploymentIdRequiredException", "At least one deployment ID must be specified.")
    if not ID_RE.match(deployment_id):
        raise _error(
            "InvalidDeploymentIdException",
            f"Specified DeploymentId is not in the valid format: {deployment_id}",
        )
    d: Any = self.get_deployment(deployment_id)  # DeploymentDoesNotExistException
    with LOCK:
        if d.status in TERMINAL_STATUSES:
            raise _error(
                "DeploymentAlreadyCompletedException", f"The deployment {deployment_id} is already complete."
            )
        # A stop already on its way is not scheduled twice (the first request's rollback flag stands);
        # it is still stopping, so the answer is Pending.
        already_stopping = lifecycle.stop_pending(d)
        lifecycle_events_running = already_stopping or d.status in ("InProgress", "Baking")
        if not already_stopping:
            lifecycle.request_stop(self, d, auto_rollback_enabled)
    if lifecycle_events_running:
        return "Pending", "Stopping Pending. Stopping to schedule commands in the deployment instances"
    return "Succeeded", "No more commands will be scheduled for execution in the deployment instances"


def _backend_batch_get_deployment_groups(
    self: CodeDeployBackend, application_name: str | None, names: list[str] | None
) -> tuple[list[Any], str]:
    if not application_name:
        raise _error("ApplicationNameRequiredException", "The application name was not specified.")
    self.get_application(application_name)  # ApplicationDoesNotExistException
    if not names:
        raise _error("DeploymentGroupNameRequiredException", "The deployment group name was not specified.")
    if len(names) > _BATCH_LIMIT:
        raise _error(
            "BatchLimitExceededException",
            f"The maximum number of names or IDs allowed for this request ({_BATCH_LIMIT}) was exceeded.",
        )
    groups = self.deployment_groups.get(application_name, {})
    missing = [n for n in names if n not in groups]
    message = f"Deployment groups not found for application {application_name}: {', '.join(missing)}"
    return [groups[n] for n in names if n in groups], message if missing else ""


def _response_stop_deployment(self: CodeDeployResponse) -> ActionResult:
    be: Any = self.codedeploy_backend
    status, message = be.stop_deployment(
        self._get_param("deploymentId"), self._get_param("autoRollbackEnabled")
    )
    return ActionResult({"status": status, "statusMessage": message})


def _response_batch_get_deployment_groups(self: CodeDeployResponse) -> ActionResult:
    be: Any = self.codedeploy_backend
    groups, message = be.batch_get_deployment_groups(
        self._get_param("applicationName"), self._get_param("deploymentGroupNames")
    )
    infos = [_responses._deployment_group_info(g) for g in groups]
    return ActionResult({"deploymentGroupsInfo": infos, "errorMessage": message})


def _paginated(orig: Callable[[CodeDeployResponse], ActionResult], key: str) -> Callable[..., ActionResult]:
    def handler(self: CodeDeployResponse) -> ActionResult:
        # moto filters on statuses but accepts any string; the real service rejects unknown ones.
        if bad := [s for s in self._get_param("includeOnlyStatuses") or [] if s not in ALL_STATUSES]:
            raise _error("InvalidDeploymentStatusException", f"The deployment status {bad[0]} is invalid.")
        result = dict(cast(dict[str, Any], orig(self).result))
        result[key], token = _page(result[key], self._get_param("nextToken"))
        _set_or_drop(result, "nextToken", token)  # moto's ListDeploymentGroups echoes the request's token
        return ActionResult(result)

    return handler


def _call_action(orig: Callable[[CodeDeployResponse], Any]) -> Callable[..., Any]:
    """The one interception point: each request, after parsing and before its handler."""

    def call_action(self: CodeDeployResponse) -> Any:
        operation = self._get_action() or ""
        params = copy.deepcopy(dict(getattr(self, "params", None) or {}))
        with LOCK:
            lifecycle.apply_due()  # the service moved on since the last request, whoever asks
            STATE.calls.append(Call(operation, params, time.time()))
            delay = STATE.latency.get(operation, STATE.latency.get(None, 0.0))
        if delay:
            time.sleep(delay)
        fault = STATE.faults.take(**{**params, "operation": operation})
        if fault is None:
            return orig(self)
        return error_response(self, fault.code, _fault_message(fault, self), fault.http_status)

    return call_action


def error_response(response: Any, code: str, message: str, http_status: int) -> Any:
    """What moto's call_action answers for an HTTPException raised by a handler: an injected fault
    looks to boto3 exactly like the service's own error (shared with local.fake_aws)."""
    err = JsonRESTError(code, message)
    err.code = http_status
    headers: dict[str, Any] = {**dict(err.get_headers()), "status": http_status}
    status, out_headers, body = response._transform_response(
        response.response_headers, (err.description, headers)
    )
    out_headers, body = response._enrich_response(out_headers, body)
    return status, out_headers, body


def install() -> None:
    """Patch moto's CodeDeploy classes in place. Idempotent (the marker lives on moto's class)."""
    if getattr(CodeDeployResponse, "_fake_codedeploy_installed", False):
        return
    r = CodeDeployResponse
    patches: list[tuple[object, str, object]] = [
        (DeploymentInfo, "__init__", _deployment_init(DeploymentInfo.__init__)),
        (_responses, "_deployment_info", _deployment_info(_responses._deployment_info)),
        (_responses, "_deployment_group_info", _deployment_group_info(_responses._deployment_group_info)),
        (
            CodeDeployBackend,
            "create_deployment",
            _backend_create_deployment(CodeDeployBackend.create_deployment),
        ),
        (CodeDeployBackend, "stop_deployment", _backend_stop_deployment),
        (CodeDeployBackend, "batch_get_deployment_groups", _backend_batch_get_deployment_groups),
        # call_action finds handlers with inspect.isfunction, so these must be plain functions.
        (r, "stop_deployment", _response_stop_deployment),
        (r, "batch_get_deployment_groups", _response_batch_get_deployment_groups),
        (r, "list_applications", _paginated(r.list_applications, "applications")),
        (r, "list_deployment_groups", _paginated(r.list_deployment_groups, "deploymentGroups")),
        (r, "list_deployments", _paginated(r.list_deployments, "deployments")),
        (r, "call_action", _call_action(r.call_action)),
        (r, "_fake_codedeploy_installed", True),
    ]
    for owner, name, value in patches:
        setattr(owner, name, value)
