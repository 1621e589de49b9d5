"""The local SSM's Change Calendar: GetCalendarState, which moto 5.2.5 lacks, answered like the real API
from the calendars ``set_calendar_state`` defines, with every SSM call recorded and errors injectable.

A calendar's state lives on moto's SSM backend (per account and region), so moto's own reset
(``mock_aws()`` ending, ``POST /moto-api/reset``) forgets it with the rest of SSM; calls and faults live
here until ``reset()``. ``patch()`` changes moto's own response class: handlers are looked up by name
on every request, so it serves ``mock_aws()`` and ``ThreadedMotoServer`` alike.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ssm.exceptions import InvalidDocument, ValidationException
from moto.ssm.models import SimpleSystemManagerBackend, ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

from local.fake_codedeploy.patches import error_response
from local.faults import Faults

CalendarState = Literal["OPEN", "CLOSED"]


@dataclass(frozen=True)
class Call:
    operation: str
    params: dict[str, Any]


_LOCK = threading.Lock()  # moto's threaded server answers on several threads
_CALLS: list[Call] = []
_FAULTS = Faults()


# --- control --------------------------------------------------------------------------------------------


def set_calendar_state(
    name: str, state: CalendarState, *, account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1"
) -> None:
    """Define the Change Calendar ``name`` (or change it) as OPEN or CLOSED until told otherwise.

    GetCalendarState answers it by name or ARN, with no NextTransitionTime (no change is scheduled).
    """
    if state not in ("OPEN", "CLOSED"):
        raise ValueError(f"a calendar is OPEN or CLOSED, not {state!r}")
    with _LOCK:
        _calendars(ssm_backends[account_id][region])[name] = state


def calls() -> list[Call]:
    """Every SSM request received since reset(), in order (injected failures included)."""
    with _LOCK:
        return list(_CALLS)


def clear_calls() -> None:
    with _LOCK:
        _CALLS.clear()


def inject_error(
    operation: str, code: str, *, http_status: int = 400, message: str | None = None, times: int = 1
) -> None:
    """Fail the next ``times`` calls of ``operation`` (API name, e.g. GetCalendarState) with ``code``
    (-1: until reset()), as ``fake_codedeploy.inject_error`` does for CodeDeploy."""
    _FAULTS.add(code, http_status, message, times, "times", operation=operation)


def reset() -> None:
    """Forget recorded calls and injected faults (not moto's state, calendars included)."""
    with _LOCK:
        _CALLS.clear()
    _FAULTS.clear()


# --- the patch ------------------------------------------------------------------------------------------


def _calendars(backend: SimpleSystemManagerBackend) -> dict[str, CalendarState]:
    # An attribute of the backend, so that moto's reset (which re-creates its __dict__) forgets it.
    calendars: dict[str, CalendarState] = backend.__dict__.setdefault("local_calendars", {})
    return calendars


def _state_of(backend: SimpleSystemManagerBackend, name_or_arn: str) -> CalendarState:
    name = name_or_arn.rsplit(":document/", 1)[-1]  # CalendarNames takes names or document ARNs
    with _LOCK:
        state = _calendars(backend).get(name)
    if state is not None:
        return state
    # GetCalendarState's error for a calendar (an SSM document) that does not exist, in moto's words for it.
    raise InvalidDocument("The specified document does not exist.")


def _get_calendar_state(self: SimpleSystemManagerResponse) -> ActionResult:
    names: list[str] = self._get_param("CalendarNames") or []
    if not names:  # a freeze check that names no calendar is a bug: fail it rather than answer OPEN
        raise ValidationException("CalendarNames must name at least one calendar.")
    states = [_state_of(self.ssm_backend, name) for name in names]
    at_time = self._get_param("AtTime") or utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    # Several calendars: OPEN only if every one is open.
    return ActionResult({"State": "OPEN" if set(states) == {"OPEN"} else "CLOSED", "AtTime": at_time})


def _params(self: SimpleSystemManagerResponse) -> dict[str, Any]:
    # moto parses SSM's JSON body per parameter (no ``self.params``): read it whole, once.
    try:
        params = json.loads(self.body or "{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def _call_action(orig: Callable[[SimpleSystemManagerResponse], Any]) -> Callable[..., Any]:
    """Each SSM request, after parsing and before its handler: record it, then fail it if told to."""

    def call_action(self: SimpleSystemManagerResponse) -> Any:
        operation = self._get_action() or ""
        with _LOCK:
            _CALLS.append(Call(operation, _params(self)))
        fault = _FAULTS.take(operation=operation)
        if fault is None:
            return orig(self)
        message = fault.message or f"{fault.code} injected by local.fake_aws"
        return error_response(self, fault.code, message, fault.http_status)

    return call_action


def patch() -> None:
    """Add GetCalendarState and the call interception to moto's SSM responses. Idempotent."""
    r = SimpleSystemManagerResponse
    if getattr(r, "_fake_aws_installed", False):
        return
    # call_action finds handlers with inspect.isfunction, so this must be a plain function.
    r.get_calendar_state = _get_calendar_state  # type: ignore[attr-defined]
    r.call_action = _call_action(r.call_action)  # type: ignore[method-assign]
    r._fake_aws_installed = True  # type: ignore[attr-defined]


__all__ = [
    "CalendarState",
    "Call",
    "calls",
    "clear_calls",
    "inject_error",
    "patch",
    "reset",
    "set_calendar_state",
]
