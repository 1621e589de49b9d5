"""Injected failures, one mechanism for every local stand-in (CodeDeploy, SSM, Lambda, STS): a fault
answers the next calls it matches with an AWS error, `remaining` times (-1: until cleared), in the
order faults were added.

Each stand-in keeps one `Faults` and answers a taken fault in its own service's error protocol.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    code: str
    http_status: int
    message: str | None
    remaining: int  # -1: forever
    match: dict[str, Any] = field(default_factory=dict)  # the call's fields it is for; {}: every call


class Faults:
    """The faults one fake was told to inject; safe to use from moto's server threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self, code: str, http_status: int, message: str | None, times: int, times_name: str, **match: Any
    ) -> None:
        """Fail the next `times` calls whose fields equal `match` (the caller's own name for `times`
        in the error)."""
        if times == 0 or times < -1:
            raise ValueError(f"{times_name} must be positive or -1")
        with self._lock:
            self._faults.append(Fault(code, http_status, message, times, match))

    def take(self, **call: Any) -> Fault | None:
        """The first fault that matches this call, counted down (and dropped when spent), or None."""
        with self._lock:
            for fault in self._faults:
                if all(call.get(key) == value for key, value in fault.match.items()):
                    if fault.remaining > 0:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
