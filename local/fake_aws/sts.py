"""The local STS's AssumeRole: the function reaching into a member account, refused where real STS refuses.

moto 5.2.5 lets anyone assume any role ARN, existing or not, and hands back credentials that act in the
account the ARN names (moto maps the new access key to that account, in-process and in the server
alike). The function depends on one more thing real STS does: a member account without the member role
is unreachable. ``patch()`` makes moto's AssumeRole refuse, as real STS does, a role that does not exist
in the IAM of the account its ARN names: ``AccessDenied``, HTTP 403, in STS's query-protocol error
(``<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>…``, the
shape moto's serializer gives STS's own errors), worded "User: … is not authorized to perform:
sts:AssumeRole on resource: …". Any other AssumeRole is moto's: credentials acting in the role's
account, Expiration now + DurationSeconds (moto enforces no trust policy and no MaxSessionDuration).

Every AssumeRole request is recorded (``calls()``, refused and failed ones included), errors are
injectable (``inject_error``, e.g. ``Throttling``, for one role ARN or any) and so is latency
(``set_latency``: every AssumeRole answers that many seconds after it arrived, refused and failed ones
too, as a distant STS; the benchmarks' 100 ms). Calls, faults and latency live here, not on moto's
backend, so moto's reset keeps them: call ``reset()``. ``patch()`` changes moto's own response class
(handlers are looked up by name on every request), so it serves ``mock_aws()`` and ``ThreadedMotoServer``
alike.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.sts.responses import TokenResponse

from local.faults import Fault, Faults

OPERATION = "AssumeRole"  # the one operation this stand-in records (and fails)
DEFAULT_DURATION_SECONDS = 3600  # STS's default when DurationSeconds is not sent
# arn:{partition}:iam::{account}:role/{path/}{name}: the account whose IAM must hold the role.
_ROLE_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/.+$")
_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"


@dataclass(frozen=True)
class AssumeRoleCall:
    """One AssumeRole request, as received (whether it then succeeded or not)."""

    role_arn: str
    session_name: str
    duration_seconds: int  # as sent, or STS's default (3600) when not sent
    at: float  # time.time() when it arrived


_LOCK = threading.Lock()  # moto's threaded server answers on several threads
_CALLS: list[AssumeRoleCall] = []
_FAULTS = Faults()
_latency = 0.0  # seconds every AssumeRole sleeps before answering (set_latency)


# --- control --------------------------------------------------------------------------------------------


def calls() -> list[AssumeRoleCall]:
    """Every AssumeRole request received since reset() or clear_calls(), in order (refusals and injected
    failures included)."""
    with _LOCK:
        return list(_CALLS)


def clear_calls() -> None:
    """Forget the recorded calls only (faults stay)."""
    with _LOCK:
        _CALLS.clear()


def inject_error(
    code: str = "Throttling",
    http_status: int = 400,
    count: int = 1,
    message: str | None = None,
    role_arn: str | None = None,
) -> None:
    """Fail the next ``count`` AssumeRole calls (-1: until reset()) with ``code``, only those for
    ``role_arn`` if given. STS answers ``Throttling`` with 400 ("Rate exceeded"); ``AccessDenied`` 403,
    ``RegionDisabledException`` 403 and ``ExpiredTokenException`` 400 are others it gives.

    Faults apply in the order injected: a call takes the first one that matches its role ARN.
    """
    _FAULTS.add(code, http_status, message, count, "count", **({"role_arn": role_arn} if role_arn else {}))


def set_latency(seconds: float) -> None:
    """Answer every AssumeRole ``seconds`` after it arrives (0: at once, as after reset()). The sleep
    holds no lock: calls arriving together answer together, each ``seconds`` late."""
    global _latency
    if seconds < 0:
        raise ValueError("the latency cannot be negative")
    with _LOCK:
        _latency = seconds


def reset() -> None:
    """Forget recorded calls, injected faults and latency (not moto's state: roles go with moto's
    reset)."""
    global _latency
    with _LOCK:
        _CALLS.clear()
        _latency = 0.0
    _FAULTS.clear()


# --- the patch ------------------------------------------------------------------------------------------


def _role_exists(role_arn: str) -> bool:
    """Whether the IAM of the account the ARN names holds that role (path and name as in the ARN)."""
    match = _ROLE_ARN.match(role_arn)
    if match is None:
        return False
    iam = iam_backends[match["account"]][match["partition"]]
    try:
        iam.get_role_by_arn(role_arn)
    except NotFoundException:
        return False
    return True


def _caller_arn(self: TokenResponse) -> str:
    """Who is asking, as moto's STS sees the request's access key (GetCallerIdentity's Arn)."""
    _, arn, _ = self.backend.get_caller_identity(self.access_key, self.region)
    return str(arn)


def _fault_message(fault: Fault) -> str:
    if fault.message is not None:
        return fault.message
    if fault.code == "Throttling":
        return "Rate exceeded"
    return f"{fault.code} injected by local.fake_aws"


def _error(code: str, message: str, http_status: int) -> tuple[int, dict[str, str], str]:
    """STS's query-protocol error, as moto serializes STS's own errors (botocore reads Error/Code).

    moto's call_action fills in the RequestId and adds the x-amzn-RequestId header.
    """
    fault_type = "Receiver" if http_status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{_NAMESPACE}"><Error><Type>{fault_type}</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>local</RequestId></ErrorResponse>"
    )
    return http_status, {"status": str(http_status), "Content-Type": "text/xml"}, body


def _assume_role(orig: Callable[[TokenResponse], Any]) -> Callable[..., Any]:
    """AssumeRole: recorded, answered late if told to, then failed if told to, refused if the role is
    missing, else moto's."""

    def assume_role(self: TokenResponse) -> Any:
        role_arn = str(self._get_param("RoleArn") or "")
        with _LOCK:
            _CALLS.append(
                AssumeRoleCall(
                    role_arn=role_arn,
                    session_name=str(self._get_param("RoleSessionName") or ""),
                    duration_seconds=self._get_int_param("DurationSeconds", DEFAULT_DURATION_SECONDS),
                    at=time.time(),
                )
            )
            delay = _latency
        if delay:
            time.sleep(delay)  # outside the lock: other calls arrive and answer meanwhile
        fault = _FAULTS.take(role_arn=role_arn)
        if fault is not None:
            return _error(fault.code, _fault_message(fault), fault.http_status)
        if not _role_exists(role_arn):
            message = (
                f"User: {_caller_arn(self)} is not authorized to perform: sts:AssumeRole on resource: "
                f"{role_arn}"
            )
            return _error("AccessDenied", message, 403)
        return orig(self)

    return assume_role


def patch() -> None:
    """Make moto's AssumeRole refuse missing roles, record calls and fail when told to. Idempotent."""
    r = TokenResponse
    if getattr(r, "_fake_aws_sts_installed", False):
        return
    # call_action finds handlers with inspect.isfunction, so this must be a plain function.
    r.assume_role = _assume_role(r.assume_role)  # type: ignore[method-assign]
    r._fake_aws_sts_installed = True  # type: ignore[attr-defined]


__all__ = ["AssumeRoleCall", "calls", "clear_calls", "inject_error", "patch", "reset", "set_latency"]
