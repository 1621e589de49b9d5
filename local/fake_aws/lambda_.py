"""The local Lambda's asynchronous Invoke: the function deferring work to an invocation of itself.

moto 5.2.5 runs a Lambda function only in Docker, and only one it knows (CreateFunction first). Here an
``InvocationType="Event"`` Invoke needs neither: ``patch()`` makes moto's Invoke accept it for any name
or ARN, queue an ``Invocation`` (the name or ARN as sent, URL-decoded; the payload parsed from JSON) and
answer 202 with an empty body, as Lambda does once it has queued the event. Nothing runs it: whoever
plays Lambda's delivery takes the queue (``take_invocations()``, or ``local.world.deliver_invocations()``
to run the function on each). Other invocation types keep moto's behaviour (404 for an unknown
function).

Errors are injectable (``inject_error``), answered as Lambda's REST-JSON protocol answers them: the code
in the ``x-amzn-ErrorType`` header, ``{"Type": …, "message": …}`` in the body; a failed invoke queues
nothing. The queue and faults live here, not on moto's backend, so moto's reset keeps them: call
``reset()``. ``patch()`` changes moto's own response class (handlers are looked up by name on every
request), so it serves ``mock_aws()`` and ``ThreadedMotoServer`` alike.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from moto.awslambda.responses import LambdaResponse

from local.faults import Fault, Faults

OPERATION = "Invoke"  # the one operation this stand-in answers (and fails)


@dataclass(frozen=True)
class Invocation:
    """One asynchronous invoke, as Lambda queued it."""

    function_name: str  # the FunctionName sent: a name, a partial or full ARN (qualifier included)
    payload: Any  # the JSON payload, parsed ({} when none was sent, as Lambda passes it)


_LOCK = threading.Lock()  # moto's threaded server answers on several threads
_QUEUE: list[Invocation] = []
_FAULTS = Faults()


# --- control --------------------------------------------------------------------------------------------


def take_invocations() -> list[Invocation]:
    """The asynchronous invocations queued since the last take (or reset()), oldest first; the queue is
    left empty."""
    with _LOCK:
        taken = list(_QUEUE)
        _QUEUE.clear()
    return taken


def inject_error(
    operation: str, code: str, *, http_status: int = 400, message: str | None = None, times: int = 1
) -> None:
    """Fail the next ``times`` asynchronous invokes (-1: until reset()) with ``code``, e.g.
    ``TooManyRequestsException`` 429, ``AccessDeniedException`` 403, ``ResourceNotFoundException`` 404.

    ``operation`` is ``"Invoke"``, the only one answered here (the same signature as the other fakes).
    """
    if operation != OPERATION:
        raise ValueError(f"the local Lambda fails only {OPERATION}, not {operation!r}")
    _FAULTS.add(code, http_status, message, times, "times")


def reset() -> None:
    """Forget queued invocations and injected faults."""
    with _LOCK:
        _QUEUE.clear()
    _FAULTS.clear()


# --- the patch ------------------------------------------------------------------------------------------


def _function_arn(self: LambdaResponse, name_or_arn: str) -> str:
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    return f"arn:{self.partition}:lambda:{self.region}:{self.current_account}:function:{name_or_arn}"


def _fault_message(self: LambdaResponse, fault: Fault, function_name: str) -> str:
    if fault.message is not None:
        return fault.message
    if fault.code == "AccessDeniedException":
        role = f"arn:{self.partition}:sts::{self.current_account}:assumed-role/local-kill-switch/local"
        return (
            f"User: {role} is not authorized to perform: lambda:InvokeFunction on resource: "
            f"{_function_arn(self, function_name)} because no identity-based policy allows the "
            "lambda:InvokeFunction action"
        )
    if fault.code == "TooManyRequestsException":
        return "Rate Exceeded."
    if fault.code == "ResourceNotFoundException":
        return f"Function not found: {_function_arn(self, function_name)}"
    return f"{fault.code} injected by local.fake_aws"


# moto's call_action adds the x-amzn-RequestId header to both answers.


def _error(code: str, message: str, http_status: int) -> tuple[int, dict[str, str], str]:
    """Lambda's error answer: botocore reads the code from x-amzn-ErrorType, the message from the body."""
    headers = {
        "status": str(http_status),
        "Content-Type": "application/json",
        "x-amzn-ErrorType": code,
    }
    body = {"Type": "Service" if http_status >= 500 else "User", "message": message}
    return http_status, headers, json.dumps(body)


def _accepted() -> tuple[int, dict[str, str], str]:
    return 202, {"status": "202", "Content-Length": "0"}, ""


def _invoke(orig: Callable[[LambdaResponse], Any]) -> Callable[..., Any]:
    """Invoke: an asynchronous one is queued here, whatever moto knows; any other goes to moto."""

    def invoke(self: LambdaResponse) -> Any:
        if self.headers.get("X-Amz-Invocation-Type") != "Event":
            return orig(self)
        # .../functions/{FunctionName}/invocations, the name URL-encoded (an ARN's colons), as moto reads it
        function_name = unquote(self.path.split("?", 1)[0].rstrip("/").rsplit("/", 2)[-2])
        fault = _FAULTS.take()
        if fault is not None:
            return _error(fault.code, _fault_message(self, fault, function_name), fault.http_status)
        raw = self.body or "{}"
        try:
            payload = json.loads(raw)
        except ValueError:
            return _error("InvalidRequestContentException", "Could not parse request body into json", 400)
        with _LOCK:
            _QUEUE.append(Invocation(function_name, payload))
        return _accepted()

    return invoke


def patch() -> None:
    """Make moto's Lambda accept and queue asynchronous invokes. Idempotent."""
    r = LambdaResponse
    if getattr(r, "_fake_aws_installed", False):
        return
    # call_action finds handlers with inspect.isfunction, so this must be a plain function.
    r.invoke = _invoke(r.invoke)  # type: ignore[method-assign]
    r._fake_aws_installed = True  # type: ignore[attr-defined]


__all__ = ["Invocation", "inject_error", "patch", "reset", "take_invocations"]
